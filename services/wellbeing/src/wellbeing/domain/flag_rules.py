"""When a check-in raises a flag, and how a new one merges into the student's open flag (pure).

Defaults are docs/DOMAIN.md's published cut-offs; the institution overrides them in settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from wellbeing.domain import scoring
from wellbeing.domain.instruments import INSTRUMENTS
from wellbeing.domain.scoring import Score

Severity = Literal["none", "elevated", "urgent"]
SEVERITY_RANK: dict[str, int] = {"none": 0, "elevated": 1, "urgent": 2}
TOP_PRIORITY = 10
"""Priority of PHQ-9 ≥ 20 among elevated flags (the top of the counselling queue)."""


class FlagThresholds(BaseModel):
    model_config = ConfigDict(frozen=True)

    phq9_item9_urgent_above: int = 0
    who5_low_below: int = 13
    phq9_elevated_at: int = 10
    phq9_severe_at: int = 20
    gad7_elevated_at: int = 10
    phq2_positive_at: int = 3
    gad2_positive_at: int = 3
    pss10_high_at: int = 27
    burnout_at: int = 3
    who5_decline_points: int = 10
    phq9_rise_points: int = 5


@dataclass(frozen=True)
class Assessment:
    severity: Severity
    reasons: tuple[str, ...]
    priority: int = 0


def assess(
    score: Score,
    answers: list[int],
    *,
    previous: Score | None = None,
    thresholds: FlagThresholds | None = None,
) -> Assessment:
    """Severity and reason codes for one check-in; ``previous`` is the student's last check-in of
    the same instrument (for the trend rules)."""
    t = thresholds or FlagThresholds()
    reasons: list[str] = []
    urgent = False
    priority = 0
    code, total = score.instrument, score.total
    if code == "phq9":
        if answers[8] > t.phq9_item9_urgent_above:
            urgent = True
            reasons.append("phq9_item9_positive")
        if total >= t.phq9_severe_at:
            reasons.append("phq9_severe")
            priority = TOP_PRIORITY
        elif total >= 15:
            reasons.append("phq9_moderately_severe")
        elif total >= t.phq9_elevated_at:
            reasons.append("phq9_moderate")
        if previous is not None and total - previous.total >= t.phq9_rise_points:
            reasons.append("phq9_rise")
    elif code == "who5":
        if total < t.who5_low_below:
            reasons.append("who5_low")
        if previous is not None and (previous.percentage or 0) - (score.percentage or 0) >= t.who5_decline_points:
            reasons.append("who5_decline")
    elif code == "gad7" and total >= t.gad7_elevated_at:
        reasons.append("gad7_moderate" if total < 15 else "gad7_severe")
    elif code == "phq2" and total >= t.phq2_positive_at:
        reasons.append("phq2_positive")
    elif code == "gad2" and total >= t.gad2_positive_at:
        reasons.append("gad2_positive")
    elif code == "pss10" and total >= t.pss10_high_at:
        reasons.append("pss10_high")
    elif code == "burnout" and total >= t.burnout_at:
        reasons.append("burnout_positive")
    severity: Severity = "urgent" if urgent else ("elevated" if reasons else "none")
    return Assessment(severity=severity, reasons=tuple(reasons), priority=priority if not urgent else TOP_PRIORITY)


def assess_answers(
    *, instrument: str, answers: list[int], thresholds: FlagThresholds
) -> tuple[Score, Assessment] | None:
    """The score and the assessment of the answers alone (no history), before any read or write; None
    when they do not score."""
    definition = INSTRUMENTS.get(instrument)
    if definition is None:
        return None
    try:
        result = scoring.score(definition, answers)
    except scoring.AnswerError:
        return None
    return result, assess(result, answers, thresholds=thresholds)


def urgent_from_answers(*, instrument: str, answers: list[int], thresholds: FlagThresholds) -> bool:
    """Whether the answers alone make the check-in urgent, known before any read or write: urgency
    never depends on the student's history (the trend rules only ever raise ``elevated``), so the
    crisis resources can be given, and the flag raised, whatever fails afterwards."""
    assessed = assess_answers(instrument=instrument, answers=answers, thresholds=thresholds)
    return assessed is not None and assessed[1].severity == "urgent"


@dataclass(frozen=True)
class OpenFlag:
    severity: Severity
    reasons: tuple[str, ...]
    priority: int


def merge(open_flag: OpenFlag, new: Assessment) -> OpenFlag:
    """The open flag after a new worrying check-in: reasons accumulate (first-seen order), severity
    and priority only rise while the flag is open."""
    severity = open_flag.severity if SEVERITY_RANK[open_flag.severity] >= SEVERITY_RANK[new.severity] else new.severity
    reasons = tuple(dict.fromkeys((*open_flag.reasons, *new.reasons)))
    return OpenFlag(severity=severity, reasons=reasons, priority=max(open_flag.priority, new.priority))


MAX_QUEUE_PRIORITY = 999


def queue_key(severity: str, priority: int, raised_at: datetime) -> str:
    """The flag's place in the counselling queue as one string that sorts ascending: urgent before
    elevated, then higher priority (PHQ-9 ≥ 20 at the top), then the oldest, so the database sorts and
    pages the queue on one indexed field. Millisecond precision, as MongoDB stores ``raised_at``."""
    severity_part = 9 - SEVERITY_RANK.get(severity, 0)
    priority_part = MAX_QUEUE_PRIORITY - max(0, min(priority, MAX_QUEUE_PRIORITY))
    at = raised_at.astimezone(UTC)
    return f"{severity_part}|{priority_part:03d}|{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z"
