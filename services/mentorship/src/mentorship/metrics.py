"""The mentorship service's own Prometheus metrics (labels are low-cardinality; never an identity)."""

from __future__ import annotations

import math

from prometheus_client import Counter, Gauge

ASSIGNMENTS_MADE = Counter("medsupport_mentorship_assignments_total", "Assignments made", ["how"])
WITHOUT_RECENT_MEETING = Gauge(
    "medsupport_mentorship_assignments_without_recent_meeting",
    "Active assignments with no meeting within the reminder period",
)
SINCE_LAST_MEETING = Gauge(
    "medsupport_mentorship_seconds_since_last_meeting",
    "Seconds since the last meeting of active assignments (since the assignment began when none yet), "
    "as of the last reminder sweep: stat=max (the longest wait), p90, median; 0 when no assignment is active",
    ["service", "stat"],
)
STATS = {"median": 0.5, "p90": 0.9, "max": 1.0}


def nearest_rank(sorted_values: list[float], q: float) -> float:
    """The nearest-rank quantile of already sorted values (0 for none)."""
    if not sorted_values:
        return 0.0
    rank = max(1, math.ceil(len(sorted_values) * q))
    return sorted_values[rank - 1]


def observe_since_last_meeting(service: str, seconds: list[float]) -> None:
    ordered = sorted(seconds)
    for stat, q in STATS.items():
        SINCE_LAST_MEETING.labels(service, stat).set(nearest_rank(ordered, q))
