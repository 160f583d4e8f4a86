"""Use cases of the routing rules: each change keeps the safety invariant (safety.change_problems), a rule that
could match nobody is refused, and a preview resolves who an event would reach while changing nothing."""

from __future__ import annotations

from typing import Any

from medsupport_shared.domain_errors import Conflict, NotFound, Unprocessable
from medsupport_shared.events import utcnow
from medsupport_shared.mongo import paginate_sequence
from notifications.context import NotificationsContext
from notifications.domain.event_facts import family_of
from notifications.event_info import EventInfo
from notifications.recipients import plan_routing
from notifications.routing import RouteRule, rule_problems
from notifications.safety import change_problems, health_target_problems, replaced, roles_of, without


async def rules_page(
    ctx: NotificationsContext, *, limit: int | None, cursor: str | None
) -> tuple[list[RouteRule], str | None]:
    """The readable stored rules by id (one that no longer fits the model is left out, logged and counted)."""
    return paginate_sequence(await ctx.repo.rules(), key=lambda rule: rule.id, limit=limit, cursor=cursor)


async def validated(ctx: NotificationsContext, rule: RouteRule) -> RouteRule:
    """``rule``, unless it could match nobody or sends health data to a non-health target (Unprocessable)."""
    staff_roles = await ctx.repo.staff_roles()
    problems = rule_problems(rule, staff_ids=set(staff_roles), rota_teams=await ctx.repo.rota_teams())
    problems += health_target_problems(rule, staff_roles=staff_roles)
    if problems:
        raise Unprocessable("this rule is refused", errors=[{"loc": ["body"], "msg": p} for p in problems])
    return rule


def _keeps_invariant(after: list[RouteRule], before: list[RouteRule]) -> None:
    if problems := change_problems(before, after):
        raise Conflict(
            "this change would leave urgent wellbeing flags without a counselling route: " + "; ".join(problems),
            errors=[{"loc": ["body"], "msg": p} for p in problems],
        )


async def add_rule(ctx: NotificationsContext, rule: RouteRule) -> RouteRule:
    """A new rule; Conflict when its id is taken (replace it instead) or it breaks the invariant."""
    await validated(ctx, rule)
    before = await ctx.repo.rules()
    _keeps_invariant(replaced(before, rule), before)
    if not await ctx.repo.insert_rule(rule=rule):
        raise Conflict(f"a rule with id {rule.id!r} exists; PUT /v1/routes/{rule.id} to change it")
    return rule


async def put_rule(ctx: NotificationsContext, rule_id: str, body: RouteRule) -> RouteRule:
    """The rule with id ``rule_id`` replaced (or created) by ``body``, which takes that id."""
    rule = await validated(ctx, RouteRule.model_validate({**body.model_dump(), "id": rule_id}))
    before = await ctx.repo.rules()
    _keeps_invariant(replaced(before, rule), before)
    await ctx.repo.replace_rule(rule=rule)
    return rule


async def remove_rule(ctx: NotificationsContext, rule_id: str) -> None:
    """Delete a stored rule (any stored id, also one outside today's pattern); NotFound when there is none."""
    before = await ctx.repo.rules()
    _keeps_invariant(without(before, rule_id), before)
    if not await ctx.repo.delete_rule(rule_id=rule_id):
        raise NotFound("no rule with that id")


async def preview(
    ctx: NotificationsContext, *, event_type: str, severity: str, cohort: str | None, rule: RouteRule | None
) -> dict[str, Any]:
    """Who an event of that type, severity and cohort would reach through the stored rules (with ``rule`` put in
    place of the one with its id), against today's directory and rotas; logs, counts and changes nothing."""
    rules = await ctx.repo.rules()
    if rule is not None:
        rules = replaced(rules, await validated(ctx, rule))
    info = EventInfo(
        event_id="preview",
        event_type=event_type,
        severity=severity,
        cohort=cohort,
        subject_id="preview",
        family=family_of(event_type),
        reasons=(),
        title="preview",
        link="/",
    )
    plan = await plan_routing(ctx=ctx, info=info, rules=rules, at=utcnow(), record=False)
    recipients = []
    for item in plan.routed:
        person = await ctx.repo.person(person_id=item.recipient_id) or {}
        recipients.append(
            {
                "person_id": item.recipient_id,
                "name": person.get("name"),
                "roles": sorted(roles_of(person)),
                "channels": list(item.rule.channels),
                "rule_id": item.rule.id,
                "escalation": [step.model_dump(mode="json") for step in item.rule.escalation],
            }
        )
    return {"recipients": recipients, "safety_floor": plan.safety_floor}
