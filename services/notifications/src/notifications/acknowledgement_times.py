"""Time to acknowledge urgent and elevated alerts, per ISO week, for the wellbeing lead.

Counted once per escalation chain (its first alert, level 0): acknowledging any alert of a chain
acknowledges all of them, so counting each step would count one human act several times."""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from notifications.context import NotificationsContext

SEVERITIES = ("urgent", "elevated")


def week_start(instant: datetime) -> date:
    day = instant.date()
    return day - timedelta(days=day.weekday())


def p90(seconds: list[float]) -> float:
    """Nearest-rank 90th percentile: a value that really occurred, even for a handful of alerts."""
    ordered = sorted(seconds)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def weekly_acknowledgement_times(
    alerts: Iterable[dict[str, Any]], *, weeks: int, now: datetime
) -> list[dict[str, Any]]:
    """One row per ISO week (oldest first, the current week last) and severity, empty weeks included."""
    starts = [week_start(now) - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    rows: dict[tuple[date, Any], tuple[list[int], list[float]]] = {
        (start, severity): ([0], []) for start in starts for severity in SEVERITIES
    }
    for alert in alerts:
        key = (week_start(alert["created_at"]), alert.get("severity"))
        if key not in rows:
            continue
        rows[key][0][0] += 1
        if alert.get("acknowledged_at") is not None:
            rows[key][1].append(max(0.0, (alert["acknowledged_at"] - alert["created_at"]).total_seconds()))
    out = []
    for (start, severity), ([count], seconds) in rows.items():
        iso = start.isocalendar()
        out.append(
            {
                "week": f"{iso.year}-W{iso.week:02d}",
                "week_start": start,
                "severity": severity,
                "alerts": count,
                "acknowledged": len(seconds),
                "unacknowledged": count - len(seconds),
                "median_seconds": statistics.median(seconds) if seconds else None,
                "p90_seconds": p90(seconds) if seconds else None,
            }
        )
    return out


async def acknowledgement_times(*, ctx: NotificationsContext, weeks: int, now: datetime) -> list[dict[str, Any]]:
    since = datetime.combine(week_start(now) - timedelta(weeks=weeks - 1), datetime.min.time(), tzinfo=now.tzinfo)
    chains = await ctx.repo.chain_starts_since(since=since, severities=SEVERITIES)
    return weekly_acknowledgement_times(chains, weeks=weeks, now=now)
