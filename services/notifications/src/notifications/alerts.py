"""Use cases driven by events: turn an event into alerts for the right people (grouping bursts), and close the
alerts of a flag once it is resolved.

One alert per (event, rule, recipient): its id is derived from them, so a redelivered event never creates a
second one. A burst about the same student for the same recipient inside the grouping window updates the open
alert instead (``domain.grouping``)."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from medsupport_shared.domain_errors import Conflict
from medsupport_shared.events import CloudEvent, EventData, utcnow
from notifications.alert_events import record_created
from notifications.context import NotificationsContext
from notifications.deliveries import start_deliveries
from notifications.domain.alerts import Alert, derived_id, new_alert
from notifications.domain.coarse_time import hour_floor
from notifications.domain.grouping import GROUPED_FAMILIES, Reach, fold, group_key
from notifications.event_info import REDACTED_FAMILY, EventInfo, describe
from notifications.metrics import ALERTS_CREATED, ALERTS_GROUPED
from notifications.recipients import plan_routing, shown_to
from notifications.routing import RouteRule

log = logging.getLogger(__name__)


async def route_event(*, ctx: NotificationsContext, event: CloudEvent, payload: EventData | None = None) -> list[str]:
    """Alerts for every rule the event matches and every person each rule targets; an urgent wellbeing flag
    that reaches no counselling person this way goes through the safety floor."""
    with ctx.repo.people_read_once():
        return await _route(ctx=ctx, event=event, payload=payload)


async def _route(*, ctx: NotificationsContext, event: CloudEvent, payload: EventData | None) -> list[str]:
    info = describe(event, payload)
    mentor_link = "/mentorship"
    if info.mentor_consented:  # a wellbeing flag the student consented to share with their mentor
        mentorship = await ctx.repo.mentor_of(student_id=info.subject_id)
        if mentorship is not None:
            info = replace(info, people={**info.people, "mentor": mentorship["mentor_id"]})
            mentor_link = f"/mentorship/assignments/{mentorship['assignment_id']}"
    rules = await ctx.repo.rules_for_routing()
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
                first_alert[item.recipient_id] = derived_id(info.event_id, item.rule.id, item.recipient_id)
                alert_id = await alert_recipient(ctx=ctx, rule=item.rule, recipient_id=item.recipient_id, info=told)
        except Exception as exc:  # one recipient's failure must not cost the others their alert
            log.exception("alerting one recipient failed", extra={"rule_id": item.rule.id, "event_id": info.event_id})
            failed = failed or exc
            continue
        if alert_id:
            touched.append(alert_id)
    if failed is not None:
        raise failed  # the event is retried (alerts already made are found again, not doubled), then dead-lettered
    return touched


async def alert_recipient(
    *, ctx: NotificationsContext, rule: RouteRule, recipient_id: str, info: EventInfo
) -> str | None:
    """Alert one person a rule reaches about an event: a new alert, or the event grouped into their open alert
    about the same student; then start its deliveries. The alert's id, or None when nothing changed."""
    now = hour_floor(utcnow()) if info.coarse_times else utcnow()
    alert_id = derived_id(info.event_id, rule.id, recipient_id)
    if (routed := await ctx.repo.alert(alert_id=alert_id)) is not None:
        # a redelivery of an event already routed; a crash may have come between the alert and its
        # deliveries, so make sure they exist (their ids are fixed: nothing is planned twice)
        await start_deliveries(ctx=ctx, alert=routed.to_document(), channels=rule.channels)
        return None
    key = group_key(recipient_id, info)
    window = timedelta(minutes=ctx.settings.grouping_window_minutes if info.family in GROUPED_FAMILIES else 0)
    if window and (open_alert := await ctx.repo.open_group_alert(group_key=key, since=now - window)):
        return await _fold_into(ctx=ctx, alert=open_alert, rule=rule, info=info, now=now)
    alert = new_alert(
        alert_id=alert_id,
        recipient_id=recipient_id,
        rule_id=rule.id,
        channels=tuple(str(c) for c in rule.channels),
        escalation=rule.escalation,
        info=info,
        now=now,
        group_key=key,
        zone=ctx.settings.working_zone,
    )
    if not await record_created(ctx, alert):
        return None
    if not info.coarse_times:  # a scraped increment would time an anonymous report to the scrape interval
        ALERTS_CREATED.labels(info.event_type, info.severity).inc()
    log.info("alert created", extra=_log_fields(alert_id, rule, info))
    await start_deliveries(ctx=ctx, alert=alert.to_document(), channels=rule.channels)
    ctx.hub.notify(recipient_id)
    return alert_id


async def _also_reach(
    *, ctx: NotificationsContext, alert_id: str, rule: RouteRule, recipient_id: str, info: EventInfo
) -> str | None:
    """Another rule reaching someone an earlier rule already alerted about this event: one alert per person
    and event, which takes the rule's channels (and escalation, when it has none). If that alert is not
    there (the event was folded into an open alert about the same student), the rule routes as usual."""
    alert = await ctx.repo.alert(alert_id=alert_id)
    if alert is None:
        return await alert_recipient(ctx=ctx, rule=rule, recipient_id=recipient_id, info=info)
    if not alert.is_open:
        return None  # already worked (a redelivery after the acknowledgement)
    now = hour_floor(utcnow()) if info.coarse_times else utcnow()
    return await _fold_into(ctx=ctx, alert=alert, rule=rule, info=info, now=now)


async def _fold_into(
    *, ctx: NotificationsContext, alert: Alert, rule: RouteRule, info: EventInfo, now: datetime
) -> str | None:
    """Fold the event into the recipient's open alert (``domain.grouping.fold``), again from a fresh read when
    another change got there first."""
    reach = Reach(rule_id=rule.id, channels=tuple(str(c) for c in rule.channels), escalation=rule.escalation)
    for _ in range(10):
        change = fold(alert, reach, info, now=now, zone=ctx.settings.working_zone)
        if change is None:
            return None  # a redelivery, or a rule that adds nothing
        if await ctx.repo.fold_alert(alert=alert, fold=change):
            if change.new_event_id is not None:
                ALERTS_GROUPED.labels(info.event_type).inc()
            log.info("alert updated", extra=_log_fields(alert.id, rule, info))
            if change.deliver:
                await start_deliveries(
                    ctx=ctx, alert=change.alert.to_document(), channels=change.deliver, suffix=change.suffix
                )
            ctx.hub.notify(alert.recipient_id)
            return alert.id
        reloaded = await ctx.repo.alert(alert_id=alert.id)
        if reloaded is None or not reloaded.is_open:
            return None
        alert = reloaded
    raise Conflict("the alert kept changing while grouping")


def _log_fields(alert_id: str, rule: RouteRule, info: EventInfo) -> dict[str, str]:
    """Ids and categories only: no person, no student (the correlation id links the log to the request)."""
    return {
        "alert_id": alert_id,
        "rule_id": rule.id,
        "event_id": info.event_id,
        "event_type": info.event_type,
        "severity": info.severity,
    }


async def close_alerts_for_resolved_flag(*, ctx: NotificationsContext, student_id: str) -> int:
    """A resolved flag needs no more chasing: its open alerts close and their escalation stops."""
    closed = 0
    for alert in await ctx.repo.open_alerts_about(subject_id=student_id, families=("flag", REDACTED_FAMILY)):
        if await ctx.repo.resolve_alert(alert=alert, at=utcnow()):
            closed += 1
            ctx.hub.notify(alert.recipient_id)
    return closed
