"""What a rule reaching someone changes on their open alert (pure): grouping a burst about one student into one
alert, an upgrade in severity, another rule reaching the same person about the same event.

An upgrade takes the stronger rule's channels and escalation; another rule adds its channels, and its
escalation when the alert has none, so that a narrower rule never silences a broader one. A redelivery, or a
rule that adds nothing, changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from notifications.domain.alerts import Alert, Escalation, derived_id
from notifications.event_info import EventInfo
from notifications.routing import EscalationStep

SEVERITY_RANK = {"routine": 0, "elevated": 1, "urgent": 2}
GROUPED_FAMILIES = frozenset({"flag"})
"""A burst of these about one student is one open alert for each recipient; anything else (a feedback item, a
reminder, a concern update) is an alert of its own, each with its own link."""


def group_key(recipient_id: str, info: EventInfo) -> str:
    return f"{recipient_id}|{info.subject_id}|{info.family}"


@dataclass(frozen=True)
class Reach:
    """What a matching rule brings to the person it reaches."""

    rule_id: str
    channels: tuple[str, ...]
    escalation: tuple[EscalationStep, ...] = ()


@dataclass(frozen=True)
class Fold:
    """The change to an open alert, and the deliveries it starts (on ``deliver``, ids suffixed ``suffix``)."""

    alert: Alert
    """The alert after the change."""
    changes: dict[str, Any]
    """The changed fields in their stored form."""
    new_event_id: str | None
    """A further event grouped into the alert (None: the same event reached the person again)."""
    deliver: tuple[str, ...]
    suffix: str


def fold(alert: Alert, reach: Reach, info: EventInfo, *, now: datetime, zone: ZoneInfo) -> Fold | None:
    """How ``alert`` takes the event ``info`` that ``reach`` routes to its recipient, or None when nothing changes."""
    same_event = info.event_id in alert.event_ids
    upgrade = not same_event and SEVERITY_RANK.get(info.severity, 0) > SEVERITY_RANK.get(alert.severity, 0)
    added = tuple(c for c in reach.channels if c not in alert.channels)
    escalates = bool(reach.escalation) and alert.escalation is None
    if same_event and not added and not escalates:
        return None
    update: dict[str, Any] = {"updated_at": now}
    if not same_event:
        update["reasons"] = tuple(dict.fromkeys([*alert.reasons, *info.reasons]))
        update["title"] = info.title if upgrade else alert.title
    if upgrade:
        update.update(
            severity=info.severity,
            urgent=info.urgent,
            rule_id=reach.rule_id,
            channels=reach.channels,
            escalation=Escalation.start(reach.escalation, now, zone),
        )
        deliver, suffix = reach.channels, f"u{alert.version}"
    else:
        update["channels"] = (*alert.channels, *added)
        if escalates:
            update["escalation"] = Escalation.start(reach.escalation, now, zone)
        deliver, suffix = added, f"r{derived_id(reach.rule_id)[:8]}"  # fixed per rule: a redelivery plans nothing twice
    new_event_id = None if same_event else info.event_id
    after = alert.model_copy(update=update | ({"event_ids": (*alert.event_ids, new_event_id)} if new_event_id else {}))
    return Fold(after, _stored(update), new_event_id, deliver, suffix)


def _stored(update: dict[str, Any]) -> dict[str, Any]:
    stored = {}
    for name, value in update.items():
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Escalation):
            value = value.to_document()
        stored[name] = value
    return stored
