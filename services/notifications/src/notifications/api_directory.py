"""Routes for the staff directory, personal preferences, on-call rotas and routing rules."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import AfterValidator

from medsupport_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, Conflict, Forbidden, NotFound, Unprocessable, problem_responses
from medsupport_shared.events import utcnow
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit, as_utc_instant
from medsupport_shared.mongo import paginate_sequence
from notifications.channels import email_address
from notifications.context import NotificationsContext
from notifications.rota import Rota, on_call
from notifications.routing import RouteRule, rule_problems
from notifications.schemas import (
    OnCall,
    PreferencesIn,
    PreferencesOut,
    RotaIn,
    RotaOut,
    RulePage,
    StaffIn,
    StaffOut,
    StaffPage,
    staff_view,
)
from notifications.webhook_targets import WebhookTargetRefused


def get_context(request: Request) -> NotificationsContext:
    ctx: NotificationsContext = request.app.state.services
    return ctx


Context = Annotated[NotificationsContext, Depends(get_context)]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
RotaManager = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.WELLBEING_LEAD))]
StaffReader = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.WELLBEING_LEAD, Role.OPS))]
router = APIRouter(prefix="/v1", tags=["directory"])


async def check_webhook_url(ctx: NotificationsContext, url: str) -> None:
    """422 for a URL that points inward or carries credentials; a name that resolves inward now is refused
    too (one that does not resolve yet is checked again at every send)."""
    try:
        async with asyncio.timeout(2.0):
            await ctx.settings.webhook_policy.resolve(url)
    except WebhookTargetRefused as exc:
        raise Unprocessable(str(exc), errors=[{"loc": ["body", "webhook_url"], "msg": str(exc)}]) from exc
    except (OSError, TimeoutError):
        pass


@router.put(
    "/staff/{staff_id}",
    response_model=StaffOut,
    summary="Register or update a member of staff (admin)",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_staff(staff_id: str, body: StaffIn, _: Admin, ctx: Context) -> Any:
    unknown = set(body.roles) - {r.value for r in Role}
    if unknown:
        raise Unprocessable("unknown roles", errors=[{"loc": ["body", "roles"], "msg": f"unknown: {sorted(unknown)}"}])
    fields = {**body.model_dump(mode="json"), "kind": "staff", "updated_at": utcnow()}
    if fields.get("webhook_url"):
        await check_webhook_url(ctx, fields["webhook_url"])
    await ctx.repo.save_person(person_id=staff_id, fields=fields)
    return staff_view({"_id": staff_id, **fields})


@router.get(
    "/staff/{staff_id}",
    response_model=StaffOut,
    summary="A member of staff (admin, lead, ops or themselves)",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_staff(staff_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    if principal.sub != staff_id and not principal.has_any(Role.ADMIN, Role.WELLBEING_LEAD, Role.OPS):
        raise Forbidden("you may read only your own directory entry")
    doc = await ctx.repo.person(person_id=staff_id)
    if doc is None or doc.get("kind") != "staff":
        raise NotFound("no member of staff with that id")
    return staff_view(doc)


@router.get(
    "/staff", response_model=StaffPage, summary="The staff directory", responses=problem_responses(*AUTH_ERRORS, 400)
)
async def list_staff(_: StaffReader, ctx: Context, limit: PageLimit = 50, cursor: PageCursor = None) -> Any:
    items, next_cursor = await ctx.repo.page_people(limit=limit, cursor=cursor)
    return {"items": [staff_view(d) for d in items], "next_cursor": next_cursor}


@router.put(
    "/me/preferences",
    response_model=PreferencesOut,
    summary="My email, quiet hours and channels",
    description="Any signed-in user, students included (their own inbox and email). Quiet hours and channel "
    "choices apply to routine alerts only, never to urgent ones.",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_preferences(body: PreferencesIn, principal: CurrentPrincipal, ctx: Context) -> Any:
    existing = await ctx.repo.person(person_id=principal.sub) or {}
    fields: dict[str, Any] = {**body.model_dump(mode="json"), "updated_at": utcnow()}
    fields["email"] = fields["email"] or email_address(principal.email) or existing.get("email")
    if existing.get("kind") != "staff":
        fields.update(kind="student" if Role.STUDENT in principal.roles else "user", roles=sorted(principal.roles))
    await ctx.repo.save_person(person_id=principal.sub, fields=fields)
    return fields


@router.put(
    "/rotas/{team}",
    response_model=RotaOut,
    summary="Set a team's on-call rota (admin, wellbeing lead)",
    description="Everyone named (the lead, each shift and override) must be in the staff directory: a rota "
    "that would put an alert in nobody's hands is a 422.",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_rota(team: str, body: RotaIn, _: RotaManager, ctx: Context) -> Any:
    staff = await ctx.repo.staff_ids()
    named: list[tuple[tuple[str | int, ...], str]] = [(("body", "lead_id"), body.lead_id)]
    named += [(("body", "shifts", i, "staff_id"), s.staff_id) for i, s in enumerate(body.shifts)]
    named += [(("body", "overrides", i, "staff_id"), o.staff_id) for i, o in enumerate(body.overrides)]
    if unknown := [
        {"loc": list(loc), "msg": f"{who!r} is not in the staff directory"} for loc, who in named if who not in staff
    ]:
        raise Unprocessable("the rota names people who are not staff; PUT /v1/staff/{id} first", errors=unknown)
    rota = Rota(team=team, lead_id=body.lead_id, shifts=tuple(body.shifts), overrides=tuple(body.overrides))
    await ctx.repo.save_rota(team=team, rota=body.model_dump(mode="python"))
    return {**body.model_dump(), "team": team, "on_call_now": on_call(rota, utcnow())}


@router.get(
    "/rotas/{team}",
    response_model=RotaOut,
    summary="A team's rota and who is on call now",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_rota(team: str, _: StaffReader, ctx: Context) -> Any:
    rota = await _rota(ctx, team)
    return {**rota.model_dump(exclude={"team"}), "team": team, "on_call_now": on_call(rota, utcnow())}


@router.get(
    "/rotas/{team}/on-call",
    response_model=OnCall,
    summary="Who is on call at a time (default: now)",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def who_is_on_call(
    team: str, _: CurrentPrincipal, ctx: Context, at: Annotated[datetime, AfterValidator(as_utc_instant)] | None = None
) -> Any:
    """``at`` without an offset is taken as UTC; the answer gives it in UTC."""
    when = utcnow() if at is None else at
    return {"team": team, "at": when, "staff_id": on_call(await _rota(ctx, team), when)}


async def _rota(ctx: NotificationsContext, team: str) -> Rota:
    doc = await ctx.repo.rota(team=team)
    if doc is None:
        raise NotFound(f"no rota for team {team!r}")
    return Rota.model_validate({**doc, "team": team})


routes_router = APIRouter(prefix="/v1/routes", tags=["routing"])


@routes_router.get(
    "",
    response_model=RulePage,
    summary="The routing rules (admin, ops), by id",
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
    problems = rule_problems(rule, staff_ids=await ctx.repo.staff_ids(), rota_teams=await ctx.repo.rota_teams())
    if problems:
        raise Unprocessable("this rule could match nobody", errors=[{"loc": ["body"], "msg": p} for p in problems])
    return rule


@routes_router.post(
    "",
    response_model=RouteRule,
    status_code=201,
    summary="Add a routing rule (admin)",
    description="Rejected with 422 when it could match nobody (unknown event type, a severity the "
    "type never has, a person the event never names, an unknown role, staff member or rota).",
    responses=problem_responses(*AUTH_ERRORS, 409),
)
async def create_rule(body: RouteRule, principal: Admin, ctx: Context, idempotency_key: IdempotencyKey = None) -> Any:
    async def create() -> RouteRule:
        if not await ctx.repo.insert_rule(rule=await _validated(ctx, body)):
            raise Conflict(f"a rule with id {body.id!r} exists; PUT /v1/routes/{body.id} to change it")
        return body

    return await ctx.idempotency.run(
        key=idempotency_key, scope="routes.create", owner=principal.sub, payload=body, create=create
    )


@routes_router.put(
    "/{rule_id}",
    response_model=RouteRule,
    summary="Replace a routing rule (admin)",
    responses=problem_responses(*AUTH_ERRORS),
)
async def replace_rule(rule_id: str, body: RouteRule, _: Admin, ctx: Context) -> Any:
    rule = body.model_copy(update={"id": rule_id})
    await ctx.repo.replace_rule(rule=await _validated(ctx, rule))
    return rule


@routes_router.delete(
    "/{rule_id}",
    status_code=204,
    summary="Delete a routing rule (admin)",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def delete_rule(rule_id: str, _: Admin, ctx: Context) -> Response:
    if not await ctx.repo.delete_rule(rule_id=rule_id):
        raise NotFound("no rule with that id")
    return Response(status_code=204)
