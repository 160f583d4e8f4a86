"""When an escalation step comes due: plain elapsed time, or time counted on working days only (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

WORKING_WEEKDAYS = frozenset(range(5))  # Monday..Friday


def due_at(start: datetime, minutes: float, *, working_days_only: bool, zone: ZoneInfo) -> datetime:
    """``start`` plus ``minutes``; with ``working_days_only`` only Monday–Friday time in ``zone`` counts,
    so "one working day" (1440 minutes) from Friday 10:00 is Monday 10:00, and from Saturday is Tuesday 00:00."""
    if not working_days_only:
        return start + timedelta(minutes=minutes)
    cursor = start.astimezone(zone)
    remaining = timedelta(minutes=minutes)
    while True:
        midnight = datetime.combine(cursor.date() + timedelta(days=1), datetime.min.time(), tzinfo=zone)
        if cursor.weekday() in WORKING_WEEKDAYS:
            available = midnight - cursor
            if remaining <= available:
                return (cursor + remaining).astimezone(start.tzinfo)
            remaining -= available
        cursor = midnight
