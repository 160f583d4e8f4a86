"""Use cases of the staff directory, personal preferences and on-call rotas.

Who may write an entry follows the health-data roles it grants, revokes or readdresses (safety.py); every grant
and revocation is recorded before it is in force; no write may take the last holder off a health-data role."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from pydantic import BaseModel, ValidationError

from medsupport_shared.auth import Principal, Role
from medsupport_shared.documents import parse_document, valid_documents
from medsupport_shared.domain_errors import Conflict, Forbidden, NotFound, Unprocessable
from medsupport_shared.events import utcnow
from notifications.channels import email_address
from notifications.context import NotificationsContext
from notifications.repository import PEOPLE, ROLE_GRANTS, ROTAS, Document
from notifications.rota import Rota, on_call
from notifications.safety import SAFETY_FLOOR_CONTACT_ID, health_role_change, last_holder_problems, roles_of
from notifications.schemas import RoleGrant, RotaIn, RotaOut, StaffIn, StaffOut, role_grant_view, staff_view
from notifications.webhook_targets import WebhookTargetRefused

Page = tuple[list[Document], str | None]


async def check_webhook_url(ctx: NotificationsContext, url: str) -> None:
    """Unprocessable for a URL that points inward or carries credentials; a name that resolves inward now is
    refused too (one that does not resolve yet is checked again at every send)."""
    try:
        async with asyncio.timeout(2.0):
            await ctx.settings.webhook_policy.resolve(url)
    except WebhookTargetRefused as exc:
        raise Unprocessable(str(exc), errors=[{"loc": ["body", "webhook_url"], "msg": str(exc)}]) from exc
    except (OSError, TimeoutError):
        pass


def refuse_unreadable(model: type[BaseModel], view: dict[str, Any]) -> None:
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
    """Who may write these directory entries (Forbidden otherwise): granting or revoking a health-data role, or
    readdressing its holder, needs the wellbeing lead; an entry with any other role, the admin. Taking the
    last holder of a health-data role off it is a Conflict. Each grant and revocation of a health-data role is
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


async def register_staff(ctx: NotificationsContext, principal: Principal, staff_id: str, body: StaffIn) -> Document:
    """Register or update a member of staff; answers the stored entry."""
    unknown = set(body.roles) - {r.value for r in Role}
    if unknown:
        raise Unprocessable("unknown roles", errors=[{"loc": ["body", "roles"], "msg": f"unknown: {sorted(unknown)}"}])
    if staff_id == SAFETY_FLOOR_CONTACT_ID:
        raise Unprocessable(
            "reserved id", errors=[{"loc": ["path", "staff_id"], "msg": "reserved for the safety floor"}]
        )
    fields = {**body.model_dump(mode="json"), "kind": "staff", "updated_at": utcnow()}
    refuse_unreadable(StaffOut, staff_view({"_id": staff_id, **fields}))
    if fields.get("webhook_url"):
        await check_webhook_url(ctx, fields["webhook_url"])
    await authorise_staff_writes(ctx, principal, {staff_id: fields})
    await ctx.repo.save_person(person_id=staff_id, fields=fields)
    return {"_id": staff_id, **fields}


async def role_grants(ctx: NotificationsContext, *, limit: int | None, cursor: str | None) -> Page:
    """The recorded grants and revocations of health-data roles, newest first (unreadable ones left out)."""
    items, next_cursor = await ctx.repo.page_role_changes(limit=limit, cursor=cursor)
    return valid_documents(items, RoleGrant, collection=ROLE_GRANTS, prepare=role_grant_view), next_cursor


async def staff_member(ctx: NotificationsContext, principal: Principal, staff_id: str) -> Document:
    """A member of staff, for admin, lead, ops or themselves; an entry that no longer fits the model is
    NotFound (logged and counted)."""
    if principal.sub != staff_id and not principal.has_any(Role.ADMIN, Role.WELLBEING_LEAD, Role.OPS):
        raise Forbidden("you may read only your own directory entry")
    doc = await ctx.repo.person(person_id=staff_id)
    if doc is None or doc.get("kind") != "staff":
        raise NotFound("no member of staff with that id")
    if parse_document(doc, StaffOut, collection=PEOPLE, prepare=staff_view) is None:
        raise NotFound("the stored entry no longer fits the directory's model; PUT it again")
    return doc


async def staff_page(ctx: NotificationsContext, *, limit: int | None, cursor: str | None) -> Page:
    """A page of the staff directory (entries that no longer fit the model left out, logged and counted)."""
    items, next_cursor = await ctx.repo.page_people(limit=limit, cursor=cursor)
    return valid_documents(items, StaffOut, collection=PEOPLE, prepare=staff_view), next_cursor


async def save_preferences(ctx: NotificationsContext, principal: Principal, preferences: dict[str, Any]) -> Document:
    """Anyone's own e-mail, quiet hours and channels. A token's roles are never stored (they may be revoked at
    the IdP): someone not in the staff directory is stored as a student or a user without roles."""
    existing = await ctx.repo.person(person_id=principal.sub) or {}
    fields: dict[str, Any] = {**preferences, "updated_at": utcnow()}
    fields["email"] = fields["email"] or email_address(principal.email) or existing.get("email")
    if existing.get("kind") != "staff":
        fields.update(kind="student" if Role.STUDENT in principal.roles else "user", roles=[])
    await ctx.repo.save_person(person_id=principal.sub, fields=fields)
    return fields


async def set_rota(ctx: NotificationsContext, team: str, body: RotaIn) -> dict[str, Any]:
    """Store a team's rota; everyone it names must be staff of the directory (a rota that would put an alert
    in nobody's hands is Unprocessable). Answers the rota with who is on call now."""
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
    refuse_unreadable(RotaOut, reply)
    await ctx.repo.save_rota(team=team, rota=body.model_dump(mode="python"))
    return reply


async def readable_rota(ctx: NotificationsContext, team: str) -> Rota:
    """A team's stored rota; NotFound when there is none, or it no longer fits the model."""
    doc = await ctx.repo.rota(team=team)
    rota = None if doc is None else parse_document(doc, Rota, collection=ROTAS, prepare=lambda d: {**d, "team": team})
    if rota is None:
        raise NotFound("no readable rota for that team")
    return rota
