"""Routes for the routing rules: each change keeps the safety invariant, and a preview changes nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from medsupport_shared.auth import Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, Conflict, NotFound, Unprocessable, problem_responses
from medsupport_shared.events import utcnow
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit
from medsupport_shared.mongo import paginate_sequence
from notifications.context import Context, NotificationsContext
from notifications.domain.event_facts import family_of
from notifications.event_info import EventInfo
from notifications.recipients import plan_routing
from notifications.routing import RULE_ID_PATTERN, RouteRule, rule_problems
from notifications.safety import change_problems, health_target_problems, replaced, roles_of, without
from notifications.schemas import PreviewIn, PreviewOut, RulePage

router = APIRouter(prefix="/v1/routes", tags=["routing"])
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
RuleId = Annotated[str, Path(min_length=1, max_length=80, pattern=RULE_ID_PATTERN)]
INVARIANT = (
    "Every change (create, replace, disable, narrow, delete) must leave every urgent wellbeing flag of any cohort "
    "an enabled rule to a counselling role (`counsellor`, `wellbeing_lead`) or the `counselling` rota with an "
    "escalation chain; a change that breaks this is a 409 saying why."
)


@router.get(
    "",
    response_model=RulePage,
    summary="The routing rules (admin, ops), by id",
    description="A stored rule that no longer fits the model (an older version's, a hand edit) is left out, "
    'logged and counted in `medsupport_invalid_documents_total{collection="routes"}`.',
    responses=problem_responses(*AUTH_ERRORS),
)
async def list_rules(
    _: Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.OPS))],
    ctx: Context,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    items, next_cursor = paginate_sequence(await ctx.repo.rules(), key=lambda rule: rule.id, limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": next_cursor}


async def _validated(ctx: NotificationsContext, rule: RouteRule) -> RouteRule:
    staff_roles = await ctx.repo.staff_roles()
    problems = rule_problems(rule, staff_ids=set(staff_roles), rota_teams=await ctx.repo.rota_teams())
    problems += health_target_problems(rule, staff_roles=staff_roles)
    if problems:
        raise Unprocessable("this rule is refused", errors=[{"loc": ["body"], "msg": p} for p in problems])
    return rule


async def _keeps_invariant(ctx: NotificationsContext, after: list[RouteRule], before: list[RouteRule]) -> None:
    if problems := change_problems(before, after):
        raise Conflict(
            "this change would leave urgent wellbeing flags without a counselling route: " + "; ".join(problems),
            errors=[{"loc": ["body"], "msg": p} for p in problems],
        )


@router.post(
    "",
    response_model=RouteRule,
    status_code=201,
    summary="Add a routing rule (admin)",
    description="Rejected with 422 when it could match nobody (unknown event type, a severity the type never "
    "has, a person the event never names, an unknown role, staff member or rota) or when a wellbeing flag rule "
    "targets anyone but a counselling role, the `counselling` rota, staff holding a counselling role or the "
    "mentor. " + INVARIANT,
    responses=problem_responses(*AUTH_ERRORS, 409),
)
async def create_rule(body: RouteRule, principal: Admin, ctx: Context, idempotency_key: IdempotencyKey = None) -> Any:
    async def create() -> RouteRule:
        rule = await _validated(ctx, body)
        before = await ctx.repo.rules()
        await _keeps_invariant(ctx, replaced(before, rule), before)
        if not await ctx.repo.insert_rule(rule=rule):
            raise Conflict(f"a rule with id {body.id!r} exists; PUT /v1/routes/{body.id} to change it")
        return body

    return await ctx.idempotency.run(
        key=idempotency_key, scope="routes.create", owner=principal.sub, payload=body, create=create
    )


@router.put(
    "/{rule_id}",
    response_model=RouteRule,
    summary="Replace a routing rule (admin)",
    description="The path id follows the same pattern as a rule's `id` (else 422). " + INVARIANT,
    responses=problem_responses(*AUTH_ERRORS, 409),
)
async def replace_rule(rule_id: RuleId, body: RouteRule, _: Admin, ctx: Context) -> Any:
    rule = await _validated(ctx, RouteRule.model_validate({**body.model_dump(), "id": rule_id}))
    before = await ctx.repo.rules()
    await _keeps_invariant(ctx, replaced(before, rule), before)
    await ctx.repo.replace_rule(rule=rule)
    return rule


@router.delete(
    "/{rule_id}",
    status_code=204,
    summary="Delete a routing rule (admin)",
    description="Any stored id can be deleted, also one an older version stored outside today's pattern. " + INVARIANT,
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def delete_rule(rule_id: Annotated[str, Path(min_length=1, max_length=200)], _: Admin, ctx: Context) -> Response:
    before = await ctx.repo.rules()
    await _keeps_invariant(ctx, without(before, rule_id), before)
    if not await ctx.repo.delete_rule(rule_id=rule_id):
        raise NotFound("no rule with that id")
    return Response(status_code=204)


@router.post(
    "/preview",
    response_model=PreviewOut,
    summary="Who an event would reach (admin, wellbeing lead); changes nothing",
    description="Resolves the stored rules, or the stored rules with `rule` put in place of the one with its id "
    "(unsaved), against today's directory and rotas for an event of that type, severity and cohort. People the "
    "event itself would name (student, mentor, ...) are not shown. `safety_floor` is true when an urgent "
    "wellbeing flag would reach no counselling person through the rules, so the safety floor would route it.",
    responses=problem_responses(*AUTH_ERRORS),
)
async def preview(
    body: PreviewIn,
    _: Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.WELLBEING_LEAD))],
    ctx: Context,
) -> Any:
    rules = await ctx.repo.rules()
    if body.rule is not None:
        rules = replaced(rules, await _validated(ctx, body.rule))
    info = EventInfo(
        event_id="preview",
        event_type=body.event_type,
        severity=body.severity,
        cohort=body.cohort,
        subject_id="preview",
        family=family_of(body.event_type),
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
