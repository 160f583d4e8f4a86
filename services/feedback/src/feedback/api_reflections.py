"""Routes for reflections and self-assessments."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from feedback import reflections
from feedback.api_feedback import Student, _example
from feedback.context import Context
from feedback.schemas import ReflectionCreate, ReflectionOut, ReflectionPage, ReflectionUpdate, ShareIn
from medsupport_shared.auth import CurrentPrincipal
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit

router = APIRouter(prefix="/v1/reflections", tags=["reflections"])
UserId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@-]+$")]
EXAMPLE = {
    "id": "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e",
    "student_id": "student-42",
    "kind": "reflection",
    "title": "First week on the acute take",
    "body": "I felt rushed when clerking; next time I will ...",
    "rating": None,
    "linked_feedback_ids": ["5f0c3e8a9b6d4c2e8f1a7b3c9d0e1f2a"],
    "shares": [{"user_id": "mentor-7", "relationship": "mentor", "shared_at": "2025-03-05T09:00:00Z"}],
    "created_at": "2025-03-05T08:30:00Z",
    "updated_at": "2025-03-05T09:00:00Z",
}


@router.post(
    "",
    status_code=201,
    response_model=ReflectionOut,
    summary="Write a reflection or self-assessment",
    description="Private to you until you share it. May link to feedback about you. Encrypted at rest. "
    "Honours `Idempotency-Key`.",
    responses={**_example(201, {**EXAMPLE, "shares": []}), **problem_responses(*AUTH_ERRORS, 409)},
)
async def create_reflection(
    body: ReflectionCreate, principal: Student, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    return await ctx.idempotency.run(
        key=idempotency_key,
        scope="reflections.create",
        owner=principal.sub,
        payload=body,
        create=lambda: reflections.write_reflection(ctx=ctx, principal=principal, body=body),
    )


@router.get(
    "",
    response_model=ReflectionPage,
    summary="My reflections, or those shared with me",
    description="`view=mine` (default for students); `view=shared` (default for mentors and faculty): reflections "
    "students shared with you by name, in a role your token holds.",
    responses={**_example(200, {"items": [EXAMPLE], "next_cursor": None}), **problem_responses(*AUTH_ERRORS)},
)
async def list_reflections(
    principal: CurrentPrincipal,
    ctx: Context,
    view: Annotated[reflections.ReflectionView | None, Query()] = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    return await reflections.list_reflections(ctx=ctx, principal=principal, view=view, limit=limit, cursor=cursor)


@router.get(
    "/{reflection_id}",
    response_model=ReflectionOut,
    summary="One reflection (its author, or someone it is shared with)",
    description="Anyone else gets 404, whether or not it exists.",
    responses={**_example(200, EXAMPLE), **problem_responses(*AUTH_ERRORS, 404)},
)
async def get_reflection(reflection_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    return await reflections.get_reflection(ctx=ctx, principal=principal, reflection_id=reflection_id)


@router.patch(
    "/{reflection_id}",
    response_model=ReflectionOut,
    summary="Edit your reflection",
    responses={**_example(200, EXAMPLE), **problem_responses(*AUTH_ERRORS, 404)},
)
async def update_reflection(reflection_id: str, body: ReflectionUpdate, principal: Student, ctx: Context) -> Any:
    return await reflections.update_reflection(ctx=ctx, principal=principal, reflection_id=reflection_id, body=body)


@router.put(
    "/{reflection_id}/shares/{user_id}",
    response_model=ReflectionOut,
    summary="Share a reflection with your mentor or a named faculty member",
    description="`mentor`: only your current mentor (known from `mentor.assigned`; the share is withdrawn when "
    "the mentorship ends). `faculty`: a named faculty member, who reads it with a `faculty` token.",
    responses={**_example(200, EXAMPLE), **problem_responses(*AUTH_ERRORS, 404)},
)
async def share(reflection_id: str, user_id: UserId, body: ShareIn, principal: Student, ctx: Context) -> Any:
    return await reflections.share_reflection(
        ctx=ctx, principal=principal, reflection_id=reflection_id, user_id=user_id, body=body
    )


@router.delete(
    "/{reflection_id}/shares/{user_id}",
    response_model=ReflectionOut,
    summary="Stop sharing a reflection with someone",
    responses={**_example(200, {**EXAMPLE, "shares": []}), **problem_responses(*AUTH_ERRORS, 404)},
)
async def unshare(reflection_id: str, user_id: UserId, principal: Student, ctx: Context) -> Any:
    return await reflections.unshare_reflection(
        ctx=ctx, principal=principal, reflection_id=reflection_id, user_id=user_id
    )
