"""Every prometheus metric of the wellbeing service (names and labels are read by the dashboards, the alert
rules and the benchmark: change them there too)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CHECKINS_RECORDED = Counter("medsupport_wellbeing_checkins_total", "Check-ins recorded", ["instrument", "severity"])
FLAGS_OPEN = Gauge("medsupport_wellbeing_flags_open", "Open flags", ["severity"])
CHECKIN_TO_FLAG_EVENT = Histogram(
    "medsupport_wellbeing_checkin_to_flag_published_seconds",
    "Time from receiving a worrying check-in to its flag event acknowledged by Kafka",
    ["severity"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
RAISED_WITHOUT_STORE = Counter(
    "medsupport_wellbeing_urgent_flags_without_store_total",
    "Urgent flags raised while the database was down (spooled and published straight to Kafka)",
    ["path"],
)
SPOOL_PENDING = Gauge(
    "medsupport_wellbeing_urgent_spool_pending", "Urgent flags in the local spool, not yet in the store"
)
