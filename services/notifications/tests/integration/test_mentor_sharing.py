"""A student who consented to share flags with their mentor: the current mentor (learned from
mentor.assigned, forgotten at mentorship.ended) gets a routine nudge without any wellbeing detail."""

import json

import pytest

from medsupport_shared.event_types import FlagRaised, MentorAssigned, MentorshipEnded
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.testing import auth, eventually, running

from .conftest import wait_for_consumer

pytestmark = pytest.mark.integration
MENTOR = auth("m1", "mentor")


async def inbox(client, who, *roles):
    return (await client.get("/v1/inbox", headers=auth(who, *roles))).json()["items"]


def flag(student, flag_id, *, shared):
    data = FlagRaised(
        flag_id=flag_id,
        student_id=student,
        severity="urgent",
        reasons=["phq9_item9_positive"],
        instrument="phq9",
        raised_at=utcnow(),
        share_with_mentor=shared,
    )
    return new_event(data, source="/services/wellbeing")


def mentorship(event_type, student, **extra):
    fields = {"assignment_id": f"a-{student}", "mentor_id": "m1", "mentee_id": student}
    return new_event(event_type(**fields, **extra), source="/services/mentorship")


async def test_the_mentor_hears_only_with_consent_only_while_mentoring_and_never_the_detail(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        for student in ("s1", "s2"):
            await stack.publisher.publish(mentorship(MentorAssigned, student, assigned_at=utcnow(), score=3.0))
        await eventually(lambda: _mentor_inbox_has(client, 2))  # the two assignment notices
        await stack.publisher.publish(flag("s1", "f1", shared=True))
        await stack.publisher.publish(flag("s2", "f2", shared=False))
        await stack.publisher.publish(flag("s2", "f3", shared=True))  # s2 ended below, after this one
        await eventually(lambda: _mentor_inbox_has(client, 4))
        await stack.publisher.publish(mentorship(MentorshipEnded, "s2", ended_at=utcnow(), ended_by="mentee"))
        await eventually(lambda: _mentor_inbox_has(client, 5))  # the ending notice
        await stack.publisher.publish(flag("s2", "f4", shared=True))  # no longer s2's mentor
        await stack.publisher.publish(flag("s9", "marker", shared=False))
        await eventually(lambda: _counsellor_has(client, "marker"))

        nudges = [a for a in await inbox(client, "m1", "mentor") if a["event_type"] == "flag.raised"]
        assert sorted(a["subject_id"] for a in nudges) == ["s1", "s2"]
        for nudge in nudges:
            assert nudge["severity"] == "routine" and nudge["reasons"] == []
            assert nudge["link"] == f"/mentorship/assignments/a-{nudge['subject_id']}"
            assert "phq9" not in json.dumps(nudge) and nudge["urgent"] is False
        counsellor = await inbox(client, "c1", "counsellor")  # every flag, as always (s2's three grouped)
        assert sorted(a["subject_id"] for a in counsellor) == ["s1", "s2", "s9"]
        assert all(a["reasons"] == ["phq9_item9_positive"] for a in counsellor)


async def _mentor_inbox_has(client, n):
    return len(await inbox(client, "m1", "mentor")) == n


async def _counsellor_has(client, flag_id):
    return any(a["link"].endswith(flag_id) for a in await inbox(client, "c1", "counsellor"))
