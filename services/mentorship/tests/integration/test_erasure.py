"""student.erasure.requested leaves no trace of the student in any mentorship collection; what other
people share with them (matching runs, peer groups) stays, without the student."""

from __future__ import annotations

import json

import pytest

from medsupport_shared.event_types import FlagRaised, StudentErasureRequested
from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth, eventually
from mentorship.meeting_reminders import send_meeting_reminders
from mentorship.repository import ERASED

from .conftest import ADMIN, Stack, mentorship_settings, start

pytestmark = pytest.mark.integration

GONE = "student-gone-7f3a"  # distinctive: found as a substring only where it really is
KEPT = "student-kept-2b9c"


async def traces(stack: Stack, needle: str) -> list[str]:
    """Every document of every collection of the service's database that mentions ``needle``."""
    db = stack.app.state.runtime.db
    found = []
    for name in sorted(await db.list_collection_names()):
        async for doc in db[name].find({}):
            if needle in json.dumps(doc, default=str):
                found.append(f"{name}: {doc}")
    return found


async def test_erasure_removes_the_student_from_every_collection(isolation: object) -> None:
    # reminders due at once, swept by hand only
    settings = mentorship_settings(isolation, meeting_reminder_days=1e-9, reminder_sweep_interval_seconds=3600)
    async with start(isolation, settings) as stack:
        c, gone, kept = stack.client, auth(GONE, "student", cohort="2027"), auth(KEPT, "student", cohort="2027")
        await stack.mentor("m1", capacity=3)
        await stack.mentor("m2", capacity=1, languages=["fr"])
        await stack.wants(GONE)
        await stack.wants(KEPT)
        await stack.wants("student-unmatchable", languages=["de"])
        await stack.publish(
            FlagRaised(
                flag_id="f1",
                student_id=GONE,
                severity="elevated",
                reasons=["who5_low"],
                instrument="who5",
                raised_at=utcnow(),
            )
        )
        await eventually(lambda: stack.ctx.repo.priority.find_one({"_id": GONE}), timeout=30)

        # runs: a preview naming both, the student's own on-demand run (kept by key), an admin's run
        preview = (await c.post("/v1/matching/runs", json={"dry_run": True}, headers=ADMIN)).json()
        assert {m["mentee_id"] for m in preview["matches"]} == {GONE, KEPT}
        own = await c.post("/v1/matching/me", headers={**gone, "Idempotency-Key": "find-me-one"})
        assert own.status_code == 201 and own.json()["matches"][0]["mentee_id"] == GONE
        assignment_id = own.json()["matches"][0]["assignment_id"]
        body = {"met_at": "2026-11-20T17:00:00Z", "format": "video", "notes": f"notes of {GONE}"}
        meeting = await c.post(f"/v1/assignments/{assignment_id}/meetings", json=body, headers=gone)
        assert meeting.status_code == 201
        assert (await c.post(f"/v1/assignments/{assignment_id}/end", json={}, headers=gone)).status_code == 200
        assert (await stack.assign("m1", GONE)).status_code == 201  # a second, active mentorship
        assert (await c.post("/v1/matching/runs", json={}, headers=ADMIN)).status_code == 201  # KEPT matched
        assert await send_meeting_reminders(ctx=stack.ctx) == 2

        # peer groups: one the student started, one they facilitate, one they joined
        faculty = auth("f1", "faculty")
        started = (await c.post("/v1/peer-groups", json={"name": "Mine", "size_limit": 3}, headers=gone)).json()
        led = {"name": "Led", "size_limit": 3, "facilitator_id": GONE}
        facilitated = (await c.post("/v1/peer-groups", json=led, headers=faculty)).json()
        joined = (await c.post("/v1/peer-groups", json={"name": "Joined", "size_limit": 2}, headers=faculty)).json()
        for group_id in (started["id"], joined["id"]):
            assert (await c.post(f"/v1/peer-groups/{group_id}/join", headers=gone)).status_code == 200
            assert (await c.post(f"/v1/peer-groups/{group_id}/join", headers=kept)).status_code == 200
        await stack.reader.wait_for(lambda e: e.subject == GONE and e.type == "meeting.reminder_due")
        assert len(await traces(stack, GONE)) >= 10  # the check below can find the student
        kept_replies = stack.app.state.runtime.db["idempotency_keys"]
        assert await kept_replies.count_documents({}) == 1  # the reply to "find-me-one", kept for retries

        erasure = await stack.publish(
            StudentErasureRequested(student_id=GONE, requested_at=utcnow(), requested_by="admin-1"),
            source="/services/wellbeing",
        )
        inbox = stack.app.state.runtime.db["inbox"]
        await eventually(
            lambda: inbox.find_one({"_id": f"mentorship:{erasure.id}"}), timeout=30, message="erasure consumed"
        )

        assert await traces(stack, GONE) == []
        assert await kept_replies.count_documents({}) == 0
        # what others share stays, without the student
        groups = {g["id"]: g for g in (await c.get("/v1/peer-groups", headers=kept)).json()["items"]}
        assert set(groups) == {started["id"], facilitated["id"], joined["id"]}
        assert groups[started["id"]]["members"] == [KEPT] and "created_by" not in groups[started["id"]]
        assert await stack.ctx.repo.groups.count_documents({"created_by": GONE}) == 0
        assert groups[facilitated["id"]]["facilitator_id"] is None
        assert groups[joined["id"]]["members"] == [KEPT]
        runs = [r async for r in stack.ctx.repo.runs.find({})]
        assert len(runs) == 2  # the student's own run went; the preview and the admin's run stay
        kept_preview = next(r for r in runs if r["_id"] == preview["id"])
        assert {m["mentee_id"] for m in kept_preview["matches"]} == {ERASED, KEPT}
        assert kept_preview["unmatched"] == ["student-unmatchable"]
        assert [a["mentee_id"] for a in await stack.active()] == [KEPT]
        # the freed seat and mentor capacity are usable again
        assert (await stack.assign("m1", "student-new")).status_code == 201
        newcomer = auth("student-new", "student")
        assert (await c.post(f"/v1/peer-groups/{joined['id']}/join", headers=newcomer)).status_code == 200
        # a redelivered erasure changes nothing more
        assert (await stack.ctx.repo.erase_student(student_id=GONE))["runs_redacted"] == 0


async def test_a_flag_replayed_after_the_erasure_gives_no_priority_back(isolation: object) -> None:
    from medsupport_shared.kafka import EventPublisher

    async with start(isolation, mentorship_settings(isolation)) as stack:
        flag = FlagRaised(
            flag_id="f1",
            student_id=GONE,
            severity="elevated",
            reasons=["who5_low"],
            instrument="who5",
            raised_at=utcnow(),
        )
        raised = await stack.publish(flag)
        await eventually(lambda: stack.ctx.repo.priority.find_one({"_id": GONE}), timeout=30)
        erasure = await stack.publish(
            StudentErasureRequested(student_id=GONE, requested_at=utcnow(), requested_by=GONE)
        )
        inbox = stack.app.state.runtime.db["inbox"]
        await eventually(lambda: inbox.find_one({"event_id": erasure.id}), timeout=30, message="erasure consumed")
        assert await stack.ctx.repo.priority.find_one({"_id": GONE}) is None

        await inbox.delete_many({"event_id": raised.id})  # as if the inbox had expired it: a true replay
        publisher = EventPublisher(
            bootstrap_servers=stack.settings.kafka_bootstrap_servers,
            topic_prefix=stack.isolation.topic_prefix,
            service="test",
        )
        try:
            await publisher.publish(raised)
        finally:
            await publisher.stop()
        await eventually(lambda: inbox.find_one({"event_id": raised.id}), timeout=30, message="replay consumed")
        assert await stack.ctx.repo.priority.find_one({"_id": GONE}) is None
        assert await traces(stack, GONE) == []
