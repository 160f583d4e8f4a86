"""Feedback, feedback requests and reflections: the rules, free of I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Final

# ------------------------------------------------------------------ limits

MAX_FIELD_CHARS: Final = 4000
"""One structured field (strengths, areas for growth, next steps)."""
MAX_FREE_TEXT_CHARS: Final = 8000
MAX_REFLECTION_CHARS: Final = 20000
MAX_RESPONSE_CHARS: Final = 4000
MAX_ID_CHARS: Final = 200
MAX_LABEL_CHARS: Final = 200
MAX_LINKED_FEEDBACK: Final = 50
MAX_SHARES: Final = 20
MAX_RATING_SPAN: Final = 100
"""A stated scale spans at most this many points (e.g. 1-5, 0-10, 0-100)."""
MAX_RATING_MAGNITUDE: Final = 10_000
"""A scale's ends (and so its value) lie within ±this: any real scale does, and a number past 64 bits
cannot be stored at all."""


class ContextKind(StrEnum):
    ROTATION = "rotation"
    COURSE = "course"
    ENCOUNTER = "encounter"


class AuthorKind(StrEnum):
    FACULTY = "faculty"
    PEER = "peer"


class RequestStatus(StrEnum):
    OPEN = "open"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


class ShareRelationship(StrEnum):
    MENTOR = "mentor"
    FACULTY = "faculty"


@dataclass(frozen=True)
class Context:
    """Where the feedback belongs: a rotation, a course or a single encounter."""

    kind: ContextKind
    id: str

    @property
    def key(self) -> str:
        """The context as one string (``rotation:cardio-2025``), as carried by events."""
        return f"{self.kind.value}:{self.id}"


class NotAllowed(Exception):
    """A rule forbids the action; the message is safe to show to the caller."""


def clean_text(value: str | None) -> str | None:
    """Trimmed text, or None when nothing but whitespace is left."""
    if value is None:
        return None
    stripped = value.strip()
    return stripped or None


def is_blank(value: str | None) -> bool:
    return clean_text(value) is None


# ------------------------------------------------------------------ authorship


def author_kind_for(
    *,
    roles: Iterable[str],
    author_id: str,
    student_id: str,
    context: Context,
    peer_feedback_kinds: Iterable[ContextKind],
) -> AuthorKind:
    """Who may write feedback about ``student_id`` in ``context``.

    Faculty always may; a student only as a peer, and only in a context kind that allows peer
    feedback. Nobody writes feedback about themselves. Raises ``NotAllowed`` otherwise.
    """
    if author_id == student_id:
        raise NotAllowed("feedback about yourself is a reflection, not feedback")
    held = set(roles)
    if "faculty" in held:
        return AuthorKind.FACULTY
    if "student" in held:
        if context.kind in set(peer_feedback_kinds):
            return AuthorKind.PEER
        raise NotAllowed(f"peer feedback is not enabled for {context.kind.value} contexts")
    raise NotAllowed("only faculty, or a peer student where the context allows it, may write feedback")


def may_read_feedback(*, reader_id: str, student_id: str, author_id: str) -> bool:
    """The student reads all their feedback; an author reads what they wrote; nobody else."""
    return reader_id in (student_id, author_id)


# ------------------------------------------------------------------ ratings


@dataclass(frozen=True)
class Rating:
    """An entrustment level or rating on the scale the author states (e.g. 1-5 entrustment)."""

    scale: str
    minimum: int
    maximum: int
    value: int


def check_rating(rating: Rating) -> list[str]:
    """Problems with a rating (empty when it is valid)."""
    problems = []
    if is_blank(rating.scale):
        problems.append("the scale needs a name")
    if rating.minimum >= rating.maximum:
        problems.append("the scale's minimum must be below its maximum")
    elif rating.maximum - rating.minimum > MAX_RATING_SPAN:
        problems.append(f"the scale spans at most {MAX_RATING_SPAN} points")
    if not rating.minimum <= rating.value <= rating.maximum:
        problems.append("the value must lie on the stated scale")
    return problems


# ------------------------------------------------------------------ requests: due time, overdue, turnaround

DEFAULT_DUE: Final = timedelta(days=7)


def due_at(
    *,
    requested_at: datetime,
    kind: ContextKind,
    due_by_kind: Mapping[str, timedelta] | None = None,
    default: timedelta = DEFAULT_DUE,
) -> datetime:
    """When a request made at ``requested_at`` falls due: the context kind's period, else the default."""
    period = (due_by_kind or {}).get(kind.value, default)
    if period < timedelta(0):
        raise ValueError("a due period cannot be negative")
    return requested_at + period


def is_overdue(*, status: RequestStatus, due: datetime, now: datetime) -> bool:
    """Open and past its due time (a fulfilled or cancelled request is never overdue)."""
    return status is RequestStatus.OPEN and now >= due


def turnaround(*, requested_at: datetime, fulfilled_at: datetime) -> timedelta:
    """How long the assessor took; never negative (clock skew between writers is clamped)."""
    return max(fulfilled_at - requested_at, timedelta(0))


def check_fulfilment(
    *,
    status: RequestStatus,
    request_student_id: str,
    request_assessor_id: str,
    feedback_student_id: str,
    author_id: str,
) -> None:
    """Feedback fulfils a request only when the assessor writes it about the requesting student."""
    if status is not RequestStatus.OPEN:
        raise NotAllowed(f"the request is {status.value}")
    if author_id != request_assessor_id:
        raise NotAllowed("only the assessor asked may fulfil this request")
    if feedback_student_id != request_student_id:
        raise NotAllowed("the feedback must be about the student who asked")


def check_request(*, student_id: str, assessor_id: str) -> None:
    if student_id == assessor_id:
        raise NotAllowed("ask someone else for feedback; write a reflection for yourself")


# ------------------------------------------------------------------ reflections


def may_read_reflection(
    *,
    reader_id: str,
    reader_roles: Iterable[str],
    owner_id: str,
    shares: Iterable[tuple[str, ShareRelationship]],
) -> bool:
    """Private to the student, unless shared with the reader in a role the reader holds."""
    if reader_id == owner_id:
        return True
    held = set(reader_roles)
    return any(user_id == reader_id and relationship.value in held for user_id, relationship in shares)


def check_share(
    *,
    owner_id: str,
    user_id: str,
    relationship: ShareRelationship,
    is_current_mentor: bool,
) -> None:
    """A reflection is shared with a named faculty member, or with the student's current mentor."""
    if user_id == owner_id:
        raise NotAllowed("a reflection is always visible to its author")
    if relationship is ShareRelationship.MENTOR and not is_current_mentor:
        raise NotAllowed("that person is not your current mentor")
