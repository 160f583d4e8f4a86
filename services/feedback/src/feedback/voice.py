"""Use cases of student voice: post a suggestion (named or anonymous), vote once, staff move it with a
response, and the published "you said, we did" board of a programme.

Anonymous means anonymous here as for concerns: no author id, times on the hour, no idempotency record
(it would be kept under a digest of the author), browser correlation ids dropped from its events."""

from __future__ import annotations

import secrets
from typing import Any

from feedback.context import FeedbackContext
from feedback.domain import voice as rules
from feedback.domain.concerns import anonymous_timestamp
from feedback.domain.entities import Suggestion
from feedback.domain.rotations import keyed_token
from feedback.voice_repository import SUGGESTIONS, AlreadyVoted
from feedback.voice_schemas import SuggestionCreate, SuggestionMove
from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, NotFound
from medsupport_shared.event_types import SuggestionUpdated
from medsupport_shared.events import new_event, utcnow

Document = dict[str, Any]


class SuggestionNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("no such suggestion")


class StatusChanged(Conflict):
    """Someone else moved the suggestion first."""


def view(ctx: FeedbackContext, suggestion: Suggestion) -> dict[str, Any]:
    return {
        "id": suggestion.id,
        "programme": suggestion.programme,
        "title": ctx.decrypt(suggestion.title) or "",
        "body": ctx.decrypt(suggestion.body) or "",
        "anonymous": suggestion.anonymous,
        "author_id": None if suggestion.anonymous else suggestion.author_id,
        "status": suggestion.status.value,
        "response": ctx.decrypt(suggestion.response),
        "decline_reason": ctx.decrypt(suggestion.decline_reason),
        "votes": suggestion.votes,
        "created_at": suggestion.created_at,
        "updated_at": suggestion.updated_at,
    }


async def post(ctx: FeedbackContext, *, author: Principal, body: SuggestionCreate) -> dict[str, Any]:
    now = utcnow()
    at = anonymous_timestamp(now) if body.anonymous else now
    doc: Document = {
        "_id": secrets.token_hex(16),
        "programme": body.programme,
        "title": ctx.encrypt(body.title),
        "body": ctx.encrypt(body.body),
        "anonymous": body.anonymous,
        "status": rules.SuggestionStatus.OPEN.value,
        "votes": 0,
        "history": [{"status": rules.SuggestionStatus.OPEN.value, "at": at, "by": None}],
        "created_at": at,
        "updated_at": at,
    }
    if not body.anonymous:
        doc["author_id"] = author.sub
    await ctx.voice.insert(document=doc)
    return view(ctx, Suggestion.model_validate(doc))


async def board(
    ctx: FeedbackContext, *, programme: str, statuses: list[str] | None, limit: int | None, cursor: str | None
) -> dict[str, Any]:
    docs, next_cursor = await ctx.voice.page(programme=programme, statuses=statuses, limit=limit, cursor=cursor)
    return {"items": [view(ctx, d) for d in docs], "next_cursor": next_cursor}


async def vote(ctx: FeedbackContext, *, student_id: str, suggestion_id: str) -> dict[str, Any]:
    if await ctx.voice.get(suggestion_id=suggestion_id) is None:
        raise SuggestionNotFound()
    secret = ctx.settings.climate_token_secret.get_secret_value().encode()
    token = keyed_token(secret, person_id=student_id, scope=f"suggestion:{suggestion_id}")
    try:
        voted = await ctx.voice.vote(token=token, suggestion_id=suggestion_id)
    except AlreadyVoted as exc:
        raise Conflict("you have already voted for this suggestion") from exc
    if voted is None:
        raise SuggestionNotFound()
    return {"id": suggestion_id, "votes": voted.votes, "voted": True}


async def move(ctx: FeedbackContext, *, staff: Principal, suggestion_id: str, body: SuggestionMove) -> dict[str, Any]:
    suggestion = await ctx.voice.get(suggestion_id=suggestion_id)
    if suggestion is None:
        raise SuggestionNotFound()
    current = suggestion.status
    rules.check_move(current, body.status, reason=body.reason)  # MoveNotAllowed, ReasonRequired
    now = utcnow()
    at = anonymous_timestamp(now) if suggestion.anonymous else now
    changes: Document = {"status": body.status.value, "updated_at": at}
    if body.response is not None:
        changes["response"] = ctx.encrypt(body.response)
    if body.status is rules.SuggestionStatus.DECLINED:
        changes["decline_reason"] = ctx.encrypt(body.reason)
    payload = SuggestionUpdated(
        suggestion_id=suggestion_id,
        programme=suggestion.programme,
        status=body.status.value,
        anonymous=suggestion.anonymous,
        updated_at=at,
        author_id=None if suggestion.anonymous else suggestion.author_id,
    )
    moved: Suggestion | None = None

    async def write(entries: list[Document]) -> bool:
        nonlocal moved
        moved = await ctx.voice.move(
            suggestion_id=suggestion_id,
            expected_status=current.value,
            changes=changes,
            history={"status": body.status.value, "at": at, "by": staff.sub},
            entries=entries,
        )
        return moved is not None

    event = new_event(payload, source=ctx.source, time=at)
    if not await ctx.record(SUGGESTIONS, suggestion_id, write, event, anonymous=suggestion.anonymous) or moved is None:
        raise StatusChanged("the suggestion was moved by someone else; reload it")
    return view(ctx, moved)
