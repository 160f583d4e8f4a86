from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from medsupport_cli.rota_ical import shifts_from_ical

STAFF = {"c1", "c2", "c3"}
EMAILS = {"Ada@Med.example.edu": "c1", "ben@med.example.edu": "c2"}
LONDON = ZoneInfo("Europe/London")
WINDOW = {"window_start": datetime(2026, 12, 1, tzinfo=UTC), "window_end": datetime(2026, 12, 15, tzinfo=UTC)}


def feed(*events: str) -> str:
    body = "".join(
        f"BEGIN:VEVENT\r\nUID:{i}@test\r\nDTSTAMP:20261101T000000Z\r\n{e}END:VEVENT\r\n" for i, e in enumerate(events)
    )
    return f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{body}END:VCALENDAR\r\n"


def shifts(text: str):
    return shifts_from_ical(text, staff_ids=STAFF, staff_by_email=EMAILS, zone=LONDON, **WINDOW)


def test_a_weekly_shift_is_expanded_over_the_window_and_named_by_attendee_email():
    result = shifts(
        feed(
            "SUMMARY:Counselling on call\r\nDTSTART:20261202T080000Z\r\nDTEND:20261202T200000Z\r\n"
            "RRULE:FREQ=WEEKLY\r\nATTENDEE;CN=Ada:mailto:ada@med.example.edu\r\n"
        )
    )
    assert result.problems == []
    assert result.shifts == [
        {"staff_id": "c1", "start": "2026-12-02T08:00:00Z", "end": "2026-12-02T20:00:00Z"},
        {"staff_id": "c1", "start": "2026-12-09T08:00:00Z", "end": "2026-12-09T20:00:00Z"},
    ]


def test_explicit_staff_id_summary_all_day_floating_times_and_cancelled_events():
    result = shifts(
        feed(
            "SUMMARY:night\r\nX-MEDSUPPORT-STAFF-ID:c3\r\nDTSTART:20261203T200000Z\r\nDURATION:PT12H\r\n",
            "SUMMARY:c2\r\nDTSTART;VALUE=DATE:20261205\r\nDTEND;VALUE=DATE:20261206\r\n",
            "SUMMARY:ben@med.example.edu\r\nDTSTART:20261210T090000\r\nDTEND:20261210T170000\r\n",
            "SUMMARY:c1\r\nSTATUS:CANCELLED\r\nDTSTART:20261204T080000Z\r\nDTEND:20261204T200000Z\r\n",
        )
    )
    assert result.problems == []
    assert result.shifts == [
        {"staff_id": "c3", "start": "2026-12-03T20:00:00Z", "end": "2026-12-04T08:00:00Z"},
        {"staff_id": "c2", "start": "2026-12-05T00:00:00Z", "end": "2026-12-06T00:00:00Z"},  # London = UTC in Dec
        {"staff_id": "c2", "start": "2026-12-10T09:00:00Z", "end": "2026-12-10T17:00:00Z"},
    ]


def test_an_event_naming_nobody_in_the_directory_is_a_problem_not_a_silent_gap():
    result = shifts(
        feed(
            "SUMMARY:Dr Who\r\nDTSTART:20261202T080000Z\r\nDTEND:20261202T200000Z\r\n",
            "SUMMARY:x\r\nX-MEDSUPPORT-STAFF-ID:ghost\r\nDTSTART:20261203T080000Z\r\nDTEND:20261203T200000Z\r\n",
        )
    )
    assert result.shifts == []
    assert len(result.problems) == 2 and all("names nobody" in p for p in result.problems)


def test_a_file_that_is_not_a_calendar_is_one_problem():
    assert shifts("name,email\nada,ada@x\n").problems[0].startswith("not an iCalendar feed")
