"""Use cases of the resource catalogue: the institution keeps it; a worrying check-in is answered from it."""

from __future__ import annotations

import logging
import uuid
from dataclasses import asdict
from typing import Any

from pymongo.errors import PyMongoError

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import NotFound
from wellbeing.context import WellbeingContext
from wellbeing.domain.resources import Resource, needs_for, resources_for_result

log = logging.getLogger(__name__)


def resource_view(resource: Resource) -> dict[str, Any]:
    return {**asdict(resource), "needs": list(resource.needs), "audiences": list(resource.audiences)}


NO_RESOURCE = "no resource with that id"


async def list_resources(
    *, ctx: WellbeingContext, need: str | None, kind: str | None, limit: int | None, cursor: str | None
) -> tuple[list[Resource], str | None]:
    return await ctx.resources.page(need=need, kind=kind, limit=limit, cursor=cursor)


async def get_resource(*, ctx: WellbeingContext, resource_id: str) -> Resource:
    found = await ctx.resources.get(resource_id=resource_id)
    if found is None:
        raise NotFound(NO_RESOURCE)
    return found


async def add_resource(*, ctx: WellbeingContext, fields: dict[str, Any]) -> Resource:
    resource = _resource(uuid.uuid4().hex, fields)
    await ctx.resources.save(resource=resource)
    return resource


async def replace_resource(*, ctx: WellbeingContext, resource_id: str, fields: dict[str, Any]) -> Resource:
    if await ctx.resources.get(resource_id=resource_id) is None:
        raise NotFound(NO_RESOURCE)
    resource = _resource(resource_id, fields)
    await ctx.resources.save(resource=resource)
    return resource


async def remove_resource(*, ctx: WellbeingContext, resource_id: str) -> None:
    if not await ctx.resources.delete(resource_id=resource_id):
        raise NotFound(NO_RESOURCE)


def _resource(resource_id: str, fields: dict[str, Any]) -> Resource:
    return Resource(
        id=resource_id,
        name=fields["name"],
        kind=fields["kind"],
        needs=tuple(fields["needs"]),
        audiences=tuple(fields["audiences"]),
        description=fields.get("description") or "",
        phone=fields.get("phone"),
        url=fields.get("url"),
        hours=fields.get("hours"),
    )


async def resources_for_checkin(
    *, ctx: WellbeingContext, principal: Principal, reasons: list[str], urgent: bool
) -> list[Resource]:
    """Best effort: the check-in is already recorded (and an urgent one carries the settings' crisis
    resources), so a catalogue that cannot be read gives an empty list, never a failed check-in."""
    audiences = {*principal.roles, *([principal.cohort] if principal.cohort else [])}
    try:
        candidates = await ctx.resources.matching_needs(needs=set(needs_for(reasons, urgent=urgent)))
    except PyMongoError:
        log.warning("resource catalogue unreadable; check-in answered without it")
        return []
    return resources_for_result(candidates, reasons=reasons, urgent=urgent, audiences=audiences)
