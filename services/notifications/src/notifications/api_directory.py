"""Routes for the staff directory, personal preferences, on-call rotas and routing rules."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import AfterValidator, BaseModel, ValidationError

from medsupport_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from medsupport_shared.documents import parse_document, valid_documents
from medsupport_shared.errors import AUTH_ERRORS, Conflict, Forbidden, NotFound, Unprocessable, problem_responses
from medsupport_shared.events import utcnow
from medsupport_shared.inputs import PageCursor, PageLimit, as_utc_instant
from notifications.channels import email_address
from notifications.context import Context, NotificationsContext
from notifications.repository import PEOPLE, ROLE_GRANTS, ROTAS
from notifications.rota import Rota, on_call
from notifications.safety import SAFETY_FLOOR_CONTACT_ID, health_role_change, last_holder_problems, roles_of
from notifications.schemas import (
    STAFF_ID_PATTERN,
    TEAM_PATTERN,
    OnCall,
    PreferencesIn,
    PreferencesOut,
    RoleGrant,
    RoleGrantPage,
    RotaIn,
    RotaOut,
    StaffIn,
    StaffOut,
    StaffPage,
    role_grant_view,
    staff_view,
)
from notifications.webhook_targets import WebhookTargetRefused

StaffManager = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.WELLBEING_LEAD))]
RotaManager = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.WELLBEING_LEAD))]
StaffMember = Annotated[Principal, Depends(require_roles(*(r for r in Role if r is not Role.STUDENT)))]
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


StaffId = Annotated[str, Path(pattern=STAFF_ID_PATTERN, description="the person's IdP subject")]
Team = Annotated[str, Path(pattern=TEAM_PATTERN, description="lower-case letters, digits and ._-")]


def _storable(model: type[BaseModel], view: dict[str, Any]) -> None:
    """What is written is read back through the reply model: refuse here what could not be shown later (a URL
    that normalisation makes longer than a URL may be, ...)."""
    try:
        model.model_validate(view)
    except ValidationError as exc:
        errors = [{"loc": ["body", *e["loc"]], "msg": e["msg"]} for e in exc.errors(include_input=False)]
        raise Unprocessable("this entry could not be read back as stored", errors=errors) from None


async def authorise_staff_writes(
    ctx: NotificationsContext, principal: Principal, entries: dict[str, dict[str, Any]], *, record: bool = True
) -> None:
    """Who may write these directory entries (403 otherwise): granting or revoking a health-data role, or
    readdressing its holder, needs the wellbeing lead; an entry with any other role, the admin. Taking the
    last holder of a health-data role off it is a 409. Each grant and revocation of a health-data role is
    recorded first, so none is in force without its record."""
    existing = await ctx.repo.people_by_id(person_ids=list(entries))
    changes = {person_id: health_role_change(existing.get(person_id), fields) for person_id, fields in entries.items()}
    if any(c.needs_wellbeing_lead for c in changes.values()) and not principal.has_any(Role.WELLBEING_LEAD):
        raise Forbidden(
            "granting or revoking a health-data role (counsellor, wellbeing_lead), or changing where such a person's alerts go, "
            "needs the wellbeing lead"
        )
    if any(c.needs_admin for c in changes.values()) and not principal.has_any(Role.ADMIN):
        raise Forbidden("an entry with a role other than counsellor or wellbeing_lead is written by an admin")
    if any(c.revoked for c in changes.values()):
        await _keeps_health_roles_held(ctx, {person_id: roles_of(fields) for person_id, fields in entries.items()})
    if not record:
        return
    for person_id, change in changes.items():
        if change.granted or change.revoked:
            await ctx.repo.record_role_change(
                change={
                    "_id": str(uuid.uuid4()),
                    "at": utcnow(),
                    "by": principal.sub,
                    "staff_id": person_id,
                    "granted": sorted(change.granted),
                    "revoked": sorted(change.revoked),
                }
            )


async def _keeps_health_roles_held(ctx: NotificationsContext, writes: dict[str, frozenset[str]]) -> None:
    if problems := last_holder_problems(await ctx.repo.staff_roles(), writes):
        raise Conflict(
            "this change would leave a health-data role held by nobody, so urgent flags would reach no counsellor: "
            + "; ".join(problems),
            errors=[{"loc": ["body", "roles"], "msg": p} for p in problems],
        )


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
    unknown = set(body.roles) - {r.value for r in Role}
    if unknown:
        raise Unprocessable("unknown roles", errors=[{"loc": ["body", "roles"], "msg": f"unknown: {sorted(unknown)}"}])
    if staff_id == SAFETY_FLOOR_CONTACT_ID:
        raise Unprocessable(
            "reserved id", errors=[{"loc": ["path", "staff_id"], "msg": "reserved for the safety floor"}]
        )
    fields = {**body.model_dump(mode="json"), "kind": "staff", "updated_at": utcnow()}
    _storable(StaffOut, staff_view({"_id": staff_id, **fields}))
    if fields.get("webhook_url"):
        await check_webhook_url(ctx, fields["webhook_url"])
    await authorise_staff_writes(ctx, principal, {staff_id: fields})
    await ctx.repo.save_person(person_id=staff_id, fields=fields)
    return staff_view({"_id": staff_id, **fields})


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
    items, next_cursor = await ctx.repo.page_role_changes(limit=limit, cursor=cursor)
    valid = valid_documents(items, RoleGrant, collection=ROLE_GRANTS, prepare=role_grant_view)
    return {"items": [role_grant_view(d) for d in valid], "next_cursor": next_cursor}


@router.get(
    "/staff/{staff_id}",
    response_model=StaffOut,
    summary="A member of staff (admin, lead, ops or themselves; webhook URL in full to admins and themselves)",
    description="An entry stored under older rules that no longer fits the model is a 404 (logged and counted).",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_staff(staff_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    if principal.sub != staff_id and not principal.has_any(Role.ADMIN, Role.WELLBEING_LEAD, Role.OPS):
        raise Forbidden("you may read only your own directory entry")
    doc = await ctx.repo.person(person_id=staff_id)
    if doc is None or doc.get("kind") != "staff":
        raise NotFound("no member of staff with that id")
    if parse_document(doc, StaffOut, collection=PEOPLE, prepare=staff_view) is None:
        raise NotFound("the stored entry no longer fits the directory's model; PUT it again")
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
    items, next_cursor = await ctx.repo.page_people(limit=limit, cursor=cursor)
    valid = valid_documents(items, StaffOut, collection=PEOPLE, prepare=staff_view)
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
    existing = await ctx.repo.person(person_id=principal.sub) or {}
    fields: dict[str, Any] = {**body.model_dump(mode="json"), "updated_at": utcnow()}
    fields["email"] = fields["email"] or email_address(principal.email) or existing.get("email")
    if existing.get("kind") != "staff":  # a token's roles are never stored: they may be revoked at the IdP
        fields.update(kind="student" if Role.STUDENT in principal.roles else "user", roles=[])
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
async def put_rota(team: Team, body: RotaIn, _: RotaManager, ctx: Context) -> Any:
    staff = await ctx.repo.staff_ids()
    named: list[tuple[tuple[str | int, ...], str]] = [(("body", "lead_id"), body.lead_id)]
    named += [(("body", "shifts", i, "staff_id"), s.staff_id) for i, s in enumerate(body.shifts)]
    named += [(("body", "overrides", i, "staff_id"), o.staff_id) for i, o in enumerate(body.overrides)]
    if unknown := [
        {"loc": list(loc), "msg": f"{who!r} is not in the staff directory"} for loc, who in named if who not in staff
    ]:
        raise Unprocessable("the rota names people who are not staff; PUT /v1/staff/{id} first", errors=unknown)
    rota = Rota(team=team, lead_id=body.lead_id, shifts=tuple(body.shifts), overrides=tuple(body.overrides))
    reply = {**body.model_dump(), "team": team, "on_call_now": on_call(rota, utcnow())}
    _storable(RotaOut, reply)
    await ctx.repo.save_rota(team=team, rota=body.model_dump(mode="python"))
    return reply


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
    summary="Who is on call at a time (default: now; staff roles only)",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def who_is_on_call(
    team: str, _: StaffMember, ctx: Context, at: Annotated[datetime, AfterValidator(as_utc_instant)] | None = None
) -> Any:
    """``at`` without an offset is taken as UTC; the answer gives it in UTC."""
    when = utcnow() if at is None else at
    return {"team": team, "at": when, "staff_id": on_call(await _rota(ctx, team), when)}


async def _rota(ctx: NotificationsContext, team: str) -> Rota:
    doc = await ctx.repo.rota(team=team)
    rota = None if doc is None else parse_document(doc, Rota, collection=ROTAS, prepare=lambda d: {**d, "team": team})
    if rota is None:
        raise NotFound("no readable rota for that team")
    return rota
