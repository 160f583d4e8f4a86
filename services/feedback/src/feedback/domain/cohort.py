"""Cohort views for faculty and admins: counts and medians per context, small groups suppressed."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FeedbackFact:
    context: str
    student_id: str
    author_id: str
    author_kind: str


@dataclass(frozen=True)
class RequestFact:
    context: str
    student_id: str
    status: str
    overdue: bool
    turnaround_seconds: float | None


@dataclass
class ContextSummary:
    context: str
    feedback_count: int = 0
    faculty_feedback_count: int = 0
    peer_feedback_count: int = 0
    students_receiving: int = 0
    authors_giving: int = 0
    requests: int = 0
    requests_fulfilled: int = 0
    requests_overdue: int = 0
    median_turnaround_hours: float | None = None


@dataclass
class CohortSummary:
    contexts: list[ContextSummary] = field(default_factory=list)
    suppressed_contexts: int = 0
    min_group_size: int = 5


@dataclass
class _Accumulator:
    feedback: int = 0
    faculty: int = 0
    peer: int = 0
    students: set[str] = field(default_factory=set)
    receiving: set[str] = field(default_factory=set)
    authors: set[str] = field(default_factory=set)
    requests: int = 0
    fulfilled: int = 0
    overdue: int = 0
    turnarounds: list[float] = field(default_factory=list)


def median_hours(seconds: Iterable[float]) -> float | None:
    values = list(seconds)
    if not values:
        return None
    return round(statistics.median(values) / 3600, 2)


def summarize(
    feedback: Iterable[FeedbackFact], requests: Iterable[RequestFact], *, min_group_size: int = 5
) -> CohortSummary:
    """Per context: feedback given (by faculty and peers) and received, requests, overdue, median
    turnaround. A context with fewer than ``min_group_size`` distinct students (receiving feedback
    or asking for it) is suppressed (only
    counted), so a row never describes one or two identifiable students."""
    acc: dict[str, _Accumulator] = defaultdict(_Accumulator)
    for item in feedback:
        a = acc[item.context]
        a.feedback += 1
        if item.author_kind == "peer":
            a.peer += 1
        else:
            a.faculty += 1
        a.students.add(item.student_id)
        a.receiving.add(item.student_id)
        a.authors.add(item.author_id)
    for request in requests:
        a = acc[request.context]
        a.requests += 1
        a.students.add(request.student_id)
        a.overdue += 1 if request.overdue else 0
        if request.status == "fulfilled":
            a.fulfilled += 1
            if request.turnaround_seconds is not None:
                a.turnarounds.append(request.turnaround_seconds)
    summary = CohortSummary(min_group_size=min_group_size)
    for context in sorted(acc):
        a = acc[context]
        if len(a.students) < min_group_size:
            summary.suppressed_contexts += 1
            continue
        summary.contexts.append(
            ContextSummary(
                context=context,
                feedback_count=a.feedback,
                faculty_feedback_count=a.faculty,
                peer_feedback_count=a.peer,
                students_receiving=len(a.receiving),
                authors_giving=len(a.authors),
                requests=a.requests,
                requests_fulfilled=a.fulfilled,
                requests_overdue=a.overdue,
                median_turnaround_hours=median_hours(a.turnarounds),
            )
        )
    return summary
