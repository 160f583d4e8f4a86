"""Use cases for reflections and self-assessments: private to the student unless shared by name."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from feedback.context import FeedbackContext
from feedback.domain import feedback as rules
from feedback.domain.entities import Reflection, ReflectionShare
from feedback.schemas import ReflectionCreate, ReflectionUpdate, ShareIn
from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Forbidden, NotFound, Unprocessable
from medsupport_shared.events import utcnow

Document = dict[str, Any]
ReflectionView = Literal["mine", "shared"]


def _stored(share: ReflectionShare) -> Document:
    return {"user_id": share.user_id, "relationship": share.relationship.value, "shared_at": share.shared_at}


def share_key(user_id: str, relationship: str) -> str:
    """Flat ``relationship:user`` keys beside the shares, for an index-friendly query on any server."""
    return f"{relationship}:{user_id}"


def sharing(shares: list[Document]) -> Document:
    """The changes of a new share list together with its keys."""
    return {"shares": shares, "share_keys": [share_key(s["user_id"], s["relationship"]) for s in shares]}


def reflection_view(ctx: FeedbackContext, reflection: Reflection, *, reader_id: str) -> dict[str, Any]:
    own = reader_id == reflection.student_id
    return {
        "id": reflection.id,
        "student_id": reflection.student_id,
        "kind": reflection.kind,
        "title": ctx.decrypt(reflection.title) or "",
        "body": ctx.decrypt(reflection.body) or "",
        "rating": reflection.rating,
        "linked_feedback_ids": reflection.linked_feedback_ids,
        "shares": [_stored(s) for s in reflection.shares] if own else [],
        "created_at": reflection.created_at,
        "updated_at": reflection.updated_at,
    }


async def _check_links(*, ctx: FeedbackContext, student_id: str, feedback_ids: list[str]) -> list[str]:
    unique = list(dict.fromkeys(feedback_ids))
    if unique and await ctx.repo.count_own_feedback(student_id=student_id, feedback_ids=unique) != len(unique):
        raise Unprocessable(
            "a reflection links only to feedback about you",
            errors=[{"loc": ["body", "linked_feedback_ids"], "msg": "unknown feedback id"}],
        )
    return unique


async def write_reflection(*, ctx: FeedbackContext, principal: Principal, body: ReflectionCreate) -> dict[str, Any]:
    links = await _check_links(ctx=ctx, student_id=principal.sub, feedback_ids=body.linked_feedback_ids)
    now = utcnow()
    document: Document = {
        "_id": uuid.uuid4().hex,
        "student_id": principal.sub,
        "kind": body.kind,
        "title": ctx.encrypt(body.title),
        "body": ctx.encrypt(body.body),
        "rating": body.rating.model_dump() if body.rating else None,
        "linked_feedback_ids": links,
        **sharing([]),
        "created_at": now,
        "updated_at": now,
    }
    await ctx.repo.insert_reflection(document=document)
    return reflection_view(ctx, Reflection.model_validate(document), reader_id=principal.sub)


async def _own(*, ctx: FeedbackContext, principal: Principal, reflection_id: str) -> Reflection:
    reflection = await ctx.repo.get_reflection(reflection_id=reflection_id)
    if reflection is None or reflection.student_id != principal.sub:
        raise NotFound("no reflection with that id for you")
    return reflection


async def get_reflection(*, ctx: FeedbackContext, principal: Principal, reflection_id: str) -> dict[str, Any]:
    reflection = await ctx.repo.get_reflection(reflection_id=reflection_id)
    if reflection is None or not rules.may_read_reflection(
        reader_id=principal.sub,
        reader_roles=principal.roles,
        owner_id=reflection.student_id,
        shares=[(s.user_id, s.relationship) for s in reflection.shares],
    ):
        raise NotFound("no reflection with that id for you")
    return reflection_view(ctx, reflection, reader_id=principal.sub)


async def list_reflections(
    *, ctx: FeedbackContext, principal: Principal, view: ReflectionView | None, limit: int | None, cursor: str | None
) -> dict[str, Any]:
    chosen = view or ("mine" if principal.has_any("student") else "shared")
    if chosen == "mine":
        if not principal.has_any("student"):
            raise Forbidden("only students write reflections; use view=shared")
        items, next_cursor = await ctx.repo.reflections_of(student_id=principal.sub, limit=limit, cursor=cursor)
    else:
        held = [
            r for r in (rules.ShareRelationship.MENTOR, rules.ShareRelationship.FACULTY) if r.value in principal.roles
        ]
        if not held:
            raise Forbidden("reflections are shared with mentors and faculty members only")
        items, next_cursor = await ctx.repo.reflections_shared_with(
            share_keys=[share_key(principal.sub, r.value) for r in held], limit=limit, cursor=cursor
        )
    return {"items": [reflection_view(ctx, d, reader_id=principal.sub) for d in items], "next_cursor": next_cursor}


async def update_reflection(
    *, ctx: FeedbackContext, principal: Principal, reflection_id: str, body: ReflectionUpdate
) -> dict[str, Any]:
    await _own(ctx=ctx, principal=principal, reflection_id=reflection_id)
    changes: Document = {"updated_at": utcnow()}
    if body.title is not None:
        changes["title"] = ctx.encrypt(body.title)
    if body.body is not None:
        changes["body"] = ctx.encrypt(body.body)
    if body.rating is not None:
        changes["rating"] = body.rating.model_dump()
    if body.linked_feedback_ids is not None:
        changes["linked_feedback_ids"] = await _check_links(
            ctx=ctx, student_id=principal.sub, feedback_ids=body.linked_feedback_ids
        )
    updated = await ctx.repo.update_reflection(reflection_id=reflection_id, student_id=principal.sub, changes=changes)
    if updated is None:
        raise NotFound("no reflection with that id for you")
    return reflection_view(ctx, updated, reader_id=principal.sub)


async def share_reflection(
    *, ctx: FeedbackContext, principal: Principal, reflection_id: str, user_id: str, body: ShareIn
) -> dict[str, Any]:
    reflection = await _own(ctx=ctx, principal=principal, reflection_id=reflection_id)
    is_mentor = body.relationship is rules.ShareRelationship.MENTOR and await ctx.repo.is_current_mentor(
        mentee_id=principal.sub, mentor_id=user_id
    )
    try:
        rules.check_share(
            owner_id=principal.sub, user_id=user_id, relationship=body.relationship, is_current_mentor=is_mentor
        )
    except rules.NotAllowed as exc:
        raise Unprocessable(str(exc), errors=[{"loc": ["path", "user_id"], "msg": str(exc)}]) from exc
    shares = [_stored(s) for s in reflection.shares if s.user_id != user_id]
    if len(shares) >= rules.MAX_SHARES:
        raise Unprocessable(f"a reflection can be shared with at most {rules.MAX_SHARES} people")
    now = utcnow()
    shares.append({"user_id": user_id, "relationship": body.relationship.value, "shared_at": now})
    updated = await ctx.repo.update_reflection(
        reflection_id=reflection_id, student_id=principal.sub, changes={**sharing(shares), "updated_at": now}
    )
    if updated is None:
        raise NotFound("no reflection with that id for you")
    return reflection_view(ctx, updated, reader_id=principal.sub)


async def unshare_reflection(
    *, ctx: FeedbackContext, principal: Principal, reflection_id: str, user_id: str
) -> dict[str, Any]:
    reflection = await _own(ctx=ctx, principal=principal, reflection_id=reflection_id)
    shares = [_stored(s) for s in reflection.shares if s.user_id != user_id]
    updated = await ctx.repo.update_reflection(
        reflection_id=reflection_id,
        student_id=principal.sub,
        changes={**sharing(shares), "updated_at": utcnow()},
    )
    if updated is None:
        raise NotFound("no reflection with that id for you")
    return reflection_view(ctx, updated, reader_id=principal.sub)
