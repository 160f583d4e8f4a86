"""Use cases for feedback items: write, read, respond (and fulfil the request it answers)."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from feedback import metrics
from feedback.context import FeedbackContext
from feedback.domain import feedback as rules
from feedback.domain.entities import FeedbackItem, FeedbackRequest
from feedback.feedback_requests import fulfil_request
from feedback.repository import FEEDBACK
from feedback.schemas import FeedbackCreate, FeedbackResponseIn
from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, Forbidden, NotFound, Unprocessable
from medsupport_shared.event_types import FeedbackSubmitted
from medsupport_shared.events import utcnow
from medsupport_shared.rate_limits import limit_per_user

Document = dict[str, Any]
FeedbackView = Literal["received", "authored"]


def feedback_view(ctx: FeedbackContext, item: FeedbackItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "student_id": item.student_id,
        "author_id": item.author_id,
        "author_kind": item.author_kind.value,
        "context": {"kind": item.context_kind, "id": item.context_id, "label": item.context_label},
        "rating": item.rating,
        "request_id": item.request_id,
        "discussed": item.discussed,
        "discussed_at": item.discussed_at,
        "responded_at": item.responded_at,
        "created_at": item.created_at,
        "strengths": ctx.decrypt(item.strengths),
        "areas_for_growth": ctx.decrypt(item.areas_for_growth),
        "next_steps": ctx.decrypt(item.next_steps),
        "free_text": ctx.decrypt(item.free_text),
        "response": ctx.decrypt(item.response),
    }


async def submit_feedback(*, ctx: FeedbackContext, principal: Principal, body: FeedbackCreate) -> dict[str, Any]:
    context = body.context.as_rule()
    try:
        author_kind = rules.author_kind_for(
            roles=principal.roles,
            author_id=principal.sub,
            student_id=body.student_id,
            context=context,
            peer_feedback_kinds=ctx.settings.peer_feedback_context_kinds,
        )
    except rules.NotAllowed as exc:
        raise Forbidden(str(exc)) from exc
    if author_kind is rules.AuthorKind.PEER:  # each item alerts its student: a peer may not flood anyone
        await limit_per_user(
            ctx.counters,
            scope="peer-feedback",
            user=principal.sub,
            limit=ctx.settings.peer_feedback_per_hour,
            window_seconds=3600,
            what="peer feedback items",
        )
    request = await _request_to_fulfil(ctx=ctx, principal=principal, body=body)
    now, feedback_id = utcnow(), uuid.uuid4().hex
    document: Document = {
        "_id": feedback_id,
        "student_id": body.student_id,
        "author_id": principal.sub,
        "author_kind": author_kind.value,
        "context_kind": context.kind.value,
        "context_id": context.id,
        "context_key": context.key,
        "context_label": body.context.label,
        "strengths": ctx.encrypt(body.strengths),
        "areas_for_growth": ctx.encrypt(body.areas_for_growth),
        "next_steps": ctx.encrypt(body.next_steps),
        "free_text": ctx.encrypt(body.free_text),
        "rating": body.rating.model_dump() if body.rating else None,
        "request_id": body.request_id,
        "discussed": False,
        "created_at": now,
    }
    submitted = FeedbackSubmitted(
        feedback_id=feedback_id,
        student_id=body.student_id,
        author_id=principal.sub,
        kind=author_kind.value,
        context=context.key,
        submitted_at=now,
    )
    await ctx.record(
        FEEDBACK, feedback_id, lambda entries: ctx.repo.insert_feedback(document=document, entries=entries), submitted
    )
    metrics.FEEDBACK_SUBMITTED.labels(author_kind.value, context.kind.value).inc()
    if request is not None:
        await fulfil_request(ctx=ctx, request=request, feedback_id=feedback_id, at=now)
    return feedback_view(ctx, FeedbackItem.model_validate(document))


async def _request_to_fulfil(
    *, ctx: FeedbackContext, principal: Principal, body: FeedbackCreate
) -> FeedbackRequest | None:
    if body.request_id is None:
        return None
    request = await ctx.repo.get_request(request_id=body.request_id)
    if request is None or request.assessor_id != principal.sub:
        raise NotFound("no feedback request with that id is addressed to you")
    if (request.context_kind, request.context_id) != (body.context.kind.value, body.context.id):
        raise Unprocessable(
            "the feedback's context must be the request's context",
            errors=[{"loc": ["body", "context"], "msg": "does not match the request"}],
        )
    try:
        rules.check_fulfilment(
            status=request.status,
            request_student_id=request.student_id,
            request_assessor_id=request.assessor_id,
            feedback_student_id=body.student_id,
            author_id=principal.sub,
        )
    except rules.NotAllowed as exc:
        raise Conflict(str(exc)) from exc
    return request


async def get_feedback(*, ctx: FeedbackContext, principal: Principal, feedback_id: str) -> dict[str, Any]:
    item = await ctx.repo.get_feedback(feedback_id=feedback_id)
    if item is None or not rules.may_read_feedback(
        reader_id=principal.sub, student_id=item.student_id, author_id=item.author_id
    ):
        raise NotFound("no feedback with that id for you")
    return feedback_view(ctx, item)


async def list_feedback(
    *,
    ctx: FeedbackContext,
    principal: Principal,
    view: FeedbackView | None,
    context_kind: rules.ContextKind | None,
    limit: int | None,
    cursor: str | None,
) -> dict[str, Any]:
    chosen = view or ("received" if principal.has_any("student") else "authored")
    if chosen == "received":
        if not principal.has_any("student"):
            raise Forbidden("only students receive feedback; use view=authored")
    elif not principal.has_any("faculty", "student"):
        raise Forbidden("only faculty and students write feedback")
    received = chosen == "received"
    items, next_cursor = await ctx.repo.list_feedback(
        student_id=principal.sub if received else None,
        author_id=None if received else principal.sub,
        context_kind=context_kind.value if context_kind else None,
        limit=limit,
        cursor=cursor,
    )
    return {"items": [feedback_view(ctx, d) for d in items], "next_cursor": next_cursor}


async def respond_to_feedback(
    *, ctx: FeedbackContext, principal: Principal, feedback_id: str, body: FeedbackResponseIn
) -> dict[str, Any]:
    """The student marks the feedback as discussed (or not) and adds or replaces their response."""
    existing = await ctx.repo.get_feedback(feedback_id=feedback_id)
    if existing is None or existing.student_id != principal.sub:
        raise NotFound("no feedback with that id about you")
    now = utcnow()
    changes: Document = {"discussed": body.discussed}
    if body.discussed and not existing.discussed:
        changes["discussed_at"] = now
    elif not body.discussed:
        changes["discussed_at"] = None
    if body.response is not None:
        changes["response"] = ctx.encrypt(body.response)
        changes["responded_at"] = now
    updated = await ctx.repo.set_response(feedback_id=feedback_id, student_id=principal.sub, changes=changes)
    if updated is None:
        raise NotFound("no feedback with that id about you")
    return feedback_view(ctx, updated)
