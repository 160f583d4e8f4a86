"""Feedback requests and the feedback that answers them, as use cases over the in-memory fakes (the same
flows run on the real Kafka and database in tests/integration)."""

import json
from datetime import timedelta

import pytest

from feedback import feedback_items, feedback_requests
from feedback.schemas import FeedbackCreate, FeedbackRequestCreate
from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, NotFound, TooManyRequests, Unprocessable
from medsupport_shared.events import utcnow

from .fakes import fake_context

STUDENT = Principal(sub="student-1", roles=frozenset({"student"}))
ASSESSOR = Principal(sub="dr-khan", roles=frozenset({"faculty"}))
OTHER_FACULTY = Principal(sub="dr-other", roles=frozenset({"faculty"}))
ENCOUNTER = {"kind": "encounter", "id": "lp-1", "label": "Lumbar puncture"}


def ask(**overrides):
    return FeedbackRequestCreate.model_validate_json(
        json.dumps({"assessor_id": ASSESSOR.sub, "context": ENCOUNTER, "note": "Tuesday", **overrides})
    )


def answer(request_id, **overrides):
    body = {
        "student_id": STUDENT.sub,
        "context": ENCOUNTER,
        "strengths": "Calm and clear.",
        "areas_for_growth": "Check the landmarks twice.",
        "request_id": request_id,
        **overrides,
    }
    return FeedbackCreate.model_validate_json(json.dumps(body))


async def test_feedback_on_a_request_fulfils_it_and_both_events_leave():
    ctx = fake_context()
    asked = await feedback_requests.request_feedback(ctx=ctx, principal=STUDENT, body=ask())
    assert asked["status"] == "open" and asked["note"] == "Tuesday"

    written = await feedback_items.submit_feedback(ctx=ctx, principal=ASSESSOR, body=answer(asked["id"]))

    request = await feedback_requests.get_request(ctx=ctx, principal=STUDENT, request_id=asked["id"])
    assert request["status"] == "fulfilled"
    assert request["feedback_id"] == written["id"]
    assert request["turnaround_seconds"] is not None and request["turnaround_seconds"] >= 0
    [requested] = ctx.outbox.of_type("feedback.requested")
    [submitted] = ctx.outbox.of_type("feedback.submitted")
    assert requested.data["request_id"] == asked["id"]
    assert submitted.data["feedback_id"] == written["id"]
    assert "Calm" not in submitted.model_dump_json()  # events carry ids, never text
    received = await feedback_items.list_feedback(
        ctx=ctx, principal=STUDENT, view=None, context_kind=None, limit=None, cursor=None
    )
    assert [f["id"] for f in received["items"]] == [written["id"]]
    assert received["items"][0]["strengths"] == "Calm and clear."


async def test_free_text_is_stored_encrypted():
    ctx = fake_context()
    asked = await feedback_requests.request_feedback(ctx=ctx, principal=STUDENT, body=ask())
    written = await feedback_items.submit_feedback(ctx=ctx, principal=ASSESSOR, body=answer(asked["id"]))
    stored = ctx.repo.feedback[written["id"]]
    assert "Calm" not in json.dumps(stored, default=str)
    assert "Tuesday" not in json.dumps(ctx.repo.requests[asked["id"]], default=str)


async def test_only_the_assessor_asked_may_answer_and_in_the_requests_context():
    ctx = fake_context()
    asked = await feedback_requests.request_feedback(ctx=ctx, principal=STUDENT, body=ask())
    with pytest.raises(NotFound, match="addressed to you"):
        await feedback_items.submit_feedback(ctx=ctx, principal=OTHER_FACULTY, body=answer(asked["id"]))
    elsewhere = {"kind": "rotation", "id": "cardio"}
    with pytest.raises(Unprocessable, match="request's context"):
        await feedback_items.submit_feedback(ctx=ctx, principal=ASSESSOR, body=answer(asked["id"], context=elsewhere))
    assert ctx.repo.feedback == {}
    assert ctx.outbox.of_type("feedback.submitted") == []


async def test_a_request_is_answered_once_and_a_cancelled_one_not_at_all():
    ctx = fake_context()
    asked = await feedback_requests.request_feedback(ctx=ctx, principal=STUDENT, body=ask())
    await feedback_items.submit_feedback(ctx=ctx, principal=ASSESSOR, body=answer(asked["id"]))
    with pytest.raises(Conflict, match="fulfilled"):
        await feedback_items.submit_feedback(ctx=ctx, principal=ASSESSOR, body=answer(asked["id"]))

    second = await feedback_requests.request_feedback(ctx=ctx, principal=STUDENT, body=ask())
    cancelled = await feedback_requests.cancel_request(ctx=ctx, principal=STUDENT, request_id=second["id"])
    assert cancelled["status"] == "cancelled"
    with pytest.raises(Conflict, match="already cancelled"):
        await feedback_requests.cancel_request(ctx=ctx, principal=STUDENT, request_id=second["id"])
    with pytest.raises(Conflict, match="cancelled"):
        await feedback_items.submit_feedback(ctx=ctx, principal=ASSESSOR, body=answer(second["id"]))


async def test_requests_per_hour_are_limited():
    ctx = fake_context(feedback_requests_per_hour=2)
    for _ in range(2):
        await feedback_requests.request_feedback(ctx=ctx, principal=STUDENT, body=ask())
    with pytest.raises(TooManyRequests) as refused:
        await feedback_requests.request_feedback(ctx=ctx, principal=STUDENT, body=ask())
    assert refused.value.retry_after == 3600
    assert len(ctx.repo.requests) == 2


async def test_an_overdue_request_emits_feedback_overdue_once():
    ctx = fake_context()
    asked = await feedback_requests.request_feedback(ctx=ctx, principal=STUDENT, body=ask())
    ctx.repo.requests[asked["id"]]["due_at"] = utcnow() - timedelta(minutes=1)

    assert await feedback_requests.sweep_overdue(ctx=ctx) == 1
    assert await feedback_requests.sweep_overdue(ctx=ctx) == 0

    [overdue] = ctx.outbox.of_type("feedback.overdue")
    assert overdue.id == feedback_requests.overdue_event_id(asked["id"])
    request = await feedback_requests.get_request(ctx=ctx, principal=ASSESSOR, request_id=asked["id"])
    assert request["overdue"] is True and request["overdue_at"] is not None


async def test_the_sweep_closes_a_request_whose_feedback_was_written_before_a_crash():
    ctx = fake_context()
    asked = await feedback_requests.request_feedback(ctx=ctx, principal=STUDENT, body=ask())
    written = await feedback_items.submit_feedback(ctx=ctx, principal=ASSESSOR, body=answer(asked["id"]))
    stored = ctx.repo.requests[asked["id"]]
    stored.update(status="open", feedback_id=None, due_at=utcnow() - timedelta(minutes=1))  # the crash

    assert await feedback_requests.sweep_overdue(ctx=ctx) == 0

    assert stored["status"] == "fulfilled" and stored["feedback_id"] == written["id"]
    assert ctx.outbox.of_type("feedback.overdue") == []
