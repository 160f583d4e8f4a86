"""The overdue sweep emits feedback.overdue exactly once per request, also across restarts and a crash."""

import pytest

from feedback.feedback_requests import overdue_event_id
from medsupport_shared.event_types import FeedbackOverdue
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.outbox import outbox_entry
from medsupport_shared.testing import auth, eventually

from .conftest import feedback_settings

pytestmark = pytest.mark.integration

S1, F1 = auth("s1", "student"), auth("f1", "faculty")


def ask(kind="encounter", context_id="lp-1"):
    return {"assessor_id": "f1", "context": {"kind": kind, "id": context_id}}


async def sweeps_advance(stack, by):
    start = stack.ctx.sweeps.get("overdue", 0)
    await eventually(lambda: stack.ctx.sweeps.get("overdue", 0) >= start + by, timeout=20, message="sweeps ran")


async def test_overdue_emitted_exactly_once_across_a_restart(make_stack, isolation):
    settings = feedback_settings(isolation, request_due_days_by_kind={"encounter": 0.0})
    async with make_stack(settings) as stack:
        due_now = (await stack.client.post("/v1/feedback/requests", json=ask(), headers=S1)).json()
        later = (await stack.client.post("/v1/feedback/requests", json=ask("rotation", "r1"), headers=S1)).json()
        assert later["due_at"] > due_now["due_at"]
        (event,) = await stack.reader.wait_for(
            lambda e: e.type == "feedback.overdue" and e.data["request_id"] == due_now["id"]
        )
        assert event.id == overdue_event_id(due_now["id"]) and event.subject == "s1"
        assert event.data["assessor_id"] == "f1" and event.data["context"] == "encounter:lp-1"
        await sweeps_advance(stack, 5)
        assert len(stack.events("feedback.overdue", request_id=due_now["id"])) == 1
        assert stack.events("feedback.overdue", request_id=later["id"]) == []
        view = (await stack.client.get(f"/v1/feedback/requests/{due_now['id']}", headers=F1)).json()
        assert view["overdue"] is True and view["overdue_at"] is not None
        assert "medsupport_feedback_requests_overdue_total" in (await stack.client.get("/metrics")).text

    async with make_stack(settings) as restarted:
        await sweeps_advance(restarted, 5)
        await restarted.reader.wait_for(lambda e: e.type == "feedback.requested", count=2)
        assert len(restarted.events("feedback.overdue", request_id=due_now["id"])) == 1
        # fulfilling late records the turnaround, and no second overdue event follows
        body = {
            "student_id": "s1",
            "context": {"kind": "encounter", "id": "lp-1"},
            "strengths": "Good asepsis.",
            "areas_for_growth": "Explain each step to the patient.",
            "request_id": due_now["id"],
        }
        assert (await restarted.client.post("/v1/feedback", json=body, headers=F1)).status_code == 201
        await sweeps_advance(restarted, 3)
        assert len(restarted.events("feedback.overdue", request_id=due_now["id"])) == 1


async def test_an_overdue_event_written_before_a_crash_is_published_once_after_restart(make_stack, isolation):
    # Not due yet, so the service's own sweep (its first run races this test's request) never marks it:
    # the write below stands for the sweep's, and only the relay can publish it.
    settings = feedback_settings(isolation, request_due_days_by_kind={"encounter": 1.0})
    async with make_stack(settings, overdue_sweep_interval_seconds=3600) as stack:
        request = (await stack.client.post("/v1/feedback/requests", json=ask(), headers=S1)).json()
        # the crash: the sweep's write happened, the publish did not
        now = utcnow()
        event = new_event(
            FeedbackOverdue(
                request_id=request["id"],
                student_id="s1",
                assessor_id="f1",
                context="encounter:lp-1",
                due_at=now,
                overdue_at=now,
            ),
            source=settings.source,
            event_id=overdue_event_id(request["id"]),
        )
        wrote = await stack.ctx.repo.mark_overdue(
            request_id=request["id"], overdue_at=now, entries=[outbox_entry(event)]
        )
        assert wrote
        again = await stack.ctx.repo.mark_overdue(
            request_id=request["id"], overdue_at=now, entries=[outbox_entry(event)]
        )
        assert not again, "the conditional write happens once"

    async with make_stack(settings) as restarted:
        await restarted.reader.wait_for(
            lambda e: e.type == "feedback.overdue" and e.data["request_id"] == request["id"]
        )
        await sweeps_advance(restarted, 5)

        async def outbox_empty():
            doc = await restarted.db["feedback_requests"].find_one({"_id": request["id"]})
            return doc.get("outbox") == []

        await eventually(outbox_empty, message="the relay published the pending event")
        assert len(restarted.events("feedback.overdue", request_id=request["id"])) == 1
