"""Erasure keeps an urgent flag's chase going until the flag is resolved, and a replay of events from
before the erasure (the inbox forgot them, a new consumer group) re-creates nothing."""

import pytest

from medsupport_shared.event_types import FlagResolved, MentorAssigned, StudentErasureRequested
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.testing import eventually, running

from .conftest import wait_for_consumer

pytestmark = pytest.mark.integration


def erasure(student):
    payload = StudentErasureRequested(student_id=student, requested_at=utcnow(), requested_by=student)
    return new_event(payload, source="/services/wellbeing")


async def count(collection, **query):
    return await collection.count_documents(query)


async def test_an_urgent_flag_alert_outlives_erasure_until_the_flag_is_resolved(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        alerts = app.state.services.repo.alerts
        await stack.flag("s1", severity="urgent")
        await stack.flag("s2", severity="elevated", flag_id="f2")
        await eventually(lambda: count(alerts, subject_id="s1", status="open"), timeout=30)
        await eventually(lambda: count(alerts, subject_id="s2"), timeout=30)
        for student in ("s1", "s2"):
            await stack.publisher.publish(erasure(student))
        await eventually(lambda: _none(alerts, "s2"), timeout=30, message="the elevated flag's alert erased")

        async def marked_pending():  # s1's erasure may come after s2's: they are keyed to other partitions
            kept = await alerts.find({"subject_id": "s1"}).to_list(None)
            return kept if kept and all(a.get("erasure_pending") for a in kept) else None

        kept = await eventually(marked_pending, timeout=30, message="the urgent flag's alerts marked, not erased")
        assert all(a["status"] == "open" for a in kept)  # still chasing
        resolved = FlagResolved(flag_id="f1", student_id="s1", resolved_at=utcnow(), outcome="contacted", cohort="2027")
        await stack.publisher.publish(new_event(resolved, source="/services/wellbeing"))
        try:
            await eventually(lambda: _none(alerts, "s1"), timeout=10, message="erased once the flag is resolved")
        except AssertionError:
            print("DEBUG", await alerts.find({"subject_id": "s1"}, {"outbox": 0}).to_list(None))
            raise


async def _none(alerts, student):
    return await alerts.count_documents({"subject_id": student}) == 0


async def test_events_replayed_after_an_erasure_recreate_nothing(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        repo, db = app.state.services.repo, app.state.runtime.db
        now = utcnow()
        before = [
            new_event(
                MentorAssigned(assignment_id="a1", mentor_id="m1", mentee_id="s1", assigned_at=now, score=0.9),
                source="/services/mentorship",
            ),
        ]
        for event in before:
            await stack.publisher.publish(event)
        elevated = await stack.flag("s1", severity="elevated")
        before.append(elevated)
        await eventually(lambda: count(repo.mentors, _id="s1"), timeout=30)
        await eventually(lambda: count(repo.alerts, subject_id="s1", family="flag"), timeout=30)
        await stack.publisher.publish(erasure("s1"))
        await eventually(lambda: _none(repo.alerts, "s1"), timeout=30)
        # the mentor goes in the same handler, just after the alerts: wait for it rather than race it
        await eventually(lambda: _no_mentor(repo), timeout=30)
        assert "s1" not in repr(await db["erased_students"].find({}).to_list(None))

        ids = [e.id for e in before]
        await db["inbox"].delete_many({"event_id": {"$in": ids}})  # as if the inbox had expired them
        for event in before:
            await stack.publisher.publish(event)
        await eventually(lambda: _handled(db, ids), timeout=30, message="the replayed events were consumed")
        assert await count(repo.mentors, _id="s1") == 0
        assert await count(repo.alerts, subject_id="s1") == 0


async def _handled(db, ids):
    return len(set(await db["inbox"].distinct("event_id", {"event_id": {"$in": ids}}))) == len(ids)


async def _no_mentor(repo):
    return await repo.mentors.count_documents({"_id": "s1"}) == 0
