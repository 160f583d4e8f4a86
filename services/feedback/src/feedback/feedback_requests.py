"""Use cases for feedback requests: ask, read, cancel, fulfil, and the overdue sweep."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from feedback import metrics
from feedback.context import FeedbackContext
from feedback.domain import feedback as rules
from feedback.domain.entities import FeedbackRequest
from feedback.repository import REQUESTS
from feedback.schemas import FeedbackRequestCreate
from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, Forbidden, NotFound
from medsupport_shared.event_types import FeedbackOverdue, FeedbackRequested
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.rate_limits import limit_per_user

Document = dict[str, Any]
RequestView = Literal["mine", "assigned"]
_OVERDUE_EVENT_NAMESPACE = uuid.UUID("6f1d3c1e-52b4-4c44-9a57-3f5f0e0b8d21")


def overdue_event_id(request_id: str) -> str:
    """Deterministic: even a republished overdue event carries the same id, so consumers dedupe it."""
    return str(uuid.uuid5(_OVERDUE_EVENT_NAMESPACE, f"feedback.overdue:{request_id}"))


def request_view(ctx: FeedbackContext, request: FeedbackRequest, *, now: datetime | None = None) -> dict[str, Any]:
    return {
        "id": request.id,
        "student_id": request.student_id,
        "assessor_id": request.assessor_id,
        "context": {"kind": request.context_kind, "id": request.context_id, "label": request.context_label},
        "note": ctx.decrypt(request.note),
        "status": request.status.value,
        "requested_at": request.created_at,
        "due_at": request.due_at,
        "overdue": rules.is_overdue(status=request.status, due=request.due_at, now=now or utcnow()),
        "overdue_at": request.overdue_at,
        "fulfilled_at": request.fulfilled_at,
        "feedback_id": request.feedback_id,
        "turnaround_seconds": request.turnaround_seconds,
        "cancelled_at": request.cancelled_at,
    }


async def request_feedback(
    *, ctx: FeedbackContext, principal: Principal, body: FeedbackRequestCreate
) -> dict[str, Any]:
    try:
        rules.check_request(student_id=principal.sub, assessor_id=body.assessor_id)
    except rules.NotAllowed as exc:
        raise Forbidden(str(exc)) from exc
    await limit_per_user(  # each request alerts an assessor: a flood would bury staff inboxes
        ctx.counters,
        scope="feedback-request",
        user=principal.sub,
        limit=ctx.settings.feedback_requests_per_hour,
        window_seconds=3600,
        what="feedback requests",
    )
    context = body.context.as_rule()
    now, request_id = utcnow(), uuid.uuid4().hex
    due = rules.due_at(
        requested_at=now, kind=context.kind, due_by_kind=ctx.settings.due_by_kind, default=ctx.settings.default_due
    )
    document: Document = {
        "_id": request_id,
        "student_id": principal.sub,
        "assessor_id": body.assessor_id,
        "context_kind": context.kind.value,
        "context_id": context.id,
        "context_key": context.key,
        "context_label": body.context.label,
        "note": ctx.encrypt(body.note),
        "status": rules.RequestStatus.OPEN.value,
        "created_at": now,
        "due_at": due,
        "overdue_emitted": False,
    }
    requested = FeedbackRequested(
        request_id=request_id,
        student_id=principal.sub,
        assessor_id=body.assessor_id,
        context=context.key,
        due_at=due,
        requested_at=now,
    )
    await ctx.record(
        REQUESTS, request_id, lambda entries: ctx.repo.insert_request(document=document, entries=entries), requested
    )
    return request_view(ctx, FeedbackRequest.model_validate(document), now=now)


async def get_request(*, ctx: FeedbackContext, principal: Principal, request_id: str) -> dict[str, Any]:
    request = await ctx.repo.get_request(request_id=request_id)
    if request is None or principal.sub not in (request.student_id, request.assessor_id):
        raise NotFound("no feedback request with that id for you")
    return request_view(ctx, request)


async def list_requests(
    *,
    ctx: FeedbackContext,
    principal: Principal,
    view: RequestView | None,
    status: rules.RequestStatus | None,
    limit: int | None,
    cursor: str | None,
) -> dict[str, Any]:
    chosen = view or ("mine" if principal.has_any("student") else "assigned")
    if chosen == "mine":
        if not principal.has_any("student"):
            raise Forbidden("only students ask for feedback; use view=assigned")
    elif not principal.has_any("faculty", "student"):
        raise Forbidden("only faculty (or peers) are asked for feedback")
    own = chosen == "mine"
    items, next_cursor = await ctx.repo.list_requests(
        student_id=principal.sub if own else None,
        assessor_id=None if own else principal.sub,
        status=status.value if status else None,
        limit=limit,
        cursor=cursor,
    )
    now = utcnow()
    return {"items": [request_view(ctx, d, now=now) for d in items], "next_cursor": next_cursor}


async def cancel_request(*, ctx: FeedbackContext, principal: Principal, request_id: str) -> dict[str, Any]:
    request = await ctx.repo.get_request(request_id=request_id)
    if request is None or request.student_id != principal.sub:
        raise NotFound("no feedback request with that id from you")
    if not await ctx.repo.close_request(
        request_id=request_id, changes={"status": rules.RequestStatus.CANCELLED.value, "cancelled_at": utcnow()}
    ):
        raise Conflict(f"the request is already {request.status.value}")
    return await get_request(ctx=ctx, principal=principal, request_id=request_id)


async def fulfil_request(*, ctx: FeedbackContext, request: FeedbackRequest, feedback_id: str, at: datetime) -> bool:
    took = rules.turnaround(requested_at=request.created_at, fulfilled_at=at)
    closed = await ctx.repo.close_request(
        request_id=request.id,
        changes={
            "status": rules.RequestStatus.FULFILLED.value,
            "fulfilled_at": at,
            "feedback_id": feedback_id,
            "turnaround_seconds": took.total_seconds(),
        },
    )
    if closed:
        metrics.REQUEST_TURNAROUND.labels(request.context_kind).observe(took.total_seconds())
    return closed


async def sweep_overdue(*, ctx: FeedbackContext) -> int:
    """Emit ``feedback.overdue`` once for each open request past its due time.

    The flag ``overdue_emitted`` flips in the same conditional single-document write that puts the
    event in the request's outbox, so the event is written once however many sweeps, restarts or
    instances look at the request, and the relay publishes it even after a crash."""
    now, emitted = utcnow(), 0
    for request in await ctx.repo.due_requests(now=now):
        answered = await ctx.repo.feedback_for_request(request_id=request.id)
        if answered is not None:  # fulfilled, but the process stopped between the two writes
            await fulfil_request(ctx=ctx, request=request, feedback_id=answered.id, at=answered.created_at)
            continue
        if await _mark_overdue(ctx, request, now=now):
            emitted += 1
            metrics.REQUESTS_OVERDUE.labels(request.context_kind).inc()
    metrics.REQUESTS_OPEN_OVERDUE.set(await ctx.repo.count_open_overdue(now=now))
    ctx.sweeps["overdue"] = ctx.sweeps.get("overdue", 0) + 1
    return emitted


async def _mark_overdue(ctx: FeedbackContext, request: FeedbackRequest, *, now: datetime) -> bool:
    event = new_event(
        FeedbackOverdue(
            request_id=request.id,
            student_id=request.student_id,
            assessor_id=request.assessor_id,
            context=request.context_key,
            due_at=request.due_at,
            overdue_at=now,
        ),
        source=ctx.source,
        event_id=overdue_event_id(request.id),
    )
    return await ctx.record(
        REQUESTS,
        request.id,
        lambda entries: ctx.repo.mark_overdue(request_id=request.id, overdue_at=now, entries=entries),
        event,
    )
