"""Who an alert goes to: a rule's target resolved against the directory and rotas, the fallback roles when
it resolves to nobody, and the safety floor when an urgent flag would reach no counselling person."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime

from medsupport_shared.documents import parse_document
from notifications.context import NotificationsContext
from notifications.domain.event_facts import fallback_roles_of
from notifications.event_info import EventInfo, for_mentor, redacted
from notifications.metrics import ROUTED_TO_FALLBACK, SAFETY_FLOOR_ROUTES, UNMATCHED_EVENTS
from notifications.repository import ROTAS, Document
from notifications.rota import Rota, on_call
from notifications.routing import ALL_CHANNELS, DEFAULT_RULES, PERSON_KINDS, RouteRule, Target, matching_rules
from notifications.safety import (
    CONCERN_FAMILIES,
    COUNSELLING_ROTA,
    FLAG_EVENT_TYPES,
    HEALTH_FAMILIES,
    HEALTH_ROLES,
    SAFETY_FLOOR_CONTACT_ID,
    SAFETY_FLOOR_RULE_ID,
    roles_of,
)

log = logging.getLogger(__name__)
_URGENT_DEFAULT = next(rule for rule in DEFAULT_RULES if rule.id == "wellbeing-urgent")
SAFETY_FLOOR_RULE = RouteRule(
    id=SAFETY_FLOOR_RULE_ID,
    description="No enabled rule routed this urgent flag to a counselling person: the counselling rota's "
    "on-call person, else the wellbeing lead, else the last-resort contact of the settings.",
    event_types=FLAG_EVENT_TYPES,
    severities=("urgent",),
    target=Target(kind="rota", value=COUNSELLING_ROTA),
    channels=ALL_CHANNELS,
    escalation=_URGENT_DEFAULT.escalation,
)


@dataclass(frozen=True)
class Routed:
    """One recipient of an event and the rule that reached them."""

    rule: RouteRule
    recipient_id: str
    info: EventInfo


def is_health_person(person: Document | None) -> bool:
    """May receive health data: staff of the directory holding a counselling role, or the settings-level
    last-resort contact (configured by the operator, not through the API)."""
    if person is None:
        return False
    if person.get("kind") == "safety_floor":
        return True
    return person.get("kind") == "staff" and bool(roles_of(person) & HEALTH_ROLES)


def is_concerns_officer(person: Document | None) -> bool:
    return person is not None and person.get("kind") == "staff" and "concerns_officer" in roles_of(person)


def shown_to(info: EventInfo, person: Document | None, *, escalated: bool = False) -> EventInfo:
    """What a recipient is told: health data only to health roles (anyone else gets a redacted notice), and
    the subject of a concern alert (a named report's reporter) only to the concerns officers."""
    if info.family in HEALTH_FAMILIES and not is_health_person(person):
        if escalated:
            return redacted(info, title="An urgent alert is unacknowledged")
        return redacted(info, title=f"{'An urgent' if info.urgent else 'A'} wellbeing alert needs a counsellor")
    if info.family in CONCERN_FAMILIES and not is_concerns_officer(person) and info.redacted_from is None:
        return replace(info, redacted_from=info.subject_id)  # stored for erasure, never shown
    return info


async def resolve_or_fall_back(
    *, ctx: NotificationsContext, rule_id: str, target: Target, info: EventInfo, at: datetime, record: bool = True
) -> list[str]:
    """The target's people; when a staff target resolves to nobody (a missing rota, a role nobody holds),
    the first fallback role that someone holds (declared with the event's facts: health data falls back to
    health roles only), so that an alert is never silently dropped. People named
    by the event (student, mentor, ...) have no fallback: an anonymous reporter is told nothing."""
    found = await resolve_target(ctx=ctx, target=target, info=info, at=at)
    if found or target.kind in PERSON_KINDS:
        return found
    for role in fallback_roles_of(info.family):
        if people := [p["_id"] for p in await ctx.repo.staff_with_role(role=role)]:
            if not record:
                return people
            log.error(
                "routing target resolved to nobody; using a fallback role",
                extra={"rule_id": rule_id, "target": target.label(), "fallback": role},
            )
            ROUTED_TO_FALLBACK.labels(rule_id).inc()
            return people
    log.critical("routing target resolved to nobody and no fallback role is staffed", extra={"rule_id": rule_id})
    return []


async def resolve_target(*, ctx: NotificationsContext, target: Target, info: EventInfo, at: datetime) -> list[str]:
    """The people a staff target names, only those in the directory (someone removed since the rule or
    rota was written is nobody); a rota's on-call person who is gone falls back to the team's lead."""
    if target.kind == "staff" and target.value:
        return [target.value] if await _is_staff(ctx, target.value) else []
    if target.kind == "role" and target.value:
        return [p["_id"] for p in await ctx.repo.staff_with_role(role=target.value)]
    if target.kind == "rota" and target.value:
        rota = await _rota(ctx, target.value)
        if rota is None:
            return []
        for candidate in dict.fromkeys((on_call(rota, at), rota.lead_id)):
            if await _is_staff(ctx, candidate):
                return [candidate]
        return []
    person = info.people.get(target.kind)
    return [person] if person else []


async def _rota(ctx: NotificationsContext, team: str) -> Rota | None:
    """A hand-edited rota that fails its model is nobody (the fallback applies), never a failed routing."""
    doc = await ctx.repo.rota(team=team)
    return None if doc is None else parse_document(doc, Rota, collection=ROTAS, prepare=lambda d: {**d, "team": team})


async def _is_staff(ctx: NotificationsContext, person_id: str) -> bool:
    person = await ctx.repo.person(person_id=person_id)
    return person is not None and person.get("kind") == "staff"


async def health_recipients(ctx: NotificationsContext, people: list[str]) -> set[str]:
    return {p for p in dict.fromkeys(people) if is_health_person(await ctx.repo.person(person_id=p))}


def needs_safety_floor(info: EventInfo, routed: list[Routed], health: set[str]) -> bool:
    """An urgent wellbeing flag that no rule with an escalation chain brought to a counselling person."""
    if info.family != "flag" or not info.urgent:
        return False
    return not any(r.rule.escalation and r.recipient_id in health for r in routed)


async def safety_floor(
    *, ctx: NotificationsContext, info: EventInfo, at: datetime, record: bool = True
) -> list[Routed]:
    """The counselling rota's on-call person (or its lead) if they hold a counselling role, else the wellbeing
    leads, else the settings-level last-resort contact, else (none configured) every counsellor: with the
    default urgent escalation. Logged and counted."""
    via, people = "nobody", []
    on_duty = await resolve_target(ctx=ctx, target=Target(kind="rota", value=COUNSELLING_ROTA), info=info, at=at)
    if on_duty := sorted(await health_recipients(ctx, on_duty)):
        via, people = "rota", on_duty
    elif leads := [p["_id"] for p in await ctx.repo.staff_with_role(role="wellbeing_lead")]:
        via, people = "wellbeing_lead", leads
    elif await ctx.repo.person(person_id=SAFETY_FLOOR_CONTACT_ID) is not None:
        via, people = "contact", [SAFETY_FLOOR_CONTACT_ID]
    elif counsellors := [p["_id"] for p in await ctx.repo.staff_with_role(role="counsellor")]:
        via, people = "counsellors", counsellors  # no contact configured: any counsellor rather than nobody
    if record:
        log_fields = {"event_id": info.event_id, "event_type": info.event_type, "via": via}
        if people:
            log.error(
                "urgent flag reached no counselling person through the rules; safety floor used", extra=log_fields
            )
        else:
            log.critical(
                "urgent flag routed to nobody: no counselling person, no SAFETY_FLOOR_* contact", extra=log_fields
            )
        SAFETY_FLOOR_ROUTES.labels(via).inc()
    return [Routed(rule=SAFETY_FLOOR_RULE, recipient_id=person, info=info) for person in people]


@dataclass(frozen=True)
class RoutingPlan:
    routed: list[Routed]
    health: set[str]
    """The recipients allowed health data; anyone else gets a redacted notice about a wellbeing flag."""
    safety_floor: bool


async def plan_routing(
    *,
    ctx: NotificationsContext,
    info: EventInfo,
    rules: list[RouteRule],
    at: datetime,
    mentor_link: str = "/mentorship",
    record: bool = True,
) -> RoutingPlan:
    """Every (rule, recipient) an event reaches, and the safety floor when it applies. ``record=False`` (the
    preview) logs and counts nothing."""
    matched = matching_rules(
        rules, event_type=info.event_type, severity=info.severity, cohort=info.cohort, category=info.category
    )
    if not matched and record:
        log.warning(
            "event matched no enabled routing rule", extra={"event_id": info.event_id, "event_type": info.event_type}
        )
        UNMATCHED_EVENTS.labels(info.event_type).inc()
    routed: list[Routed] = []
    for rule in matched:
        told = for_mentor(info, link=mentor_link) if rule.target.kind == "mentor" and info.family == "flag" else info
        found = await resolve_or_fall_back(
            ctx=ctx, rule_id=rule.id, target=rule.target, info=told, at=at, record=record
        )
        routed += [Routed(rule=rule, recipient_id=recipient, info=told) for recipient in found]
    health = await health_recipients(ctx, [r.recipient_id for r in routed])
    floor = needs_safety_floor(info, routed, health)
    if floor:
        added = await safety_floor(ctx=ctx, info=info, at=at, record=record)
        routed += added
        health |= {r.recipient_id for r in added}
    return RoutingPlan(routed=routed, health=health, safety_floor=floor)
