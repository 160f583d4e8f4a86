"""Use cases for concern reports.

Anonymous means anonymous: the document, the event, the logs and the metrics of an anonymous report
hold no reporter id, no address and no token subject; its times are rounded down to the hour; the
reporter follows up with a code of which only a keyed hash is kept."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from feedback import metrics
from feedback.concern_repository import CONCERNS
from feedback.concern_schemas import ConcernCreate, TriageIn
from feedback.context import FeedbackContext
from feedback.domain import concerns as rules
from feedback.domain.entities import Concern
from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, NotFound, TooManyRequests, Unprocessable
from medsupport_shared.event_types import ConcernRaised, ConcernUpdated
from medsupport_shared.events import new_event, utcnow

Document = dict[str, Any]
log = logging.getLogger(__name__)
NO_MATCH = "no concern matches that code"
IDEMPOTENCY_RETENTION = timedelta(hours=24)


# ------------------------------------------------------------------ views


def _messages(ctx: FeedbackContext, concern: Concern, *, officer: bool) -> list[dict[str, Any]]:
    out = []
    for message in concern.messages:
        item = {"from": message.sender, "body": ctx.decrypt(message.body) or "", "at": message.at}
        if officer:
            item["officer_id"] = message.officer_id
        out.append(item)
    return out


def _common(ctx: FeedbackContext, concern: Concern) -> dict[str, Any]:
    return {
        "id": concern.id,
        "category": concern.category.value,
        "anonymous": concern.anonymous,
        "status": concern.status.value,
        "reported_at": concern.created_at,
        "updated_at": concern.updated_at,
        "description": ctx.decrypt(concern.description) or "",
        "when": ctx.decrypt(concern.when) or "",
        "where": ctx.decrypt(concern.where) or "",
        "people_involved": ctx.decrypt(concern.people_involved),
        "outcome": ctx.decrypt(concern.outcome),
    }


def reporter_view(ctx: FeedbackContext, concern: Concern) -> dict[str, Any]:
    return {**_common(ctx, concern), "messages": _messages(ctx, concern, officer=False)}


def officer_view(ctx: FeedbackContext, concern: Concern) -> dict[str, Any]:
    return {
        **_common(ctx, concern),
        "reporter_id": concern.reporter_id,
        "messages": _messages(ctx, concern, officer=True),
        "history": concern.history,
        "surge": concern.surge,
    }


# ------------------------------------------------------------------ raising a concern


def _event_for(concern: Concern, *, raised: bool) -> ConcernRaised | ConcernUpdated:
    common: dict[str, Any] = {
        "concern_id": concern.id,
        "category": concern.category.value,
        "anonymous": concern.anonymous,
    }
    if not concern.anonymous and concern.reporter_id:
        common["reporter_id"] = concern.reporter_id
    if raised:
        return ConcernRaised(**common, reported_at=concern.created_at)
    return ConcernUpdated(**common, status=concern.status.value, updated_at=concern.updated_at)


def _new_document(ctx: FeedbackContext, body: ConcernCreate, *, concern_id: str, surge: bool = False) -> Document:
    now = utcnow()
    at = rules.anonymous_timestamp(now) if body.anonymous else now
    return {
        "surge": surge,
        "_id": concern_id,
        "category": body.category.value,
        "anonymous": body.anonymous,
        "description": ctx.encrypt(body.description),
        "when": ctx.encrypt(body.when),
        "where": ctx.encrypt(body.where),
        "people_involved": ctx.encrypt(body.people_involved),
        "site": body.site,
        "status": rules.ConcernStatus.RECEIVED.value,
        "outcome": None,
        "messages": [],
        "history": [{"status": rules.ConcernStatus.RECEIVED.value, "at": at, "by": None}],
        "created_at": at,
        "updated_at": at,
    }


async def _store_new(ctx: FeedbackContext, document: Document) -> Concern:
    concern = Concern.model_validate(document)
    event = new_event(_event_for(concern, raised=True), source=ctx.source, time=concern.created_at)
    await ctx.record(
        CONCERNS,
        document["_id"],
        lambda entries: ctx.concerns.insert(document=document, entries=entries),
        event,
        anonymous=document["anonymous"],  # the request's correlation and trace ids come from the reporter's browser
    )
    metrics.CONCERNS_RAISED.labels(concern.category.value, str(concern.anonymous).lower()).inc()
    return concern


async def raise_named_concern(*, ctx: FeedbackContext, principal: Principal, body: ConcernCreate) -> dict[str, Any]:
    document = _new_document(ctx, body, concern_id=uuid.uuid4().hex)
    document["reporter_id"] = principal.sub
    concern = await _store_new(ctx, document)
    return {
        "id": concern.id,
        "anonymous": False,
        "status": concern.status.value,
        "reported_at": concern.created_at,
        "follow_up_code": None,
    }


def _created(concern: Concern, code: str) -> dict[str, Any]:
    return {
        "id": concern.id,
        "anonymous": True,
        "status": concern.status.value,
        "reported_at": concern.created_at,
        "follow_up_code": code,
    }


async def _count_anonymous_report(ctx: FeedbackContext, client: str) -> bool:
    """Refuse a client's report beyond its allowance (429); returns True when the channel as a whole is
    past its surge threshold. Many distinct clients never close the channel: they only raise the surge."""
    window = ctx.settings.anonymous_rate_window_seconds
    mine = await ctx.counters.hit("concern", client, window_seconds=window)
    if mine.count > ctx.settings.anonymous_rate_limit:
        metrics.ANONYMOUS_RATE_LIMITED.labels("/v1/concerns").inc()
        raise TooManyRequests("too many anonymous reports from here; try again later", retry_after=mine.retry_after)
    everyone = await ctx.counters.hit("concern-all", "", window_seconds=window)
    if everyone.count <= ctx.settings.anonymous_surge_threshold:
        return False
    metrics.ANONYMOUS_SURGE.inc()
    if everyone.count == ctx.settings.anonymous_surge_threshold + 1:
        log.warning("anonymous concern reports passed the surge threshold; reports are accepted and marked")
    return True


async def _fresh_anonymous(ctx: FeedbackContext, body: ConcernCreate, *, surge: bool) -> dict[str, Any]:
    document = _new_document(ctx, body, concern_id=uuid.uuid4().hex, surge=surge)
    code = rules.new_follow_up_code()
    document["code_hash"] = rules.hash_code(secret=ctx.code_secret, code=code)
    return _created(await _store_new(ctx, document), code)


async def raise_anonymous_concern(
    *, ctx: FeedbackContext, body: ConcernCreate, client: str, idempotency_key: str | None
) -> tuple[dict[str, Any], bool]:
    """Store an anonymous report; returns (body, replayed).

    With an Idempotency-Key of at least ``MIN_ANONYMOUS_KEY_LENGTH`` characters, a retry by the same
    client with the same body gets the same report and code back: the code is derived from the client,
    the key and the body under the server secret, and never stored. Anything else is a fresh report
    with a random code, never a 409: the same key with another body, or from another client (who
    learned or guessed the key and the text), or while the first is still in progress. So a key
    reveals nothing, and a predictable key gives no one the first reporter's code."""
    surge = await _count_anonymous_report(ctx, client)
    if idempotency_key is None or len(idempotency_key) < rules.MIN_ANONYMOUS_KEY_LENGTH:
        return await _fresh_anonymous(ctx, body, surge=surge), False

    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True)
    key_hash = rules.keyed_digest(ctx.code_secret, "concern-idempotency-key", client, idempotency_key)
    body_hash = rules.keyed_digest(ctx.code_secret, "concern-idempotency-body", client, idempotency_key, canonical)
    code = rules.derived_follow_up_code(secret=ctx.code_secret, seed=body_hash)
    concern_id = uuid.uuid4().hex
    earlier = await ctx.concerns.claim_idempotency(
        key_hash=key_hash,
        body_hash=body_hash,
        concern_id=concern_id,
        # rounded up to the hour, like every time kept about an anonymous report
        expires_at=rules.anonymous_timestamp(utcnow() + IDEMPOTENCY_RETENTION) + timedelta(hours=1),
    )
    if earlier is not None:
        existing = await ctx.concerns.get(concern_id=earlier["concern_id"])
        if existing is None or not rules.codes_match(earlier["body_hash"], body_hash):
            return await _fresh_anonymous(ctx, body, surge=surge), False
        return _created(existing, code), True
    document = _new_document(ctx, body, concern_id=concern_id, surge=surge)
    document["code_hash"] = rules.hash_code(secret=ctx.code_secret, code=code)
    try:
        concern = await _store_new(ctx, document)
    except BaseException:
        await ctx.concerns.release_idempotency(key_hash=key_hash)
        raise
    return _created(concern, code), False


# ------------------------------------------------------------------ following up with a code


async def _by_code(*, ctx: FeedbackContext, code: str, client: str) -> Concern:
    """The same work and the same answer for a wrong, malformed or unknown code."""
    attempt = await ctx.counters.hit("follow-up", client, window_seconds=ctx.settings.anonymous_rate_window_seconds)
    if attempt.count > ctx.settings.follow_up_rate_limit:
        metrics.ANONYMOUS_RATE_LIMITED.labels("/v1/concerns/follow-up").inc()
        raise TooManyRequests("too many follow-up attempts from here; try again later", retry_after=attempt.retry_after)
    candidate = rules.hash_code(secret=ctx.code_secret, code=code)
    concern = await ctx.concerns.by_code_hash(code_hash=candidate)
    if concern is None or not rules.codes_match(concern.code_hash or "", candidate):
        raise NotFound(NO_MATCH)
    return concern


async def follow_up(*, ctx: FeedbackContext, code: str, client: str) -> dict[str, Any]:
    return reporter_view(ctx, await _by_code(ctx=ctx, code=code, client=client))


async def reply_with_code(*, ctx: FeedbackContext, code: str, message: str, client: str) -> dict[str, Any]:
    concern = await _by_code(ctx=ctx, code=code, client=client)
    at = rules.anonymous_timestamp(utcnow())
    updated = await _append_message(ctx=ctx, concern=concern, sender="reporter", body=message, at=at)
    return reporter_view(ctx, updated)


# ------------------------------------------------------------------ named reporters and officers


async def _append_message(
    *, ctx: FeedbackContext, concern: Concern, sender: str, body: str, at: datetime, officer_id: str | None = None
) -> Concern:
    if len(concern.messages) >= rules.MAX_MESSAGES:
        raise Unprocessable(f"a concern holds at most {rules.MAX_MESSAGES} messages")
    message: Document = {"id": uuid.uuid4().hex, "from": sender, "body": ctx.encrypt(body), "at": at}
    if officer_id is not None:
        message["officer_id"] = officer_id
    updated = await ctx.concerns.append_message(concern_id=concern.id, message=message, at=at)
    if updated is None:
        raise NotFound("no such concern")
    return updated


async def get_concern(*, ctx: FeedbackContext, principal: Principal, concern_id: str) -> dict[str, Any]:
    concern = await ctx.concerns.get(concern_id=concern_id)
    if concern is not None and principal.has_any("concerns_officer"):
        return officer_view(ctx, concern)
    if concern is not None and _named_by(concern, principal):
        return reporter_view(ctx, concern)
    raise NotFound("no concern with that id for you")


def _named_by(concern: Concern, principal: Principal) -> bool:
    return not concern.anonymous and concern.reporter_id == principal.sub


async def post_message(*, ctx: FeedbackContext, principal: Principal, concern_id: str, message: str) -> dict[str, Any]:
    concern = await ctx.concerns.get(concern_id=concern_id)
    if concern is not None and principal.has_any("concerns_officer"):
        updated = await _append_message(
            ctx=ctx, concern=concern, sender="officer", body=message, at=utcnow(), officer_id=principal.sub
        )
        return officer_view(ctx, updated)
    if concern is not None and _named_by(concern, principal):
        updated = await _append_message(ctx=ctx, concern=concern, sender="reporter", body=message, at=utcnow())
        return reporter_view(ctx, updated)
    raise NotFound("no concern with that id for you")


async def list_concerns(
    *,
    ctx: FeedbackContext,
    status: rules.ConcernStatus | None,
    category: rules.ConcernCategory | None,
    limit: int | None,
    cursor: str | None,
) -> dict[str, Any]:
    items, next_cursor = await ctx.concerns.list_concerns(
        status=status.value if status else None,
        category=category.value if category else None,
        limit=limit,
        cursor=cursor,
    )
    return {"items": [officer_view(ctx, d) for d in items], "next_cursor": next_cursor}


async def list_my_concerns(
    *, ctx: FeedbackContext, principal: Principal, limit: int | None, cursor: str | None
) -> dict[str, Any]:
    items, next_cursor = await ctx.concerns.named_by(reporter_id=principal.sub, limit=limit, cursor=cursor)
    return {"items": [reporter_view(ctx, d) for d in items], "next_cursor": next_cursor}


async def triage(*, ctx: FeedbackContext, principal: Principal, concern_id: str, body: TriageIn) -> dict[str, Any]:
    concern = await ctx.concerns.get(concern_id=concern_id)
    if concern is None:
        raise NotFound("no concern with that id")
    current = concern.status
    now = utcnow()
    changes: Document = {"updated_at": now}
    history: Document | None = None
    if body.status is not None and body.status is not current:
        try:
            rules.check_transition(current, body.status)
        except rules.TransitionNotAllowed as exc:
            raise Conflict(str(exc)) from exc
        changes["status"] = body.status.value
        history = {"status": body.status.value, "at": now, "by": principal.sub}
    if body.outcome is not None:
        changes["outcome"] = ctx.encrypt(body.outcome)
    after = concern.model_copy(update={"status": body.status or current, "updated_at": now})
    event = new_event(_event_for(after, raised=False), source=ctx.source, time=now)
    updated: Concern | None = None

    async def write(entries: list[Document]) -> bool:
        nonlocal updated
        updated = await ctx.concerns.triage(
            concern_id=concern_id, expected_status=current.value, changes=changes, history=history, entries=entries
        )
        return updated is not None

    if not await ctx.record(CONCERNS, concern_id, write, event) or updated is None:
        raise Conflict("the concern changed meanwhile; reload and try again")
    return officer_view(ctx, updated)
