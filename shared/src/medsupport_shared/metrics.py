"""Prometheus metrics every service exports, defined once."""

from __future__ import annotations

import os

from prometheus_client import Counter, Gauge, Histogram, disable_created_metrics

# No `<name>_created` series: its value is the exact time a labelled series first moved (the first urgent
# PHQ-9 check-in, the first anonymous report of a category), which undoes the rounding that protects them.
os.environ.setdefault("PROMETHEUS_DISABLE_CREATED_SERIES", "True")
disable_created_metrics()  # type: ignore[no-untyped-call]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "medsupport_http_requests_total", "HTTP requests handled", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "medsupport_http_request_duration_seconds",
    "HTTP request latency",
    ["service", "method", "route"],
    buckets=LATENCY_BUCKETS,
)
EVENTS_PUBLISHED = Counter(
    "medsupport_events_published_total", "Events published to Kafka", ["service", "topic", "type"]
)
EVENTS_PUBLISH_FAILED = Counter(
    "medsupport_events_publish_failed_total",
    "Publish attempts that failed (left in the outbox)",
    ["service", "topic"],
)
EVENTS_CONSUMED = Counter(
    "medsupport_events_consumed_total", "Events consumed, by outcome", ["service", "topic", "type", "outcome"]
)
EVENTS_DEAD_LETTERED = Counter(
    "medsupport_events_dead_lettered_total",
    "Messages sent to a dead-letter topic",
    ["service", "topic", "reason"],
)
EVENT_HANDLER_LATENCY = Histogram(
    "medsupport_event_handler_duration_seconds",
    "Time spent handling one event",
    ["service", "type"],
    buckets=LATENCY_BUCKETS,
)
OUTBOX_BACKLOG = Gauge(
    "medsupport_outbox_backlog",
    "Events written to the outbox and not yet published",
    ["service", "collection"],
)
CONSUMER_LAG = Gauge(
    "medsupport_consumer_lag",
    "Messages behind the partition's high watermark, per consumer (a service may run several, e.g. lanes)",
    ["service", "consumer", "topic", "partition"],
)
DEPENDENCY_UP = Gauge("medsupport_dependency_up", "1 when a dependency answers", ["service", "dependency"])
