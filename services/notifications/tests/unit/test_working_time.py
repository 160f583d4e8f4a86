"""Escalation due times counted on working days only (Monday–Friday), in the institution's zone."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifications.domain.working_time import due_at
from notifications.routing import DEFAULT_RULES

UTC_ZONE = ZoneInfo("UTC")
DAY = 24 * 60


def at(day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)  # 2026-11-23 is a Monday


@pytest.mark.parametrize(
    ("start", "minutes", "expected"),
    [
        (at(23), DAY, at(24)),  # Monday → Tuesday
        (at(26), DAY, at(27)),  # Thursday → Friday
        (at(27), DAY, at(30)),  # Friday 10:00 → Monday 10:00
        (at(27, 23, 30), 60, at(30, 0, 30)),  # the last half hour of Friday, then Monday
        (at(28), DAY, datetime(2026, 12, 1, 0, 0, tzinfo=UTC)),  # Saturday: Monday counts whole → Tuesday 00:00
        (at(29, 23), 30, at(30, 0, 30)),  # Sunday night: nothing counts until Monday
        (at(23), 5 * DAY, at(30)),  # a working week
    ],
)
def test_working_days_skip_weekends(start, minutes, expected):
    assert due_at(start, minutes, working_days_only=True, zone=UTC_ZONE) == expected


def test_plain_minutes_count_every_day():
    assert due_at(at(27), DAY, working_days_only=False, zone=UTC_ZONE) == at(28)


def test_the_weekend_is_the_institutions_weekend():
    tokyo = ZoneInfo("Asia/Tokyo")  # Friday 20:00 UTC is already Saturday 05:00 in Tokyo
    assert due_at(at(27, 20), 60, working_days_only=True, zone=tokyo) == at(29, 16)  # Monday 01:00 Tokyo


@given(st.integers(0, 6 * 24 * 60), st.integers(1, 3 * DAY))
def test_never_earlier_than_plain_time_and_never_lands_on_a_weekend(offset, minutes):
    start = at(23) + timedelta(minutes=offset)
    due = due_at(start, minutes, working_days_only=True, zone=UTC_ZONE)
    assert due >= start + timedelta(minutes=minutes)
    assert due.weekday() < 5 or ((due.hour, due.minute) == (0, 0) and due.weekday() == 5)


def test_an_unacknowledged_elevated_flag_goes_to_the_lead_after_one_working_day():
    (rule,) = [r for r in DEFAULT_RULES if r.id == "wellbeing-elevated"]
    (step,) = rule.escalation
    assert (step.after_minutes, step.working_days_only, step.target.label()) == (DAY, True, "role:wellbeing_lead")
