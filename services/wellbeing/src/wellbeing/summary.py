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


def suppress_small_cells(counts: dict[str, int], *, min_group: int) -> dict[str, int | None]:
    """Each cell under ``min_group`` is hidden (None), and then enough further cells, smallest first,
    that the hidden ones cannot be worked out from the group's total: never a single hidden cell, and
    never hidden cells that together hold fewer than ``min_group`` students."""
    hidden = {band for band, count in counts.items() if count < min_group}
    shown = sorted((count, band) for band, count in counts.items() if band not in hidden)
    while hidden and shown and (len(hidden) == 1 or sum(counts[b] for b in hidden) < min_group):
        hidden.add(shown.pop(0)[1])
    return {band: (None if band in hidden else count) for band, count in counts.items()}


def cohort_summary(rows: list[dict[str, Any]], *, period: Period, min_group: int) -> list[dict[str, Any]]:
    """One entry per (instrument, period): distinct students, counts by band (each student's latest
    check-in in the period), mean score and its change from the previous period. A group under
    ``min_group`` students is suppressed entirely, and band cells as ``suppress_small_cells`` says."""
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
        shown = suppress_small_cells({band: count or 0 for band, count in bands.items()}, min_group=min_group)
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
