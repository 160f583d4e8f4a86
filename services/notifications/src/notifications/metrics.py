"""Every prometheus metric of the notifications service (dashboards, alert rules and tests use these names)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# ---------------------------------------------------------------- alerts
ALERTS_CREATED = Counter("medsupport_notifications_alerts_created_total", "Alerts created", ["event_type", "severity"])
ALERTS_GROUPED = Counter(
    "medsupport_notifications_alerts_grouped_total", "Events folded into an open alert", ["event_type"]
)
TIME_TO_ACK = Histogram(
    "medsupport_notifications_time_to_acknowledge_seconds",
    "Alert creation to acknowledgement",
    ["severity"],
    buckets=(10, 30, 60, 120, 300, 600, 900, 1800, 3600, 4 * 3600, 86400),
)
OPEN_URGENT = Gauge("medsupport_notifications_open_urgent_alerts", "Unacknowledged urgent alerts")

# ---------------------------------------------------------------- recipients
ROUTED_TO_FALLBACK = Counter(
    "medsupport_notifications_fallback_routes_total",
    "Alerts whose target resolved to nobody and went to the fallback roles instead",
    ["rule_id"],
)
UNMATCHED_EVENTS = Counter(
    "medsupport_notifications_unmatched_events_total", "Routable events that no enabled rule matched", ["event_type"]
)
SAFETY_FLOOR_ROUTES = Counter(
    "medsupport_notifications_safety_floor_routes_total",
    "Urgent wellbeing flags that no enabled rule routed to a counselling person, sent by the safety floor",
    ["via"],
)

# ---------------------------------------------------------------- deliveries
DELIVERY_ATTEMPTS = Counter(
    "medsupport_notifications_delivery_attempts_total", "Delivery attempts by outcome", ["channel", "outcome"]
)
OUTCOME_WRITE_RETRIES = Counter(
    "medsupport_notifications_delivery_outcome_write_retries_total",
    "Delivery outcomes not yet written because the database did not answer (retried until it does)",
)
EVENT_TO_FIRST_DELIVERY = Histogram(
    "medsupport_notifications_event_to_first_delivery_seconds",
    "From the source event to the first delivered channel",
    ["severity"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600),
)

# ---------------------------------------------------------------- retention
EXPIRED = Counter("medsupport_notifications_expired_documents_total", "Documents deleted by retention", ["collection"])
