"""An on-call rota from an iCalendar feed (pure): each event in the window is a shift of the person it names.

Schools keep on-call rotas in shared calendars. An event names its person by an
``X-MEDSUPPORT-STAFF-ID`` property, else by an attendee's e-mail address, else by a summary that is a
staff id or e-mail; recurring events are expanded, all-day and floating times are read in the rota's
time zone, and cancelled events are left out. An event that names nobody in the directory rejects the
whole feed, so an urgent alert is never routed by a rota with a hole the calendar did not have."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
from icalendar import Calendar


@dataclass
class FeedShifts:
    shifts: list[dict[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def shifts_from_ical(
    feed: bytes | str,
    *,
    staff_ids: set[str],
    staff_by_email: dict[str, str],
    window_start: datetime,
    window_end: datetime,
    zone: ZoneInfo,
) -> FeedShifts:
    result = FeedShifts()
    try:
        calendar = Calendar.from_ical(feed)
    except ValueError as exc:
        result.problems.append(f"not an iCalendar feed: {exc}")
        return result
    emails = {email.lower(): person for email, person in staff_by_email.items()}
    for event in recurring_ical_events.of(calendar).between(window_start, window_end):
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        summary = str(event.get("SUMMARY", "(no summary)"))
        start, end = _instant(event.get("DTSTART"), zone), _end(event, zone)
        label = f"event {summary!r} at {start.isoformat() if start else '?'}"
        if start is None or end is None or end <= start:
            result.problems.append(f"{label}: needs a start and an end after it")
            continue
        person = _person(event, staff_ids, emails)
        if person is None:
            result.problems.append(f"{label}: names nobody in the staff directory")
            continue
        result.shifts.append({"staff_id": person, "start": _rfc3339(start), "end": _rfc3339(end)})
    result.shifts.sort(key=lambda s: (s["start"], s["staff_id"]))
    return result


def _person(event: Any, staff_ids: set[str], emails: dict[str, str]) -> str | None:
    if (explicit := event.get("X-MEDSUPPORT-STAFF-ID")) is not None:
        return str(explicit) if str(explicit) in staff_ids else None
    attendees = event.get("ATTENDEE") or []
    for attendee in attendees if isinstance(attendees, list) else [attendees]:
        address = str(attendee).removeprefix("mailto:").removeprefix("MAILTO:").lower()
        if address in emails:
            return emails[address]
    summary = str(event.get("SUMMARY", "")).strip()
    return summary if summary in staff_ids else emails.get(summary.lower())


def _end(event: Any, zone: ZoneInfo) -> datetime | None:
    if event.get("DTEND") is not None:
        return _instant(event.get("DTEND"), zone)
    start = _instant(event.get("DTSTART"), zone)
    if start is None:
        return None
    if event.get("DURATION") is not None:
        duration: timedelta = event.get("DURATION").dt
        return start + duration
    return start + timedelta(days=1) if not isinstance(event.get("DTSTART").dt, datetime) else None


def _instant(prop: Any, zone: ZoneInfo) -> datetime | None:
    if prop is None:
        return None
    value = prop.dt
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    if isinstance(value, date):  # all-day: from local midnight
        return datetime.combine(value, time(0), tzinfo=zone).astimezone(UTC)
    return None


def _rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
