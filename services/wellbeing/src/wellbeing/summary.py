"""Cohort aggregates for faculty and admins: counts by band and a trend per instrument and period,
with every group of fewer than ``min_group`` students suppressed (pure)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from statistics import mean
from typing import Any, Literal

Period = Literal["month", "week"]


def period_of(when: datetime, period: Period) -> str:
    if period == "week":
        year, week, _ = when.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{when.year}-{when.month:02d}"


def cohort_summary(rows: list[dict[str, Any]], *, period: Period, min_group: int) -> list[dict[str, Any]]:
    """One entry per (instrument, period): distinct students, counts by band (each student's latest
    check-in in the period), mean score and its change from the previous period. A group under
    ``min_group`` students is suppressed entirely, and so is any band cell under ``min_group``."""
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["instrument"], period_of(row["recorded_at"], period), row["student_id"])
        if key not in latest or row["recorded_at"] > latest[key]["recorded_at"]:
            latest[key] = row
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for (instrument, when, _), row in latest.items():
        groups[(instrument, when)].append(row)
    out: list[dict[str, Any]] = []
    previous_mean: dict[str, float] = {}
    for (instrument, when), members in sorted(groups.items()):
        if len(members) < min_group:
            out.append(
                {
                    "instrument": instrument,
                    "period": when,
                    "suppressed": True,
                    "students": None,
                    "bands": None,
                    "mean_score": None,
                    "change_from_previous": None,
                }
            )
            continue
        bands: dict[str, int | None] = defaultdict(int)
        for member in members:
            bands[member["band"]] = (bands[member["band"]] or 0) + 1
        shown = {band: (count if count is not None and count >= min_group else None) for band, count in bands.items()}
        average = round(mean(m["score"] for m in members), 2)
        change = round(average - previous_mean[instrument], 2) if instrument in previous_mean else None
        previous_mean[instrument] = average
        out.append(
            {
                "instrument": instrument,
                "period": when,
                "suppressed": False,
                "students": len(members),
                "bands": dict(sorted(shown.items())),
                "mean_score": average,
                "change_from_previous": change,
            }
        )
    return out
