"""Routes for the staff directory, personal preferences and on-call rotas (use cases: directory.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import AfterValidator

from medsupport_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.events import utcnow
from medsupport_shared.inputs import PageCursor, PageLimit, as_utc_instant
from notifications import directory
from notifications.context import Context
from notifications.rota import on_call
from notifications.schemas import (
    STAFF_ID_PATTERN,
    TEAM_PATTERN,
    OnCall,
    PreferencesIn,
    PreferencesOut,
    RoleGrantPage,
    RotaIn,
    RotaOut,
    StaffIn,
    StaffOut,
    StaffPage,
    role_grant_view,
    staff_view,
)

StaffManager = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.WELLBEING_LEAD))]
RotaManager = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.WELLBEING_LEAD))]
StaffMember = Annotated[Principal, Depends(require_roles(*(r for r in Role if r is not Role.STUDENT)))]
StaffReader = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.WELLBEING_LEAD, Role.OPS))]
router = APIRouter(prefix="/v1", tags=["directory"])


StaffId = Annotated[str, Path(pattern=STAFF_ID_PATTERN, description="the person's IdP subject")]
Team = Annotated[str, Path(pattern=TEAM_PATTERN, description="lower-case letters, digits and ._-")]


@router.put(
    "/staff/{staff_id}",
    response_model=StaffOut,
    summary="Register or update a member of staff (admin, wellbeing lead)",
    description="Granting or revoking a health-data role (`counsellor`, `wellbeing_lead`), or changing the e-mail "
    "or webhook of someone who holds one (where their alerts go), needs the `wellbeing_lead` role; an entry with "
    "any other role needs `admin` (403 otherwise). Taking the last member of staff holding `counsellor` or "
    "`wellbeing_lead` off that role is a 409. Every grant and revocation of a health-data role is recorded "
    "(`GET /v1/role-grants`).",
    responses=problem_responses(*AUTH_ERRORS, 409),
)
async def put_staff(staff_id: StaffId, body: StaffIn, principal: StaffManager, ctx: Context) -> Any:
    return staff_view(await directory.register_staff(ctx, principal, staff_id, body))


@router.get(
    "/role-grants",
    response_model=RoleGrantPage,
    summary="Who granted or revoked a health-data role, to whom and when (wellbeing lead), newest first",
    responses=problem_responses(*AUTH_ERRORS, 400),
)
async def list_role_grants(
    _: Annotated[Principal, Depends(require_roles(Role.WELLBEING_LEAD))],
    ctx: Context,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    valid, next_cursor = await directory.role_grants(ctx, limit=limit, cursor=cursor)
    return {"items": [role_grant_view(d) for d in valid], "next_cursor": next_cursor}


@router.get(
    "/staff/{staff_id}",
    response_model=StaffOut,
    summary="A member of staff (admin, lead, ops or themselves; webhook URL in full to admins and themselves)",
    description="An entry stored under older rules that no longer fits the model is a 404 (logged and counted).",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_staff(staff_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    doc = await directory.staff_member(ctx, principal, staff_id)
    return staff_view(doc, masked=principal.sub != staff_id and not principal.has_any(Role.ADMIN))


@router.get(
    "/staff",
    response_model=StaffPage,
    summary="The staff directory",
    description="Webhook URLs (often bearer secrets) are shown in full to admins only, to others as "
    "`<scheme>://<host>/***`. An entry stored under older rules that no longer fits the model is left out (logged and counted "
    'in `medsupport_invalid_documents_total{collection="people"}`).',
    responses=problem_responses(*AUTH_ERRORS, 400),
)
async def list_staff(principal: StaffReader, ctx: Context, limit: PageLimit = 50, cursor: PageCursor = None) -> Any:
    valid, next_cursor = await directory.staff_page(ctx, limit=limit, cursor=cursor)
    masked = not principal.has_any(Role.ADMIN)
    return {"items": [staff_view(d, masked=masked) for d in valid], "next_cursor": next_cursor}


@router.put(
    "/me/preferences",
    response_model=PreferencesOut,
    summary="My email, quiet hours and channels",
    description="Any signed-in user, students included (their own inbox and email). Quiet hours and channel "
    "choices apply to routine alerts only, never to urgent ones.",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_preferences(body: PreferencesIn, principal: CurrentPrincipal, ctx: Context) -> Any:
    return await directory.save_preferences(ctx, principal, body.model_dump(mode="json"))


@router.put(
    "/rotas/{team}",
    response_model=RotaOut,
    summary="Set a team's on-call rota (admin, wellbeing lead)",
    description="Everyone named (the lead, each shift and override) must be in the staff directory: a rota "
    "that would put an alert in nobody's hands is a 422.",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_rota(team: Team, body: RotaIn, _: RotaManager, ctx: Context) -> Any:
    return await directory.set_rota(ctx, team, body)


@router.get(
    "/rotas/{team}",
    response_model=RotaOut,
    summary="A team's rota and who is on call now",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_rota(team: str, _: StaffReader, ctx: Context) -> Any:
    rota = await directory.readable_rota(ctx, team)
    return {**rota.model_dump(exclude={"team"}), "team": team, "on_call_now": on_call(rota, utcnow())}


@router.get(
    "/rotas/{team}/on-call",
    response_model=OnCall,
    summary="Who is on call at a time (default: now; staff roles only)",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def who_is_on_call(
    team: str, _: StaffMember, ctx: Context, at: Annotated[datetime, AfterValidator(as_utc_instant)] | None = None
) -> Any:
    """``at`` without an offset is taken as UTC; the answer gives it in UTC."""
    when = utcnow() if at is None else at
    return {"team": team, "at": when, "staff_id": on_call(await directory.readable_rota(ctx, team), when)}
