"""Routes for feedback, feedback requests and the cohort view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from feedback import cohort, feedback_items, feedback_requests
from feedback.context import Context
from feedback.domain.feedback import ContextKind, RequestStatus
from feedback.schemas import (
    CohortSummaryOut,
    FeedbackCreate,
    FeedbackOut,
    FeedbackPage,
    FeedbackRequestCreate,
    FeedbackRequestOut,
    FeedbackRequestPage,
    FeedbackResponseIn,
)
from medsupport_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit

Student = Annotated[Principal, Depends(require_roles(Role.STUDENT))]
Author = Annotated[Principal, Depends(require_roles(Role.FACULTY, Role.STUDENT))]
FacultyOrAdmin = Annotated[Principal, Depends(require_roles(Role.FACULTY, Role.ADMIN))]

FEEDBACK_EXAMPLE = {
    "id": "5f0c3e8a9b6d4c2e8f1a7b3c9d0e1f2a",
    "student_id": "student-42",
    "author_id": "dr-khan",
    "author_kind": "faculty",
    "context": {"kind": "rotation", "id": "cardiology-2025-b", "label": "Cardiology, block B"},
    "strengths": "Clear, structured history; put the patient at ease.",
    "areas_for_growth": "Differential diagnosis stopped at two items.",
    "next_steps": "Present three differentials at the next ward round.",
    "rating": {"scale": "entrustment", "minimum": 1, "maximum": 5, "value": 3},
    "free_text": None,
    "request_id": None,
    "discussed": False,
    "discussed_at": None,
    "response": None,
    "responded_at": None,
    "created_at": "2025-03-04T10:15:00Z",
}
REQUEST_EXAMPLE = {
    "id": "9a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "student_id": "student-42",
    "assessor_id": "dr-khan",
    "context": {"kind": "encounter", "id": "lp-2025-03-04", "label": "Lumbar puncture, bed 4"},
    "note": "Observed lumbar puncture, Tuesday morning.",
    "status": "open",
    "requested_at": "2025-03-04T10:15:00Z",
    "due_at": "2025-03-11T10:15:00Z",
    "overdue": False,
    "overdue_at": None,
    "fulfilled_at": None,
    "feedback_id": None,
    "turnaround_seconds": None,
    "cancelled_at": None,
}


def _example(status: int, example: Any) -> dict[int | str, dict[str, Any]]:
    return {status: {"content": {"application/json": {"example": example}}}}


requests_router = APIRouter(prefix="/v1/feedback", tags=["feedback requests"])
router = APIRouter(prefix="/v1/feedback", tags=["feedback"])


# ------------------------------------------------------------------ requests (before /{feedback_id})


@requests_router.post(
    "/requests",
    status_code=201,
    response_model=FeedbackRequestOut,
    summary="Ask an assessor for feedback",
    description="A student asks an assessor for feedback on an encounter (or a rotation or course). The request "
    "falls due after the context kind's period (default 7 days, `REQUEST_DUE_DAYS_BY_KIND`); an open request past "
    "its due time emits `feedback.overdue` exactly once. Emits `feedback.requested`. Honours `Idempotency-Key`.",
    responses={**_example(201, REQUEST_EXAMPLE), **problem_responses(*AUTH_ERRORS, 409, 429)},
)
async def create_request(
    body: FeedbackRequestCreate, principal: Student, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    return await ctx.idempotency.run(
        key=idempotency_key,
        scope="feedback_requests.create",
        owner=principal.sub,
        payload=body,
        create=lambda: feedback_requests.request_feedback(ctx=ctx, principal=principal, body=body),
    )


@requests_router.get(
    "/requests",
    response_model=FeedbackRequestPage,
    summary="Feedback requests I made, or that are addressed to me",
    description="`view=mine` (default for students): the requests you made. `view=assigned` (default for others): "
    "requests addressed to you as assessor.",
    responses={**_example(200, {"items": [REQUEST_EXAMPLE], "next_cursor": None}), **problem_responses(*AUTH_ERRORS)},
)
async def list_requests(
    principal: CurrentPrincipal,
    ctx: Context,
    view: Annotated[feedback_requests.RequestView | None, Query()] = None,
    status: Annotated[RequestStatus | None, Query()] = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    return await feedback_requests.list_requests(
        ctx=ctx, principal=principal, view=view, status=status, limit=limit, cursor=cursor
    )


@requests_router.get(
    "/requests/{request_id}",
    response_model=FeedbackRequestOut,
    summary="One feedback request (the student who asked or the assessor)",
    responses={**_example(200, REQUEST_EXAMPLE), **problem_responses(*AUTH_ERRORS, 404)},
)
async def get_request(request_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    return await feedback_requests.get_request(ctx=ctx, principal=principal, request_id=request_id)


@requests_router.post(
    "/requests/{request_id}/cancel",
    response_model=FeedbackRequestOut,
    summary="Withdraw an open request",
    responses={
        **_example(200, {**REQUEST_EXAMPLE, "status": "cancelled"}),
        **problem_responses(*AUTH_ERRORS, 404, 409),
    },
)
async def cancel_request(request_id: str, principal: Student, ctx: Context) -> Any:
    return await feedback_requests.cancel_request(ctx=ctx, principal=principal, request_id=request_id)


@requests_router.get(
    "/cohort-summary",
    response_model=CohortSummaryOut,
    tags=["cohort"],
    summary="Feedback given and received, and request turnaround, per context",
    description="For faculty and admins: per context, counts of feedback given (by faculty and peers) and received, "
    "requests, overdue requests and the median turnaround in hours. Contexts with fewer than "
    "`COHORT_MIN_GROUP_SIZE` students (default 5) are suppressed. No individual items, and never any concern.",
    responses={
        **_example(
            200,
            {
                "contexts": [
                    {
                        "context": "rotation:cardiology-2025-b",
                        "feedback_count": 41,
                        "faculty_feedback_count": 35,
                        "peer_feedback_count": 6,
                        "students_receiving": 12,
                        "authors_giving": 7,
                        "requests": 30,
                        "requests_fulfilled": 26,
                        "requests_overdue": 3,
                        "median_turnaround_hours": 52.5,
                    }
                ],
                "suppressed_contexts": 2,
                "min_group_size": 5,
            },
        ),
        **problem_responses(*AUTH_ERRORS),
    },
)
async def cohort_view(
    _: FacultyOrAdmin, ctx: Context, context_kind: Annotated[ContextKind | None, Query()] = None
) -> Any:
    return await cohort.cohort_summary(ctx=ctx, context_kind=context_kind)


# ------------------------------------------------------------------ feedback


@router.post(
    "",
    status_code=201,
    response_model=FeedbackOut,
    summary="Write feedback about a student",
    description="Faculty always; a student only as a peer, in context kinds that allow peer feedback "
    "(`PEER_FEEDBACK_CONTEXT_KINDS`, default `course`). With `request_id` the feedback fulfils that request "
    "(you must be its assessor; same student and context) and the turnaround is recorded. Free text is encrypted "
    "at rest. Emits `feedback.submitted` (ids, kind and context only). Honours `Idempotency-Key`.",
    responses={**_example(201, FEEDBACK_EXAMPLE), **problem_responses(*AUTH_ERRORS, 404, 409, 429)},
)
async def create_feedback(
    body: FeedbackCreate, principal: Author, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    return await ctx.idempotency.run(
        key=idempotency_key,
        scope="feedback.create",
        owner=principal.sub,
        payload=body,
        create=lambda: feedback_items.submit_feedback(ctx=ctx, principal=principal, body=body),
    )


@router.get(
    "",
    response_model=FeedbackPage,
    summary="Feedback I received, or feedback I wrote",
    description="`view=received` (default for students): all feedback about you. `view=authored` (default for "
    "faculty): what you wrote. Nobody else's feedback is ever listed.",
    responses={**_example(200, {"items": [FEEDBACK_EXAMPLE], "next_cursor": None}), **problem_responses(*AUTH_ERRORS)},
)
async def list_feedback(
    principal: CurrentPrincipal,
    ctx: Context,
    view: Annotated[feedback_items.FeedbackView | None, Query()] = None,
    context_kind: Annotated[ContextKind | None, Query()] = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    return await feedback_items.list_feedback(
        ctx=ctx, principal=principal, view=view, context_kind=context_kind, limit=limit, cursor=cursor
    )


@router.get(
    "/{feedback_id}",
    response_model=FeedbackOut,
    summary="One feedback item (its student or its author)",
    description="Anyone else gets 404, whether or not the item exists.",
    responses={**_example(200, FEEDBACK_EXAMPLE), **problem_responses(*AUTH_ERRORS, 404)},
)
async def get_feedback(feedback_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    return await feedback_items.get_feedback(ctx=ctx, principal=principal, feedback_id=feedback_id)


@router.put(
    "/{feedback_id}/response",
    response_model=FeedbackOut,
    summary="Mark feedback as discussed and respond to it",
    description="The student the feedback is about sets `discussed` and adds (or replaces) a response the author "
    "can read. Repeating the same call changes nothing.",
    responses={
        **_example(200, {**FEEDBACK_EXAMPLE, "discussed": True, "discussed_at": "2025-03-05T09:00:00Z"}),
        **problem_responses(*AUTH_ERRORS, 404),
    },
)
async def respond(feedback_id: str, body: FeedbackResponseIn, principal: Student, ctx: Context) -> Any:
    return await feedback_items.respond_to_feedback(ctx=ctx, principal=principal, feedback_id=feedback_id, body=body)
