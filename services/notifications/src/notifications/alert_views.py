"""What an alert looks like to the person reading it: ``AlertOut``'s fields, with its deliveries when asked."""

from __future__ import annotations

from typing import Any

from notifications.domain.alerts import Alert

Document = dict[str, Any]
ALERT_FIELDS = (
    "recipient_id",
    "rule_id",
    "root_id",
    "level",
    "event_ids",
    "event_type",
    "severity",
    "urgent",
    "subject_id",
    "reasons",
    "title",
    "link",
    "status",
    "created_at",
    "updated_at",
    "acknowledged_at",
    "acknowledged_by",
)
DELIVERY_FIELDS = (
    "channel",
    "status",
    "address_kind",
    "attempt_count",
    "attempts",
    "delivered_at",
    "next_attempt_at",
    "reason",
)


def alert_view(alert: Alert | Document, deliveries: list[Document] | None = None) -> dict[str, Any]:
    """An alert (typed, or as stored: lists read the documents) with its escalation state."""
    if isinstance(alert, Alert):
        alert = alert.to_document()
    view = {k: alert.get(k) for k in ALERT_FIELDS}
    view["id"] = alert["_id"]
    escalation = alert.get("escalation") or {}
    view["escalation_level"] = escalation.get("level", alert.get("level", 0))
    view["next_escalation_at"] = escalation.get("next_at")
    if deliveries is not None:
        view["deliveries"] = [{k: d.get(k) for k in DELIVERY_FIELDS} | {"id": d["_id"]} for d in deliveries]
    return view
