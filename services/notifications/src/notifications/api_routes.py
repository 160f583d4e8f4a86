"""Routes for the routing rules (use cases: route_rules.py): each change keeps the safety invariant, and a
preview changes nothing."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response

from medsupport_shared.auth import Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit
from notifications import route_rules
from notifications.context import Context
from notifications.routing import RULE_ID_PATTERN, RouteRule
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
    items, next_cursor = await route_rules.rules_page(ctx, limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": next_cursor}


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
        return await route_rules.add_rule(ctx, body)

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
    return await route_rules.put_rule(ctx, rule_id, body)


@router.delete(
    "/{rule_id}",
    status_code=204,
    summary="Delete a routing rule (admin)",
    description="Any stored id can be deleted, also one an older version stored outside today's pattern. " + INVARIANT,
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def delete_rule(rule_id: Annotated[str, Path(min_length=1, max_length=200)], _: Admin, ctx: Context) -> Response:
    await route_rules.remove_rule(ctx, rule_id)
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
    return await route_rules.preview(
        ctx, event_type=body.event_type, severity=body.severity, cohort=body.cohort, rule=body.rule
    )
