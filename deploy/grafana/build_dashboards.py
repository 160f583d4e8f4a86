"""Writes the Grafana dashboards (deploy/grafana/dashboards/*.json) from one description.

    python deploy/grafana/build_dashboards.py          # rewrite the JSON files
    python deploy/grafana/build_dashboards.py --check  # exit 1 if a committed file differs

The JSON files are what Grafana loads (provisioned in docker compose); this script keeps the five dashboards
consistent. tests/deploy checks that the files equal its output and that every metric a query names is
exported by the code.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "prometheus"}
SERVICES = ("feedback", "wellbeing", "mentorship", "notifications")


@dataclass
class Panel:
    title: str
    queries: list[tuple[str, str]]
    """(PromQL, legend)"""
    unit: str = "short"
    kind: str = "timeseries"
    width: int = 12
    height: int = 8
    description: str = ""
    thresholds: list[tuple[float, str]] = field(default_factory=list)


def _quantiles(
    metric: str, selector: str, by: str = "", qs: tuple[float, ...] = (0.5, 0.95, 0.99)
) -> list[tuple[str, str]]:
    group = f"le{', ' + by if by else ''}"
    legend_by = f"{{{{{by}}}}} " if by else ""
    return [
        (
            f"histogram_quantile({q}, sum by ({group}) (rate({metric}_bucket{{{selector}}}[$__rate_interval])))",
            f"{legend_by}p{round(q * 100)}",
        )
        for q in qs
    ]


def http_panels(selector: str, by: str) -> list[Panel]:
    """Request rate, errors and latency: grouped by service on the overview, by route on a service's board."""
    sel = selector
    comma = "," if sel else ""
    legend = f"{{{{{by}}}}}"
    latency = _quantiles("medsupport_http_request_duration_seconds", sel)
    if by == "route":
        latency += _quantiles("medsupport_http_request_duration_seconds", sel, "route", (0.95,))
    else:
        latency = _quantiles("medsupport_http_request_duration_seconds", sel, by)
    return [
        Panel(
            "Request rate",
            [(f"sum by ({by}) (rate(medsupport_http_requests_total{{{sel}}}[$__rate_interval]))", legend)],
            unit="reqps",
            width=8,
        ),
        Panel(
            "Error ratio (5xx)",
            [
                (
                    f'sum by ({by}) (rate(medsupport_http_requests_total{{{sel}{comma}status=~"5.."}}[$__rate_interval]))'
                    f" / sum by ({by}) (rate(medsupport_http_requests_total{{{sel}}}[$__rate_interval]))",
                    legend,
                )
            ],
            unit="percentunit",
            width=8,
            thresholds=[(0.05, "red")],
        ),
        Panel("Latency percentiles", latency, unit="s", width=8),
    ]


def event_panels(selector: str, by: str) -> list[Panel]:
    """Events in and out, DLQ, outbox backlog, lag, handler latency, dependencies."""
    sel = selector
    legend = f"{{{{{by}}}}}"
    return [
        Panel(
            "Events published (out)",
            [
                (
                    f"sum by ({by}, type) (rate(medsupport_events_published_total{{{sel}}}[$__rate_interval]))",
                    f"{legend} {{{{type}}}}",
                )
            ],
            unit="ops",
            width=8,
        ),
        Panel(
            "Events consumed (in), by outcome",
            [
                (
                    f"sum by ({by}, outcome) (rate(medsupport_events_consumed_total{{{sel}}}[$__rate_interval]))",
                    f"{legend} {{{{outcome}}}}",
                )
            ],
            unit="ops",
            width=8,
        ),
        Panel(
            "Dead-lettered (DLQ)",
            [
                (
                    f"sum by ({by}, topic, reason) (increase(medsupport_events_dead_lettered_total{{{sel}}}[$__rate_interval]))",
                    f"{legend} {{{{topic}}}} {{{{reason}}}}",
                )
            ],
            width=8,
            thresholds=[(1, "red")],
        ),
        Panel(
            "Outbox backlog",
            [(f"sum by ({by}) (medsupport_outbox_backlog{{{sel}}})", legend)],
            width=8,
            description="Events written with the state change and not yet acknowledged by Kafka.",
        ),
        Panel(
            "Publish failures",
            [
                (
                    f"sum by ({by}, topic) (rate(medsupport_events_publish_failed_total{{{sel}}}[$__rate_interval]))",
                    f"{legend} {{{{topic}}}}",
                )
            ],
            unit="ops",
            width=8,
        ),
        Panel(
            "Consumer lag",
            [
                (
                    f"sum by ({by}, consumer, topic) (medsupport_consumer_lag{{{sel}}})",
                    f"{legend} {{{{consumer}}}} {{{{topic}}}}",
                )
            ],
            width=8,
            description="Messages behind the high watermark per consumer (notifications has a separate lane for "
            "wellbeing flags), summed over partitions (instances of a service share them).",
        ),
        Panel(
            "Event handler latency",
            _quantiles("medsupport_event_handler_duration_seconds", sel, by, (0.5, 0.95)),
            unit="s",
            width=12,
        ),
        Panel(
            "Dependencies up",
            [(f"min by ({by}, dependency) (medsupport_dependency_up{{{sel}}})", f"{legend} {{{{dependency}}}}")],
            width=12,
            thresholds=[(0, "red"), (1, "green")],
        ),
        Panel(
            "Stored documents skipped (fail their model)",
            [
                (
                    f"sum by ({by}, collection) (increase(medsupport_invalid_documents_total{{{sel}}}[1h]))",
                    f"{legend} {{{{collection}}}}",
                )
            ],
            width=12,
            description="Documents stored under older rules or edited by hand that no longer fit their model: "
            "left out of lists and routing (logged with the collection and where they fail). Repair or delete them.",
        ),
    ]


def overview() -> list[Panel]:
    return [
        Panel("Services up", [('up{job="medsupport"}', "{{service}} {{instance}}")], kind="stat", width=6, height=5),
        Panel(
            "Open urgent alerts",
            [("max(medsupport_notifications_open_urgent_alerts)", "open urgent")],
            kind="stat",
            width=6,
            height=5,
            thresholds=[(1, "red")],
            description="Urgent alerts not yet acknowledged by a human.",
        ),
        Panel(
            "Time to acknowledge (p50 / p95)",
            _quantiles("medsupport_notifications_time_to_acknowledge_seconds", "", "severity", (0.5, 0.95)),
            unit="s",
            width=6,
            height=5,
        ),
        Panel(
            "Open wellbeing flags",
            [("max by (severity) (medsupport_wellbeing_flags_open)", "{{severity}}")],
            kind="stat",
            width=6,
            height=5,
        ),
        *http_panels("", "service"),
        *event_panels("", "service"),
    ]


def feedback() -> list[Panel]:
    return [
        Panel(
            "Anonymous reports beyond the surge threshold",
            [("sum(increase(medsupport_feedback_anonymous_surge_total[1h]))", "beyond threshold")],
            description="Accepted (the channel never closes) and marked for the concerns officer.",
        ),
        Panel(
            "Feedback written",
            [
                (
                    "sum by (author_kind, context_kind) (rate(medsupport_feedback_submitted_total[$__rate_interval]))",
                    "{{author_kind}} {{context_kind}}",
                )
            ],
            unit="ops",
        ),
        Panel(
            "Concern reports by category",
            [
                (
                    "sum by (category, anonymous) (increase(medsupport_feedback_concerns_raised_total[1h]))",
                    "{{category}} anonymous={{anonymous}}",
                )
            ],
        ),
        Panel(
            "Requests overdue (open)",
            [("max(medsupport_feedback_requests_overdue_open)", "open overdue")],
            kind="stat",
            width=6,
        ),
        Panel(
            "Requests gone overdue",
            [("sum by (context_kind) (increase(medsupport_feedback_requests_overdue_total[1d]))", "{{context_kind}}")],
            width=6,
        ),
        Panel(
            "Request turnaround (p50 / p90)",
            _quantiles("medsupport_feedback_request_turnaround_seconds", "", "context_kind", (0.5, 0.9)),
            unit="s",
        ),
        Panel(
            "Anonymous submissions rate-limited",
            [
                (
                    "sum by (route) (increase(medsupport_feedback_anonymous_rate_limited_total[$__rate_interval]))",
                    "{{route}}",
                )
            ],
        ),
    ]


def wellbeing() -> list[Panel]:
    return [
        Panel(
            "Check-ins by instrument and severity",
            [
                (
                    "sum by (instrument, severity) (rate(medsupport_wellbeing_checkins_total[$__rate_interval]))",
                    "{{instrument}} {{severity}}",
                )
            ],
            unit="ops",
        ),
        Panel("Open flags", [("max by (severity) (medsupport_wellbeing_flags_open)", "{{severity}}")]),
        Panel(
            "Worrying check-in to flag event in Kafka",
            _quantiles("medsupport_wellbeing_checkin_to_flag_published_seconds", "", "severity"),
            unit="s",
            width=24,
            description="From receiving the check-in to Kafka acknowledging its flag.raised/flag.updated event.",
        ),
        Panel(
            "Urgent flags raised while the database was down",
            [("sum by (path) (increase(medsupport_wellbeing_urgent_flags_without_store_total[1h]))", "{{path}}")],
            description="Published straight to Kafka and spooled; put in the queue when the database is back.",
        ),
        Panel(
            "Urgent flags waiting in the spool",
            [("max(medsupport_wellbeing_urgent_spool_pending)", "pending")],
            kind="stat",
            description="Should return to 0 within seconds of the database answering again.",
        ),
    ]


def mentorship() -> list[Panel]:
    return [
        Panel(
            "Assignments made",
            [("sum by (how) (increase(medsupport_mentorship_assignments_total[1h]))", "{{how}}")],
        ),
        Panel(
            "Active assignments without a recent meeting",
            [("max(medsupport_mentorship_assignments_without_recent_meeting)", "without recent meeting")],
        ),
        Panel(
            "Time since the last meeting (active assignments)",
            [("max by (stat) (medsupport_mentorship_seconds_since_last_meeting)", "{{stat}}")],
            unit="s",
            width=24,
            description="From the reminder sweep: median, 90th percentile and longest time since a mentor and "
            "mentee last met (since the assignment began when they have not met yet).",
        ),
    ]


def notifications() -> list[Panel]:
    return [
        Panel(
            "Open urgent alerts",
            [("max(medsupport_notifications_open_urgent_alerts)", "open urgent")],
            kind="stat",
            width=6,
            thresholds=[(1, "red")],
        ),
        Panel(
            "Alerts created",
            [
                (
                    "sum by (event_type, severity) (rate(medsupport_notifications_alerts_created_total[$__rate_interval]))",
                    "{{event_type}} {{severity}}",
                )
            ],
            unit="ops",
            width=9,
        ),
        Panel(
            "Events grouped into an open alert",
            [
                (
                    "sum by (event_type) (rate(medsupport_notifications_alerts_grouped_total[$__rate_interval]))",
                    "{{event_type}}",
                )
            ],
            unit="ops",
            width=9,
        ),
        Panel(
            "Delivery attempts by channel and outcome",
            [
                (
                    "sum by (channel, outcome) (rate(medsupport_notifications_delivery_attempts_total[$__rate_interval]))",
                    "{{channel}} {{outcome}}",
                )
            ],
            unit="ops",
        ),
        Panel(
            "Event to first delivery",
            _quantiles("medsupport_notifications_event_to_first_delivery_seconds", "", "severity", (0.5, 0.95, 0.99)),
            unit="s",
        ),
        Panel(
            "Time to acknowledge",
            _quantiles("medsupport_notifications_time_to_acknowledge_seconds", "", "severity", (0.5, 0.95)),
            unit="s",
        ),
        Panel(
            "Escalations",
            [
                (
                    'sum(increase(medsupport_events_published_total{service="notifications", type="alert.escalated"}[$__rate_interval]))',
                    "escalated",
                )
            ],
        ),
        Panel(
            "Alerts routed to a fallback role (misconfigured routing)",
            [("sum by (rule_id) (increase(medsupport_notifications_fallback_routes_total[1h]))", "{{rule_id}}")],
            description="A rule's target resolved to nobody (no rota, nobody holding the role); the alert went to "
            "the first staffed fallback role instead. Set up the rota or staff the role.",
        ),
        Panel(
            "Urgent flags routed by the safety floor",
            [("sum by (via) (increase(medsupport_notifications_safety_floor_routes_total[1h]))", "{{via}}")],
            description="No enabled rule brought an urgent wellbeing flag to a counselling person; the safety floor "
            "sent it to the rota's on-call person, the wellbeing lead or the SAFETY_FLOOR_* contact (nobody: none).",
        ),
        Panel(
            "Delivery outcomes waiting for the database",
            [
                (
                    "sum(increase(medsupport_notifications_delivery_outcome_write_retries_total[$__rate_interval]))",
                    "retries",
                )
            ],
            description="A send finished while the database did not answer; its outcome is written when it is back "
            "(the send is not repeated).",
        ),
        Panel(
            "Deleted by retention",
            [
                (
                    "sum by (collection) (increase(medsupport_notifications_expired_documents_total[1d]))",
                    "{{collection}}",
                )
            ],
            description="Closed and routine alerts past ALERT_RETENTION_DAYS, with their deliveries; check-in "
            "severities left by older versions.",
        ),
        Panel(
            "Events that matched no rule",
            [("sum by (event_type) (increase(medsupport_notifications_unmatched_events_total[1h]))", "{{event_type}}")],
        ),
    ]


SERVICE_PANELS = {
    "feedback": feedback,
    "wellbeing": wellbeing,
    "mentorship": mentorship,
    "notifications": notifications,
}


def _panel_json(panel: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": color, "value": value} for value, color in panel.thresholds]
    return {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {
            "defaults": {"unit": panel.unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}}
        if panel.kind == "timeseries"
        else {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(panel.queries)
        ],
    }


def _row(title: str, panel_id: int, y: int) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "row",
        "title": title,
        "collapsed": False,
        "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
        "panels": [],
    }


def dashboard(uid: str, title: str, sections: list[tuple[str, list[Panel]]], tags: list[str]) -> dict[str, Any]:
    panels: list[dict[str, Any]] = []
    y = 0
    for section, section_panels in sections:
        panels.append(_row(section, len(panels) + 1, y))
        y += 1
        x = 0
        row_height = 0
        for panel in section_panels:
            if x + panel.width > 24:
                x, y = 0, y + row_height
                row_height = 0
            panels.append(_panel_json(panel, len(panels) + 1, x, y))
            x += panel.width
            row_height = max(row_height, panel.height)
        y += row_height
    return {
        "uid": uid,
        "title": title,
        "tags": tags,
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "editable": False,
        "graphTooltip": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": []},
        "annotations": {"list": []},
        "links": [{"title": "medsupport", "type": "dashboards", "tags": ["medsupport"], "asDropdown": True}],
        "panels": panels,
    }


def all_dashboards() -> dict[str, dict[str, Any]]:
    result = {
        "platform-overview.json": dashboard(
            "medsupport-overview",
            "medsupport: platform overview",
            [("Safety", overview()[:4]), ("Traffic and messaging, by service", overview()[4:])],
            ["medsupport"],
        )
    }
    for service in SERVICES:
        selector = f'service="{service}"'
        result[f"{service}.json"] = dashboard(
            f"medsupport-{service}",
            f"medsupport: {service}",
            [
                (service, SERVICE_PANELS[service]()),
                ("HTTP, by route", http_panels(selector, "route")),
                ("Events", event_panels(selector, "service")),
            ],
            ["medsupport", service],
        )
    return result


def render(board: dict[str, Any]) -> str:
    return json.dumps(board, indent=2, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    OUT.mkdir(parents=True, exist_ok=True)
    for name, board in all_dashboards().items():
        path = OUT / name
        text = render(board)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print("stale dashboards (run python deploy/grafana/build_dashboards.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
