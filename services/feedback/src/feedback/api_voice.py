"""Routes of student voice: suggestions (named or anonymous), one vote per student, staff responses and
status, and each programme's published "you said, we did" board."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from feedback import voice
from feedback.api_feedback import _example
from feedback.context import Context
from feedback.domain.voice import BOARD, SuggestionStatus
from feedback.voice_schemas import SuggestionCreate, SuggestionMove, SuggestionOut, SuggestionPage, VoteOut
from medsupport_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from medsupport_shared.errors import problem_responses
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit

router = APIRouter(tags=["student voice"])
Student = Annotated[Principal, Depends(require_roles(Role.STUDENT))]
Staff = Annotated[Principal, Depends(require_roles(Role.ADMIN, Role.CLERKSHIP_DIRECTOR))]
SuggestionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-f0-9]+$")]
Programme = Annotated[str, Path(min_length=1, max_length=200)]

SUGGESTION_EXAMPLE = {
    "id": "5f0c2a9e8b7d4c3e9a1b2c3d4e5f6a7b",
    "programme": "MBBS 2027",
    "title": "Protected teaching time on surgical rotations",
    "body": "Teaching is often cancelled for theatre lists; could one session a week be kept?",
    "anonymous": True,
    "author_id": None,
    "status": "done",
    "response": "From block 4, Thursday 2-4 pm is protected teaching.",
    "decline_reason": None,
    "votes": 41,
    "created_at": "2026-02-03T10:00:00Z",
    "updated_at": "2026-03-20T09:00:00Z",
}


@router.post(
    "/v1/suggestions",
    status_code=201,
    response_model=SuggestionOut,
    summary="Suggest a change to the programme (student), named or anonymous",
    description="Anonymous (`anonymous: true`): no author is stored, times are on the hour, and no "
    "`Idempotency-Key` record is kept (it would be kept under a digest of the author): a retry posts again. "
    "Named: honours `Idempotency-Key`, and the author hears of each status change (`suggestion.updated`).",
    responses={**_example(201, SUGGESTION_EXAMPLE), **problem_responses(401, 403, 409, 422)},
)
async def post_suggestion(
    body: SuggestionCreate, student: Student, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    return await ctx.idempotency.run(
        key=None if body.anonymous else idempotency_key,
        scope="suggestions.create",
        owner=student.sub,
        payload=body,
        create=lambda: voice.post(ctx, author=student, body=body),
    )


@router.get(
    "/v1/programmes/{programme}/suggestions",
    response_model=SuggestionPage,
    summary="A programme's suggestions, newest first (any signed-in user)",
    responses={**_example(200, {"items": [SUGGESTION_EXAMPLE], "next_cursor": None}), **problem_responses(400, 401)},
)
async def list_suggestions(
    programme: Programme,
    _: CurrentPrincipal,
    ctx: Context,
    status: Annotated[list[SuggestionStatus] | None, Query(max_length=5)] = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    statuses = [s.value for s in status] if status else None
    return await voice.board(ctx, programme=programme, statuses=statuses, limit=limit, cursor=cursor)


@router.get(
    "/v1/programmes/{programme}/you-said-we-did",
    response_model=SuggestionPage,
    summary='The programme\'s published "you said, we did" board (any signed-in user)',
    description="Suggestions staff planned, did or declined (with the reason), with their response.",
    responses={**_example(200, {"items": [SUGGESTION_EXAMPLE], "next_cursor": None}), **problem_responses(400, 401)},
)
async def you_said_we_did(
    programme: Programme, _: CurrentPrincipal, ctx: Context, limit: PageLimit = 50, cursor: PageCursor = None
) -> Any:
    statuses = [s.value for s in BOARD]
    return await voice.board(ctx, programme=programme, statuses=statuses, limit=limit, cursor=cursor)


@router.post(
    "/v1/suggestions/{suggestion_id}/votes",
    response_model=VoteOut,
    summary="Vote for a suggestion, once (student)",
    description="One vote per student, kept as a keyed token only (no voter id): a second vote is a 409.",
    responses={
        **_example(200, {"id": SUGGESTION_EXAMPLE["id"], "votes": 42, "voted": True}),
        **problem_responses(401, 403, 404, 409, 422),
    },
)
async def vote(suggestion_id: SuggestionId, student: Student, ctx: Context) -> Any:
    return await voice.vote(ctx, student_id=student.sub, suggestion_id=suggestion_id)


@router.patch(
    "/v1/suggestions/{suggestion_id}",
    response_model=SuggestionOut,
    summary="Respond to a suggestion and move its status (admin, clerkship director)",
    description="open → under_review | planned | declined; under_review → planned | done | declined; planned → "
    "done | declined | under_review; done or declined → under_review. Declining needs a `reason` students read. "
    "Emits `suggestion.updated` (the author id only when named).",
    responses={**_example(200, SUGGESTION_EXAMPLE), **problem_responses(401, 403, 404, 409, 422)},
)
async def move_suggestion(suggestion_id: SuggestionId, body: SuggestionMove, staff: Staff, ctx: Context) -> Any:
    return await voice.move(ctx, staff=staff, suggestion_id=suggestion_id, body=body)
