"""Fair, optimal matching of students to mentors under capacity (pure).

Compatibility of a (student, mentor) pair, when allowed at all (hard constraints: a shared language,
the mentor not paused, not on the student's avoid-list):

    score = weights.specialty      if the mentor's specialty is the one the student wished for
          + weights.interest       per shared interest, up to weights.max_interests
          + weights.meeting_format if the mentor offers the student's preferred format
          + weights.background     if the student asked for a shared background and it is shared

The matching is optimal in this order, respecting each mentor's free capacity (capacity minus
current mentees): first as many students with an open wellbeing flag as possible, then as many
students as possible, then the highest total score. The tiers become each student's cost of being
left out: coverage = (max score + 1) x students + 1, plus priority = coverage x (students + 1) for a
flagged student, so that the order is strict. ``capacitated_assignment.best_assignment`` solves it on
each student's best few mentors and proves the result optimal for all pairs (LP duality). The same
input gives the same matching (inputs are sorted by id; the solver is deterministic).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from pydantic import BaseModel, ConfigDict, Field

from mentorship.domain.capacitated_assignment import best_assignment

FORBIDDEN = -1.0


class Weights(BaseModel):
    model_config = ConfigDict(frozen=True)
    specialty: float = Field(default=3.0, ge=0)
    interest: float = Field(default=1.0, ge=0)
    max_interests: int = Field(default=3, ge=0)
    meeting_format: float = Field(default=1.0, ge=0)
    background: float = Field(default=2.0, ge=0)


class Mentor(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    specialty: str | None = None
    interests: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    formats: frozenset[str] = frozenset()
    background: str | None = None
    free_slots: int = Field(ge=0, description="capacity minus current mentees")
    paused: bool = False


class Mentee(BaseModel):
    model_config = ConfigDict(frozen=True)
    id: str
    specialty: str | None = None
    interests: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    meeting_format: str | None = None
    background: str | None = None
    wants_shared_background: bool = False
    avoid: frozenset[str] = frozenset()
    flagged: bool = False


@dataclass(frozen=True)
class Match:
    mentee_id: str
    mentor_id: str
    score: float
    criteria: dict[str, float]


@dataclass(frozen=True)
class MatchResult:
    matches: list[Match]
    unmatched: list[str]

    @property
    def total_score(self) -> float:
        return sum(m.score for m in self.matches)


def shares_language(mentee_languages: Iterable[str], mentor_languages: Iterable[str]) -> bool:
    return not set(mentee_languages).isdisjoint(mentor_languages)


def allowed(mentee: Mentee, mentor: Mentor) -> bool:
    return not mentor.paused and mentor.id not in mentee.avoid and shares_language(mentee.languages, mentor.languages)


def explain(mentee: Mentee, mentor: Mentor, weights: Weights) -> dict[str, float]:
    """Which criteria scored, and how much (for an allowed pair)."""
    criteria: dict[str, float] = {}
    if mentee.specialty and mentee.specialty == mentor.specialty:
        criteria["specialty"] = weights.specialty
    shared = len(mentee.interests & mentor.interests)
    if shared:
        criteria["interests"] = weights.interest * min(shared, weights.max_interests)
    if mentee.meeting_format and mentee.meeting_format in mentor.formats:
        criteria["meeting_format"] = weights.meeting_format
    if mentee.wants_shared_background and mentee.background and mentee.background == mentor.background:
        criteria["background"] = weights.background
    return criteria


def compatibility(mentee: Mentee, mentor: Mentor, weights: Weights) -> float:
    """The pair's score, or ``FORBIDDEN`` when a hard constraint rules it out (reference version)."""
    if not allowed(mentee, mentor):
        return FORBIDDEN
    return sum(explain(mentee, mentor, weights).values())


def score_matrix(mentees: Sequence[Mentee], mentors: Sequence[Mentor], weights: Weights) -> NDArray[np.float64]:
    """``compatibility`` for every pair at once, vectorised (FORBIDDEN where not allowed)."""
    n, m = len(mentees), len(mentors)
    if not n or not m:
        return np.zeros((n, m))
    vocabulary = {
        v: i
        for i, v in enumerate(
            sorted(
                {x for p in mentees for x in (*p.interests, *p.languages)}
                | {x for t in mentors for x in (*t.interests, *t.languages)}
                | {x for p in mentors for x in p.formats}
                | {p.meeting_format for p in mentees if p.meeting_format}
            )
        )
    }
    words = max(1, (len(vocabulary) + 63) // 64)

    def bits(values: Sequence[frozenset[str]]) -> NDArray[np.uint64]:
        out = np.zeros((len(values), words), dtype=np.uint64)
        for row, items in enumerate(values):
            for item in items:
                index = vocabulary[item]
                out[row, index // 64] |= np.uint64(1) << np.uint64(index % 64)
        return out

    def overlap(a: NDArray[np.uint64], b: NDArray[np.uint64]) -> NDArray[np.int64]:
        return np.asarray(np.bitwise_count(a[:, None, :] & b[None, :, :]).sum(axis=2), dtype=np.int64)

    shared_languages = overlap(bits([p.languages for p in mentees]), bits([p.languages for p in mentors]))
    shared_interests = overlap(bits([p.interests for p in mentees]), bits([p.interests for p in mentors]))
    format_match = (
        overlap(
            bits([frozenset({p.meeting_format} if p.meeting_format else ()) for p in mentees]),
            bits([p.formats for p in mentors]),
        )
        > 0
    )
    specialty = _same_value([p.specialty for p in mentees], [t.specialty for t in mentors])
    background = _same_value(
        [p.background if p.wants_shared_background else None for p in mentees], [t.background for t in mentors]
    )
    scores = (
        weights.specialty * specialty
        + weights.interest * np.minimum(shared_interests, weights.max_interests)
        + weights.meeting_format * format_match
        + weights.background * background
    )
    mentor_index = {t.id: j for j, t in enumerate(mentors)}
    forbidden = (shared_languages == 0) | np.array([t.paused for t in mentors])[None, :]
    for i, mentee in enumerate(mentees):
        for avoided in mentee.avoid:
            if avoided in mentor_index:
                forbidden[i, mentor_index[avoided]] = True
    return np.where(forbidden, FORBIDDEN, scores).astype(np.float64)


def _same_value(left: Sequence[str | None], right: Sequence[str | None]) -> NDArray[np.bool_]:
    """``left[i] == right[j]`` for every pair, both set (a value of None matches nothing)."""
    codes = {v: k for k, v in enumerate(sorted({v for v in (*left, *right) if v is not None}))}
    left_codes = np.array([codes[v] if v is not None else -1 for v in left], dtype=np.int64)
    right_codes = np.array([codes[v] if v is not None else -2 for v in right], dtype=np.int64)
    return np.asarray(left_codes[:, None] == right_codes[None, :])


def match(mentees: Sequence[Mentee], mentors: Sequence[Mentor], weights: Weights | None = None) -> MatchResult:
    """The optimal matching (see the module docstring)."""
    weights = weights or Weights()
    mentees = sorted(mentees, key=lambda p: p.id)
    mentors = sorted((t for t in mentors if t.free_slots > 0 and not t.paused), key=lambda t: t.id)
    if not mentees or not mentors:
        return MatchResult(matches=[], unmatched=[p.id for p in mentees])
    scores = score_matrix(mentees, mentors, weights)
    coverage = (float(scores.max(initial=0.0)) + 1.0) * len(mentees) + 1.0
    priority = np.array([coverage * (len(mentees) + 1) if p.flagged else 0.0 for p in mentees])
    pairs = best_assignment(
        gain=np.maximum(scores, 0.0),
        allowed=scores > FORBIDDEN,
        capacity=np.array([t.free_slots for t in mentors], dtype=np.int64),
        unassigned_cost=coverage + priority,
    )
    matches, matched = [], set()
    for row, column in pairs:
        mentee, mentor = mentees[row], mentors[column]
        criteria = explain(mentee, mentor, weights)
        matches.append(Match(mentee.id, mentor.id, round(sum(criteria.values()), 6), criteria))
        matched.add(mentee.id)
    return MatchResult(
        matches=sorted(matches, key=lambda m: m.mentee_id), unmatched=[p.id for p in mentees if p.id not in matched]
    )
