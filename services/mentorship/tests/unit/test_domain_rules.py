"""The pure rules of assignments and reminders (no repository at all)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mentorship.domain.assignments import Assignment, side_of
from mentorship.domain.meetings import quiet_since, reminder_due, reminder_id

START = datetime(2026, 1, 1, tzinfo=UTC)
ACTIVE = Assignment(id="a1", mentor_id="m1", mentee_id="s1", status="active", how="manual", assigned_at=START)


def test_the_sides_of_an_assignment() -> None:
    assert side_of(ACTIVE, "m1", admin=True) == "mentor"  # a mentor who is also an admin acts as the mentor
    assert side_of(ACTIVE, "s1", admin=False) == "mentee"
    assert side_of(ACTIVE, "x", admin=True) == "admin"
    assert side_of(ACTIVE, "x", admin=False) is None


def test_ending_keeps_everything_else() -> None:
    ended = ACTIVE.ended(at=START + timedelta(days=1), by="admin", encrypted_reason="sealed")
    assert (ended.status, ended.ended_by, ended.end_reason, ended.active) == ("ended", "admin", "sealed", False)
    assert (
        ended.model_copy(update={"status": "active", "ended_at": None, "ended_by": None, "end_reason": None}) == ACTIVE
    )


def test_a_reminder_is_due_after_a_quiet_period_and_named_by_its_start() -> None:
    period = timedelta(days=28)
    assert not reminder_due(ACTIVE, now=START + period - timedelta(seconds=1), period=period)
    assert reminder_due(ACTIVE, now=START + period, period=period)
    met = ACTIVE.model_copy(update={"last_meeting_at": START + timedelta(days=10)})
    assert quiet_since(met) == START + timedelta(days=10) and not reminder_due(met, now=START + period, period=period)
    assert reminder_id(ACTIVE) == reminder_id(ACTIVE.model_copy()) != reminder_id(met)
    assert len(reminder_id(ACTIVE)) == 32
