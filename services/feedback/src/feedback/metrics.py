"""The feedback service's own Prometheus metrics (labels are low-cardinality; never an identity)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

HOUR = 3600.0
REQUEST_TURNAROUND = Histogram(
    "medsupport_feedback_request_turnaround_seconds",
    "Time from a feedback request to the feedback that fulfilled it",
    ["context_kind"],
    buckets=(HOUR, 6 * HOUR, 24 * HOUR, 48 * HOUR, 72 * HOUR, 7 * 24 * HOUR, 14 * 24 * HOUR, 30 * 24 * HOUR),
)
REQUESTS_OVERDUE = Counter(
    "medsupport_feedback_requests_overdue_total",
    "Feedback requests that went overdue (each counted once, when feedback.overdue is written)",
    ["context_kind"],
)
REQUESTS_OPEN_OVERDUE = Gauge(
    "medsupport_feedback_requests_overdue_open",
    "Open feedback requests past their due time, as of the last sweep",
)
FEEDBACK_SUBMITTED = Counter(
    "medsupport_feedback_submitted_total", "Feedback items written", ["author_kind", "context_kind"]
)
CONCERNS_RAISED = Counter("medsupport_feedback_concerns_raised_total", "Concern reports", ["category", "anonymous"])
ANONYMOUS_RATE_LIMITED = Counter(
    "medsupport_feedback_anonymous_rate_limited_total",
    "Anonymous submissions or follow-up look-ups refused by the rate limiter",
    ["route"],
)
ANONYMOUS_SURGE = Counter(
    "medsupport_feedback_anonymous_surge_total",
    "Anonymous reports accepted beyond the per-window surge threshold (marked for the concerns officer)",
)
