"""Cohort aggregates for faculty and admins, built to resist differencing (pure).

Every figure is a function of whole calendar cells only, whatever the caller asks for:
- the unit is a student's latest check-in of an ISO week; a "month" is the ISO weeks whose Thursday
  falls in that calendar month (the ISO 8601 rule that gives a week its year), so every month is
  exactly the union of its weeks and the two granularities never straddle each other;
- the window starts at the first week of a month (``window_start``), so moving ``since`` by a day or
  a week changes which whole months are listed, never a figure;
- within a month, weeks are suppressed together (``hide_weeks``): never one hidden week alone, and the
  hidden weeks together hold at least ``min_group`` students, so month − shown weeks is never fewer
  than ``min_group`` students;
- band counts are published at month level only (weeks give a count and a mean), with the
  complementary suppression of ``suppress_small_cells`` and no key at all for a hidden band;
- a month still in progress (and each of its weeks) shows its student count only: means and bands
  come once the month has ended, so its figures are computed once, on data that no longer changes;
  otherwise asking before and after one more check-in would give that student's score, and a week
  shown early but hidden with a later small week would undo the complementary suppression.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from statistics import mean
from typing import Any, Literal

from medsupport_shared.aggregates import suppress_small_cells

Period = Literal["month", "week"]
Row = dict[str, Any]


def week_start(when: datetime | date) -> date:
    day = when.date() if isinstance(when, datetime) else when
    return day - timedelta(days=day.weekday())


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def month_label(monday: date) -> str:
    thursday = monday + timedelta(days=3)
    return f"{thursday.year}-{thursday.month:02d}"


def _first_monday(year: int, month: int) -> date:
    """Monday of the first ISO week whose Thursday falls in the month."""
    first = date(year, month, 1)
    return first + timedelta(days=(3 - first.weekday()) % 7) - timedelta(days=3)


def window_start(now: datetime, months: int) -> datetime:
    """Monday of the first week of the month that held ``now`` minus ``months`` × 31 days."""
    thursday = week_start(now - timedelta(days=31 * months)) + timedelta(days=3)
    return datetime.combine(_first_monday(thursday.year, thursday.month), time.min, tzinfo=UTC)


def month_has_ended(label: str, now: datetime) -> bool:
    year, month = (int(part) for part in label.split("-"))
    following = _first_monday(year + month // 12, month % 12 + 1)
    return datetime.combine(following, time.min, tzinfo=UTC) <= now


def hide_weeks(students_by_week: dict[date, set[str]], *, min_group: int) -> set[date]:
    """The weeks of one month to suppress: those under ``min_group`` students, then further weeks,
    smallest first, until the hidden ones are not alone and hold ``min_group`` distinct students
    together (or all are hidden), so subtracting the shown weeks from the month reveals no one."""
    hidden = {week for week, students in students_by_week.items() if len(students) < min_group}
    shown = sorted((len(s), week) for week, s in students_by_week.items() if week not in hidden)

    def hidden_students() -> int:
        return len(set().union(*(students_by_week[w] for w in hidden)))

    while hidden and shown and (len(hidden) == 1 or hidden_students() < min_group):
        hidden.add(shown.pop(0)[1])
    return hidden


def _weekly_entries(rows: list[Row]) -> dict[tuple[str, str], dict[date, dict[str, Row]]]:
    """(instrument, month) -> week -> student -> that student's latest check-in of the week."""
    months: dict[tuple[str, str], dict[date, dict[str, Row]]] = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        monday = week_start(row["recorded_at"])
        week = months[(row["instrument"], month_label(monday))][monday]
        kept = week.get(row["student_id"])
        if kept is None or row["recorded_at"] > kept["recorded_at"]:
            week[row["student_id"]] = row
    return months


def _group(
    instrument: str, period: str, entries: list[Row] | None, bands: dict[str, int] | None, *, ended: bool
) -> Row:
    hidden = {"suppressed": True, "students": None, "bands": None, "mean_score": None, "in_progress": not ended}
    if entries is None:
        return {"instrument": instrument, "period": period, **hidden}
    students = len({e["student_id"] for e in entries})
    if not ended:
        return {"instrument": instrument, "period": period, **hidden, "suppressed": False, "students": students}
    return {
        "instrument": instrument,
        "period": period,
        "suppressed": False,
        "students": students,
        "bands": bands,
        "mean_score": round(mean(e["score"] for e in entries), 2),
        "in_progress": False,
    }


def _month_bands(weeks: dict[date, dict[str, Row]], *, min_group: int) -> dict[str, int]:
    latest: dict[str, Row] = {}
    for week in sorted(weeks):
        latest.update(weeks[week])
    counts: dict[str, int] = defaultdict(int)
    for row in latest.values():
        counts[row["band"]] += 1
    shown = suppress_small_cells(dict(counts), min_group=min_group)
    return {band: count for band, count in sorted(shown.items()) if count is not None}


def cohort_summary(rows: list[Row], *, period: Period, min_group: int, now: datetime | None = None) -> list[Row]:
    """One entry per (instrument, period): distinct students, mean score of the weekly check-ins and
    its change from the previous shown period; for months also counts by band (each student's latest
    check-in of the month). Rows must cover whole months (``window_start``); a month that has not
    ended by ``now`` (None: every month has ended) gives counts only."""
    out: list[Row] = []
    for (instrument, month), weeks in sorted(_weekly_entries(rows).items()):
        ended = now is None or month_has_ended(month, now)
        students_by_week = {week: set(members) for week, members in weeks.items()}
        month_students = set().union(*students_by_week.values())
        if period == "month":
            if len(month_students) < min_group:
                out.append(_group(instrument, month, None, None, ended=ended))
                continue
            entries = [e for members in weeks.values() for e in members.values()]
            bands = _month_bands(weeks, min_group=min_group) if ended else None
            out.append(_group(instrument, month, entries, bands, ended=ended))
            continue
        hidden = hide_weeks(students_by_week, min_group=min_group)
        for week in sorted(weeks):
            shown = None if week in hidden else list(weeks[week].values())
            out.append(_group(instrument, week_label(week), shown, None, ended=ended))
    previous: dict[str, float] = {}
    for group in out:
        if group["mean_score"] is None:
            group["change_from_previous"] = None
            continue
        before = previous.get(group["instrument"])
        group["change_from_previous"] = None if before is None else round(group["mean_score"] - before, 2)
        previous[group["instrument"]] = group["mean_score"]
    return out
