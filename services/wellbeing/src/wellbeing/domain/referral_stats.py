"""Referral figures for leaders (pure): per calendar month, how many referrals and how long to first contact,
suppressed under the minimum group size.

Only whole months that have ended are given, so asking again after one more referral changes no figure
(differencing a month in progress would single a student out); a month under the group size shows no
figure at all, not even its count, and its kinds are not split out separately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from statistics import median

from wellbeing.domain.referrals import Referral


@dataclass(frozen=True)
class MonthFigures:
    month: str
    """``YYYY-MM``"""
    suppressed: bool
    referrals: int | None = None
    self_referrals: int | None = None
    concerns: int | None = None
    contacted: int | None = None
    median_hours_to_first_contact: float | None = None


def month_of(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m")


def months_back(now: datetime, count: int) -> list[str]:
    """The ``count`` whole months that ended before ``now``'s month, oldest first."""
    year, month = now.year, now.month
    out = []
    for _ in range(count):
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
        out.append(f"{year:04d}-{month:02d}")
    return out[::-1]


def first_month_start(now: datetime, count: int) -> datetime:
    year, month = (int(part) for part in months_back(now, count)[0].split("-"))
    return datetime(year, month, 1, tzinfo=UTC)


def monthly_figures(
    referrals: list[Referral], *, now: datetime, months: int, min_group_size: int
) -> list[MonthFigures]:
    wanted = months_back(now, months)
    by_month: dict[str, list[Referral]] = {m: [] for m in wanted}
    for referral in referrals:
        if (key := month_of(referral.created_at)) in by_month:
            by_month[key].append(referral)
    figures = []
    for month in wanted:
        group = by_month[month]
        students = {r.student_id for r in group}
        kinds = [sum(1 for r in group if r.kind == kind) for kind in ("self", "concern")]
        # A split by kind under the group size would isolate someone: then the month is suppressed whole.
        if len(students) < min_group_size or any(0 < k < min_group_size for k in kinds):
            figures.append(MonthFigures(month=month, suppressed=True))
            continue
        waits = [
            (r.first_contact_at - r.created_at).total_seconds() / 3600 for r in group if r.first_contact_at is not None
        ]
        figures.append(
            MonthFigures(
                month=month,
                suppressed=False,
                referrals=len(group),
                self_referrals=kinds[0],
                concerns=kinds[1],
                contacted=len(waits),
                median_hours_to_first_contact=round(median(waits), 1) if len(waits) >= min_group_size else None,
            )
        )
    return figures
