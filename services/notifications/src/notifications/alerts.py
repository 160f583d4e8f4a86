"""Use cases: turn an event into alerts for the right people, group bursts, acknowledge, escalate.

One alert per (event, rule, recipient): its id is derived from them, so a redelivered event never
creates a second one. A burst about the same student for the same recipient inside the grouping
window updates the open alert instead. Escalation timers live on the alert in MongoDB."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import Counter, Gauge, Histogram

from medsupport_shared.auth import Principal
from medsupport_shared.documents import INVALID_DOCUMENTS
from medsupport_shared.errors import Conflict, NotFound
from medsupport_shared.event_types import AlertAcknowledged, AlertCreated, AlertEscalated
from medsupport_shared.events import CloudEvent, EventData, new_event, utcnow
from medsupport_shared.outbox import outbox_entry
from notifications.coarse_time import hour_floor
from notifications.context import NotificationsContext
from notifications.deliveries import plan_deliveries, start_deliveries
from notifications.event_info import REDACTED_FAMILY, REDACTED_LINK, EventInfo, describe
from notifications.recipients import plan_routing, resolve_or_fall_back, shown_to
from notifications.repository import ALERTS, Document
from notifications.routing import Channel, EscalationStep, RouteRule
from notifications.safety import CONCERN_FAMILIES, PRIVATE_FAMILIES
from notifications.working_time import due_at

log = logging.getLogger(__name__)
UTC_ZONE = ZoneInfo("UTC")
SEVERITY_RANK = {"routine": 0, "elevated": 1, "urgent": 2}
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
# A burst of these about one student is one open alert for each recipient; anything else (a feedback item,
# a reminder, a concern update) is an alert of its own, each with its own link.
GROUPED_FAMILIES = frozenset({"flag"})
EVENT_PRIVATE_FAMILIES = PRIVATE_FAMILIES | CONCERN_FAMILIES | {REDACTED_FAMILY}


def _id(*parts: str) -> str:
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


async def route_event(*, ctx: NotificationsContext, event: CloudEvent, payload: EventData | None = None) -> list[str]:
    """Alerts for every rule the event matches and every person each rule targets; an urgent wellbeing flag
    that reaches no counselling person this way goes through the safety floor."""
    info = describe(event, payload)
    mentor_link = "/mentorship"
    if info.mentor_consented:  # a wellbeing flag the student consented to share with their mentor
        mentorship = await ctx.repo.mentor_of(student_id=info.subject_id)
        if mentorship is not None:
            info = replace(info, people={**info.people, "mentor": mentorship["mentor_id"]})
            mentor_link = f"/mentorship/assignments/{mentorship['assignment_id']}"
    rules = await ctx.repo.rules()
    plan = await plan_routing(ctx=ctx, info=info, rules=rules, at=utcnow(), mentor_link=mentor_link)
    touched: list[str] = []
    failed: Exception | None = None
    first_alert: dict[str, str] = {}  # recipient → the alert the event's first rule reaching them made
    for item in plan.routed:
        told = shown_to(item.info, await ctx.repo.person(person_id=item.recipient_id))
        try:
            if (earlier := first_alert.get(item.recipient_id)) is not None:
                alert_id = await _also_reach(
                    ctx=ctx, alert_id=earlier, rule=item.rule, recipient_id=item.recipient_id, info=told
                )
            else:
                first_alert[item.recipient_id] = _id(info.event_id, item.rule.id, item.recipient_id)
                alert_id = await deliver_alert(ctx=ctx, rule=item.rule, recipient_id=item.recipient_id, info=told)
        except Exception as exc:  # one recipient's failure must not cost the others their alert
            log.exception("alerting one recipient failed", extra={"rule_id": item.rule.id, "event_id": info.event_id})
            failed = failed or exc
            continue
        if alert_id:
            touched.append(alert_id)
    if failed is not None:
        raise failed  # the event is retried (alerts already made are found again, not doubled), then dead-lettered
    return touched


async def _also_reach(
    *, ctx: NotificationsContext, alert_id: str, rule: RouteRule, recipient_id: str, info: EventInfo
) -> str | None:
    """Another rule reaching someone an earlier rule already alerted about this event: one alert per person
    and event, which takes the rule's channels (and escalation, when it has none). If that alert is not
    there (the event was folded into an open alert about the same student), the rule routes as usual."""
    alert = await ctx.repo.alert(alert_id=alert_id)
    if alert is None:
        return await deliver_alert(ctx=ctx, rule=rule, recipient_id=recipient_id, info=info)
    if alert["status"] != "open":
        return None  # already worked (a redelivery after the acknowledgement)
    now = hour_floor(utcnow()) if info.coarse_times else utcnow()
    return await _fold_into(ctx=ctx, alert=alert, rule=rule, info=info, now=now)


def _log_fields(alert_id: str, rule: RouteRule, info: EventInfo) -> dict[str, str]:
    """Ids and categories only: no person, no student (the correlation id links the log to the request)."""
    return {
        "alert_id": alert_id,
        "rule_id": rule.id,
        "event_id": info.event_id,
        "event_type": info.event_type,
        "severity": info.severity,
    }


async def deliver_alert(
    *, ctx: NotificationsContext, rule: RouteRule, recipient_id: str, info: EventInfo
) -> str | None:
    now = hour_floor(utcnow()) if info.coarse_times else utcnow()
    alert_id = _id(info.event_id, rule.id, recipient_id)
    if (routed := await ctx.repo.alert(alert_id=alert_id)) is not None:
        # a redelivery of an event already routed; a crash may have come between the alert and its
        # deliveries, so make sure they exist (their ids are fixed: nothing is planned twice)
        await start_deliveries(ctx=ctx, alert=routed, channels=rule.channels)
        return None
    group_key = f"{recipient_id}|{info.subject_id}|{info.family}"
    window = timedelta(minutes=ctx.settings.grouping_window_minutes if info.family in GROUPED_FAMILIES else 0)
    if window and (open_alert := await ctx.repo.open_group_alert(group_key=group_key, since=now - window)):
        return await _fold_into(ctx=ctx, alert=open_alert, rule=rule, info=info, now=now)
    alert = new_alert(
        alert_id=alert_id,
        rule=rule,
        recipient_id=recipient_id,
        info=info,
        now=now,
        group_key=group_key,
        zone=ctx.settings.working_zone,
    )
    entry = created_entry(ctx, alert)
    if not await ctx.repo.insert_alert(alert=alert, entries=[entry]):
        return None
    ctx.outbox.dispatch(ALERTS, alert_id, [entry])
    if not info.coarse_times:  # a scraped increment would time an anonymous report to the scrape interval
        ALERTS_CREATED.labels(info.event_type, info.severity).inc()
    log.info("alert created", extra=_log_fields(alert_id, rule, info))
    await start_deliveries(ctx=ctx, alert=alert, channels=rule.channels)
    ctx.hub.notify(recipient_id)
    return alert_id


def new_alert(
    *,
    alert_id: str,
    rule: RouteRule,
    recipient_id: str,
    info: EventInfo,
    now: datetime,
    group_key: str,
    root_id: str | None = None,
    level: int = 0,
    zone: ZoneInfo = UTC_ZONE,
) -> Document:
    steps = [s.model_dump(mode="json") for s in rule.escalation] if root_id is None else []
    return (
        {
            "_id": alert_id,
            "recipient_id": recipient_id,
            "rule_id": rule.id,
            "root_id": root_id or alert_id,
            "level": level,
            "group_key": group_key,
            "event_ids": [info.event_id],
            "event_type": info.event_type,
            "family": info.family,
            "severity": info.severity,
            "urgent": info.urgent,
            "subject_id": alert_id if info.redacted_from is not None else info.subject_id,  # the subject is hidden
            "reasons": list(info.reasons),
            "title": info.title,
            "link": REDACTED_LINK.format(alert_id=alert_id) if info.link == REDACTED_LINK else info.link,
            "status": "open",
            "channels": [str(c) for c in rule.channels],
            "created_at": now,
            "updated_at": now,
            "version": 1,
            "event_time": info.event_time or now,
            "escalation": _escalation(steps, now, zone),
        }
        | ({"redacted_subject_id": info.redacted_from} if info.redacted_from is not None else {})
        | ({"coarse_times": True} if info.coarse_times else {})
    )


def created_entry(ctx: NotificationsContext, alert: Document) -> Document:
    """The outbox entry of ``alert.created``; about an anonymous report, its time (and so the Kafka record's
    timestamp) is the alert's rounded creation time, not the moment it was made."""
    if not alert.get("coarse_times"):
        return outbox_entry(new_event(alert_created(alert), source=ctx.source))
    entry = outbox_entry(new_event(alert_created(alert), source=ctx.source, time=alert["created_at"]))
    return entry | {"created_at": alert["created_at"]}


def alert_created(alert: Document) -> AlertCreated:
    """``alert.created`` for ops and audit consumers: for wellbeing and concern alerts neither the student (or
    reporter) nor the kind of event that caused them; the alert id stands in as the event's subject."""
    private = alert["family"] in EVENT_PRIVATE_FAMILIES or alert.get("redacted_subject_id") is not None
    return AlertCreated(
        alert_id=alert["_id"],
        subject_id=None if private else alert["subject_id"],
        event_id=alert["event_ids"][0],
        source_event_type=None if private else alert["event_type"],
        recipient_id=alert["recipient_id"],
        severity=alert["severity"],
        created_at=alert["created_at"],
    )


def _escalation(steps: list[Document], started_at: datetime, zone: ZoneInfo) -> Document | None:
    """Escalation state; every step's delay counts from ``started_at`` (creation, or an upgrade to urgent)."""
    if not steps:
        return None
    return {"steps": steps, "level": 0, "started_at": started_at, "next_at": _step_due(started_at, steps[0], zone)}


def _step_due(started_at: datetime, step: Document, zone: ZoneInfo) -> datetime:
    return due_at(started_at, step["after_minutes"], working_days_only=bool(step.get("working_days_only")), zone=zone)


async def _fold_into(
    *, ctx: NotificationsContext, alert: Document, rule: RouteRule, info: EventInfo, now: datetime
) -> str | None:
    """Group a new event into the recipient's open alert about the same student. An upgrade in severity
    takes the stronger rule's channels and escalation; another rule reaching the same person (the same
    event matched twice, or a later one) adds its channels, and its escalation when the alert has none,
    so that a narrower rule never silences a broader one."""
    for _ in range(10):
        same_event = info.event_id in alert["event_ids"]
        upgrade = not same_event and SEVERITY_RANK.get(info.severity, 0) > SEVERITY_RANK.get(alert["severity"], 0)
        steps = [s.model_dump(mode="json") for s in rule.escalation]
        added = [str(c) for c in rule.channels if str(c) not in alert["channels"]]
        escalates = bool(steps) and not alert.get("escalation")
        if same_event and not added and not escalates:
            return None  # a redelivery, or a rule that adds nothing
        changes: Document = {"updated_at": now}
        if not same_event:
            changes["reasons"] = list(dict.fromkeys([*alert["reasons"], *info.reasons]))
            changes["title"] = info.title if upgrade else alert["title"]
        if upgrade:
            changes.update(
                severity=info.severity,
                urgent=info.urgent,
                rule_id=rule.id,
                channels=[str(c) for c in rule.channels],
                escalation=_escalation(steps, now, ctx.settings.working_zone),
            )
            deliver, suffix = [str(c) for c in rule.channels], f"u{alert['version']}"
        else:
            changes["channels"] = [*alert["channels"], *added]
            if escalates:
                changes["escalation"] = _escalation(steps, now, ctx.settings.working_zone)
            deliver, suffix = added, f"r{_id(rule.id)[:8]}"  # fixed per rule: a redelivery plans nothing twice
        push = None if same_event else {"event_ids": info.event_id}
        if await ctx.repo.update_alert(alert=alert, changes=changes, push=push):
            if not same_event:
                ALERTS_GROUPED.labels(info.event_type).inc()
            log.info("alert updated", extra=_log_fields(str(alert["_id"]), rule, info))
            if deliver:
                await start_deliveries(ctx=ctx, alert={**alert, **changes}, channels=deliver, suffix=suffix)
            ctx.hub.notify(alert["recipient_id"])
            return str(alert["_id"])
        reloaded = await ctx.repo.alert(alert_id=alert["_id"])
        if reloaded is None or reloaded["status"] != "open":
            return None
        alert = reloaded
    raise Conflict("the alert kept changing while grouping")


async def acknowledge(*, ctx: NotificationsContext, principal: Principal, alert_id: str) -> Document:
    alert = await ctx.repo.alert(alert_id=alert_id)
    if alert is None:
        raise NotFound("no alert with that id")
    chain = await ctx.repo.chain(root_id=alert["root_id"])
    if principal.sub not in {a["recipient_id"] for a in chain}:
        raise NotFound("no alert with that id")  # as for an unknown id: whose alerts exist is not told
    if alert["status"] != "open":
        return alert
    now = utcnow()
    for member in chain:  # acknowledging any alert of the chain stops the escalation of all
        if member["status"] != "open":
            continue
        entries = []
        if member["_id"] == alert_id:
            entries.append(
                outbox_entry(
                    new_event(
                        AlertAcknowledged(
                            alert_id=alert_id,
                            subject_id=alert["subject_id"],
                            acknowledged_by=principal.sub,
                            acknowledged_at=now,
                        ),
                        source=ctx.source,
                    )
                )
            )
        changes = {
            "status": "acknowledged",
            "acknowledged_at": now,
            "acknowledged_by": principal.sub,
            "updated_at": now,
            **_stop_timer(member),
        }
        if await ctx.repo.update_alert(alert=member, changes=changes, entries=entries):
            if entries:
                ctx.outbox.dispatch(ALERTS, alert_id, entries)
                TIME_TO_ACK.labels(member["severity"]).observe((now - member["created_at"]).total_seconds())
            ctx.hub.notify(member["recipient_id"])
    return await ctx.repo.alert(alert_id=alert_id) or alert


async def escalate_due(*, ctx: NotificationsContext) -> int:
    """Sweep: every open alert whose next escalation step came due (also while the service was down). One
    alert that cannot be escalated (a hand-edited document) is logged and skipped, never holding up the rest."""
    escalated = 0
    now = utcnow()
    for alert in await ctx.repo.due_escalations(now=now):
        try:
            escalated += await _escalate_one(ctx=ctx, alert=alert, now=now)
        except (KeyError, IndexError, TypeError, ValueError):  # its data, not the database: the others go on
            log.exception("stored alert cannot be escalated; skipped", extra={"alert_id": str(alert.get("_id"))})
            INVALID_DOCUMENTS.labels(ALERTS).inc()
    return escalated


async def _escalate_one(*, ctx: NotificationsContext, alert: Document, now: datetime) -> bool:
    state = alert["escalation"]
    level, steps = state["level"], state["steps"]
    step = EscalationStep.model_validate(steps[level])
    info = EventInfo(
        event_id=alert["event_ids"][0],
        event_type=alert["event_type"],
        severity=alert["severity"],
        cohort=None,
        subject_id=alert["subject_id"],
        family=alert["family"],
        reasons=tuple(alert["reasons"]),
        title=alert["title"],
        link=alert["link"],
        redacted_from=alert.get("redacted_subject_id"),
        coarse_times=bool(alert.get("coarse_times")),
    )
    recipients = await resolve_or_fall_back(ctx=ctx, rule_id=alert["rule_id"], target=step.target, info=info, at=now)
    started_at = state.get("started_at") or alert["created_at"]
    following = steps[level + 1] if level + 1 < len(steps) else None
    next_at = _step_due(started_at, following, ctx.settings.working_zone) if following else None
    entry = outbox_entry(
        new_event(
            AlertEscalated(
                alert_id=alert["_id"],
                subject_id=alert["subject_id"],
                level=level + 1,
                target=step.target.label(),
                recipient_ids=recipients,
                escalated_at=now,
            ),
            source=ctx.source,
        )
    )
    changes = {"escalation.level": level + 1, "escalation.next_at": next_at, "updated_at": now}
    if not await ctx.repo.update_alert(alert=alert, changes=changes, entries=[entry]):
        return False  # acknowledged or escalated by another instance meanwhile
    ctx.outbox.dispatch(ALERTS, alert["_id"], [entry])
    rule = RouteRule(
        id=alert["rule_id"],
        event_types=(alert["event_type"],),
        target=step.target,
        channels=tuple(Channel(c) for c in alert["channels"]),
    )
    for recipient in recipients:
        told = shown_to(info, await ctx.repo.person(person_id=recipient), escalated=True)
        child = new_alert(
            alert_id=_id(alert["_id"], str(level + 1), recipient),
            rule=rule,
            recipient_id=recipient,
            info=told,
            now=hour_floor(now) if told.coarse_times else now,
            group_key=f"{recipient}|{told.subject_id}|escalated",
            root_id=alert["_id"],
            level=level + 1,
        )
        if told.family == info.family:
            child["title"] = f"Escalated: {alert['title']} (unacknowledged)"
        created = created_entry(ctx, child)
        if await ctx.repo.insert_alert(alert=child, entries=[created]):
            ctx.outbox.dispatch(ALERTS, child["_id"], [created])
            await start_deliveries(ctx=ctx, alert=child, channels=rule.channels)
            ctx.hub.notify(recipient)
    return True


async def close_alerts_for_resolved_flag(*, ctx: NotificationsContext, student_id: str) -> int:
    """A resolved flag needs no more chasing: its open alerts close and their escalation stops."""
    closed = 0
    for alert in await ctx.repo.open_alerts_about(subject_id=student_id, families=("flag", REDACTED_FAMILY)):
        changes = {"status": "resolved", "updated_at": utcnow(), **_stop_timer(alert)}
        if await ctx.repo.update_alert(alert=alert, changes=changes):
            closed += 1
            ctx.hub.notify(alert["recipient_id"])
    return closed


def _stop_timer(alert: Document) -> Document:
    return {"escalation.next_at": None} if alert.get("escalation") else {}


async def refresh_open_urgent_gauge(*, ctx: NotificationsContext) -> None:
    OPEN_URGENT.set(await ctx.repo.count_open_urgent())


def alert_view(alert: Document, deliveries: list[Document] | None = None) -> dict[str, Any]:
    view = {
        k: alert.get(k)
        for k in (
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
    }
    view["id"] = alert["_id"]
    escalation = alert.get("escalation") or {}
    view["escalation_level"] = escalation.get("level", alert.get("level", 0))
    view["next_escalation_at"] = escalation.get("next_at")
    if deliveries is not None:
        view["deliveries"] = [
            {
                k: d.get(k)
                for k in (
                    "channel",
                    "status",
                    "address_kind",
                    "attempt_count",
                    "attempts",
                    "delivered_at",
                    "next_attempt_at",
                    "reason",
                )
            }
            | {"id": d["_id"]}
            for d in deliveries
        ]
    return view


__all__ = ["acknowledge", "alert_view", "escalate_due", "plan_deliveries", "route_event"]
