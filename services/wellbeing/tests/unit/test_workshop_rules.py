"""Workshop seats and sign-up windows (pure)."""

from datetime import UTC, datetime, timedelta

from wellbeing.domain.workshops import Session, may_change_sign_up, reminder_window_start, seat_ids, session_problems

START = datetime(2026, 3, 10, 17, tzinfo=UTC)
SESSION = Session(id="s1", starts_at=START, ends_at=START + timedelta(hours=1), seats=3, location="room 2")


def test_one_unique_slot_per_seat():
    assert seat_ids(SESSION) == ["s1:seat:0", "s1:seat:1", "s1:seat:2"]


def test_a_session_must_end_after_it_starts_and_sign_up_closes_when_it_starts():
    assert session_problems(SESSION) == []
    assert session_problems(Session(id="x", starts_at=START, ends_at=START, seats=1, location="r"))
    assert may_change_sign_up(SESSION, now=START - timedelta(minutes=1))
    assert not may_change_sign_up(SESSION, now=START)
    assert reminder_window_start(START, hours_before=24) == START - timedelta(days=1)
