"""The things of this service that change, typed as they are stored: feedback items, feedback requests,
reflections, concern reports and suggestions. The repositories parse stored documents into them (``_id`` becomes ``id``; a document that
no longer fits is skipped and counted, see ``medsupport_shared.documents``), so the use cases read fields,
not dictionary keys. Free text stays as stored: a ciphertext token (``str``) or None."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from feedback.domain.concerns import ConcernCategory, ConcernStatus
from feedback.domain.feedback import AuthorKind, RequestStatus, ShareRelationship
from feedback.domain.voice import SuggestionStatus


class Entity(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    id: str = Field(alias="_id")


class FeedbackItem(Entity):
    student_id: str
    author_id: str
    """``erased`` once a peer author's data is erased."""
    author_kind: AuthorKind
    context_kind: str
    context_id: str
    context_key: str
    context_label: str | None = None
    strengths: str | None = None
    areas_for_growth: str | None = None
    next_steps: str | None = None
    free_text: str | None = None
    response: str | None = None
    rating: dict[str, Any] | None = None
    request_id: str | None = None
    discussed: bool = False
    discussed_at: datetime | None = None
    responded_at: datetime | None = None
    created_at: datetime


class FeedbackRequest(Entity):
    student_id: str
    assessor_id: str
    context_kind: str
    context_id: str
    context_key: str
    context_label: str | None = None
    note: str | None = None
    status: RequestStatus
    created_at: datetime
    due_at: datetime
    overdue_emitted: bool = False
    overdue_at: datetime | None = None
    fulfilled_at: datetime | None = None
    feedback_id: str | None = None
    turnaround_seconds: float | None = None
    cancelled_at: datetime | None = None


class ReflectionShare(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    user_id: str
    relationship: ShareRelationship
    shared_at: datetime


class Reflection(Entity):
    """A student's reflection or self-assessment: theirs alone unless shared with a named mentor or faculty member."""

    student_id: str
    kind: str
    title: str | None = None
    body: str | None = None
    rating: dict[str, Any] | None = None
    linked_feedback_ids: list[str] = Field(default_factory=list)
    shares: list[ReflectionShare] = Field(default_factory=list)
    created_at: datetime
    updated_at: datetime


class ConcernMessage(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore")

    sender: str = Field(alias="from")
    """``officer`` or ``reporter``."""
    body: str
    at: datetime
    officer_id: str | None = None


class Concern(Entity):
    """A concern report. An anonymous one has no ``reporter_id`` (never stored), and its times are on the hour."""

    category: ConcernCategory
    anonymous: bool
    description: str | None = None
    when: str | None = None
    where: str | None = None
    people_involved: str | None = None
    site: str | None = None
    status: ConcernStatus
    outcome: str | None = None
    messages: list[ConcernMessage] = Field(default_factory=list)
    history: list[dict[str, Any]] = Field(default_factory=list)
    reporter_id: str | None = None
    code_hash: str | None = None
    surge: bool = False
    created_at: datetime
    updated_at: datetime


class Suggestion(Entity):
    """A student's suggestion to their programme. An anonymous one has no ``author_id`` (never stored), and its
    times are on the hour."""

    programme: str
    title: str | None = None
    body: str | None = None
    anonymous: bool
    author_id: str | None = None
    status: SuggestionStatus
    response: str | None = None
    decline_reason: str | None = None
    votes: int = 0
    created_at: datetime
    updated_at: datetime
