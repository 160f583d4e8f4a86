"""The resource catalogue: everyone signed in reads it; admins and the wellbeing lead keep it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from medsupport_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit
from wellbeing import resources
from wellbeing.context import Context
from wellbeing.domain.resources import Need, ResourceKind
from wellbeing.resource_schemas import ResourceIn, ResourceOut, ResourcePage

Keepers = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.WELLBEING_LEAD))]
router = APIRouter(prefix="/v1", tags=["resources"])


view = resources.resource_view


@router.get(
    "/resources",
    response_model=ResourcePage,
    summary="The institution's resources for help (by name)",
    responses=problem_responses(401, 400),
)
async def list_resources(
    _: CurrentPrincipal,
    ctx: Context,
    need: Annotated[Need | None, Query()] = None,
    kind: Annotated[ResourceKind | None, Query()] = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    items, next_cursor = await resources.list_resources(ctx=ctx, need=need, kind=kind, limit=limit, cursor=cursor)
    return {"items": [view(r) for r in items], "next_cursor": next_cursor}


@router.get("/resources/{resource_id}", response_model=ResourceOut, responses=problem_responses(401, 404))
async def get_resource(resource_id: str, _: CurrentPrincipal, ctx: Context) -> Any:
    return view(await resources.get_resource(ctx=ctx, resource_id=resource_id))


@router.post(
    "/resources",
    status_code=201,
    response_model=ResourceOut,
    summary="Add a resource (admin, wellbeing lead); honours `Idempotency-Key`",
    responses=problem_responses(*AUTH_ERRORS),
)
async def add_resource(
    body: ResourceIn, principal: Keepers, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    async def create() -> dict[str, Any]:
        added = await resources.add_resource(ctx=ctx, fields=body.model_dump())
        return ResourceOut.model_validate(view(added)).model_dump(mode="json")

    return await ctx.idempotency.run(
        key=idempotency_key, scope="resources.create", owner=principal.sub, payload=body, create=create
    )


@router.put(
    "/resources/{resource_id}",
    response_model=ResourceOut,
    summary="Replace a resource (admin, wellbeing lead)",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def replace_resource(resource_id: str, body: ResourceIn, _: Keepers, ctx: Context) -> Any:
    return view(await resources.replace_resource(ctx=ctx, resource_id=resource_id, fields=body.model_dump()))


@router.delete(
    "/resources/{resource_id}",
    status_code=204,
    summary="Remove a resource (admin, wellbeing lead)",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def remove_resource(resource_id: str, _: Keepers, ctx: Context) -> Response:
    await resources.remove_resource(ctx=ctx, resource_id=resource_id)
    return Response(status_code=204)
