"""Use cases of check-ins: record one (raising or updating the student's flag through ``flags``), and the
student's and the counselling team's reads of them.

Nothing lost: the check-in document carries ``checkin.recorded`` in its outbox and, when worrying,
``flag_pending: true``; the flag document carries its own event. A crash between the two writes is
finished by ``flags.finish_pending_flags``.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from medsupport_shared.auth import Principal
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.domain_errors import Unprocessable
from medsupport_shared.event_types import CheckinRecorded
from medsupport_shared.events import utcnow
from medsupport_shared.side_by_side import all_three, nothing
from wellbeing import privacy
from wellbeing.context import WellbeingContext
from wellbeing.domain.cohort_summary import Period, cohort_summary, window_start
from wellbeing.domain.flag_rules import Assessment, assess
from wellbeing.domain.instruments import INSTRUMENTS
from wellbeing.domain.resources import Resource
from wellbeing.domain.scoring import AnswerError, Score, score
from wellbeing.flags import apply_flag
from wellbeing.metrics import CHECKINS_RECORDED
from wellbeing.repository import CHECKINS, Document, worrying_checkin
from wellbeing.resources import resources_for_checkin


@dataclass
class CheckinAttempt:
    """How far recording one check-in got: when the database fails midway, the reply says honestly
    whether the check-in was recorded, and the urgent fallback knows whether its flag is in the store."""

    checkin_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    recorded: bool = False
    stored: bool = False
    flag_id: str | None = None


@dataclass(frozen=True)
class CheckinOutcome:
    checkin_id: str
    score: Score
    assessment: Assessment
    stored: bool
    recorded_at: datetime
    flag_id: str | None
    resources: list[Resource] | None
    """The catalogue's help for a worrying check-in (None when it is not worrying)."""


def _scored(instrument: str, answers: list[int]) -> Score:
    definition = INSTRUMENTS.get(instrument)
    if definition is None:
        raise Unprocessable(
            "unknown instrument", errors=[{"loc": ["body", "instrument"], "msg": f"one of {sorted(INSTRUMENTS)}"}]
        )
    try:
        return score(definition, answers)
    except AnswerError as exc:
        raise Unprocessable(
            "the answers do not fit the instrument",
            errors=[
                {"loc": ["body", "answers"] + ([index] if index is not None else []), "msg": msg}
                for index, msg in exc.errors
            ],
        ) from exc


async def record_checkin(
    *,
    ctx: WellbeingContext,
    principal: Principal,
    instrument: str,
    answers: list[int],
    note: str | None,
    attempt: CheckinAttempt | None = None,
) -> CheckinOutcome:
    started = time.perf_counter()
    attempt = attempt or CheckinAttempt()
    result = _scored(instrument, answers)
    consent_doc = await ctx.repo.consent(student_id=principal.sub)
    consent = consent_doc or {}
    stored = bool(consent.get("store_checkins"))
    # Scores are stored only with consent, so a student who never set one has no previous score to compare
    # with: most students, whose check-ins then cost no search for one.
    previous_doc = await ctx.repo.latest_score(student_id=principal.sub, instrument=instrument) if consent_doc else None
    previous = _score_of(previous_doc) if previous_doc else None
    assessment = assess(result, answers, previous=previous, thresholds=ctx.settings.flag_thresholds)
    now, checkin_id = utcnow(), attempt.checkin_id
    recorded = CheckinRecorded(
        checkin_id=checkin_id,
        student_id=principal.sub,
        instrument=instrument,
        severity=assessment.severity,
        recorded_at=now,
        cohort=principal.cohort,
        stored=stored,
    )
    document: Document = {
        "_id": checkin_id,
        "student_id": principal.sub,
        "cohort": principal.cohort,
        "instrument": instrument,
        "severity": assessment.severity,
        "reasons": list(assessment.reasons),
        "priority": assessment.priority,
        "recorded_at": now,
        "created_at": now,
        "stored": stored,
        "flag_pending": assessment.severity != "none",
        "share_with_mentor": bool(consent.get("share_flags_with_mentor")),
    }
    if stored:  # answers, scores and the note are kept only with the student's consent
        document.update(
            answers=seal_answers(answers, ctx.cipher),
            score=result.total,
            percentage=result.percentage,
            band=result.band,
            note=ctx.cipher.encrypt(note),
        )

    async def insert(entries: list[Document]) -> bool:
        await ctx.repo.insert_checkin(checkin=document, entries=entries)
        attempt.recorded, attempt.stored = True, stored
        return True

    await ctx.changes.record(CHECKINS, checkin_id, insert, recorded)
    CHECKINS_RECORDED.labels(instrument, assessment.severity).inc()
    worrying = worrying_checkin(document) if document["flag_pending"] else None
    # The flag first: it is what a person is waiting for. The bookkeeping after it needs nothing from it.
    flag_id = await apply_flag(ctx=ctx, checkin=worrying, started=started) if worrying else None
    attempt.flag_id = flag_id
    severity = assessment.severity
    _, _, matching = await all_three(
        lambda: ctx.repo.remember_latest_score(checkin=document) if stored else nothing(),
        lambda: ctx.repo.postpone_reminder(student_id=principal.sub, now=now),
        lambda: (
            resources_for_checkin(
                ctx=ctx, principal=principal, reasons=list(assessment.reasons), urgent=severity == "urgent"
            )
            if severity != "none"
            else nothing()
        ),
    )
    return CheckinOutcome(checkin_id, result, assessment, stored, now, flag_id, matching)


def _score_of(doc: Document) -> Score:
    return Score(instrument=doc["instrument"], total=doc["score"], band=doc["band"], percentage=doc.get("percentage"))


async def own_checkins(
    *, ctx: WellbeingContext, student_id: str, limit: int | None, cursor: str | None, instrument: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """The student's own stored check-ins, newest first, answers and note opened."""
    items, next_cursor = await ctx.repo.page_checkins(
        student_id=student_id, limit=limit, cursor=cursor, instrument=instrument
    )
    return [checkin_view(d, ctx.cipher) for d in items], next_cursor


async def student_checkins(
    *, ctx: WellbeingContext, principal: Principal, student_id: str, purpose: str, limit: int | None, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """A student's check-ins read by a counsellor: the read is audited (who, which, when, why)."""
    items, next_cursor = await ctx.repo.page_checkins(student_id=student_id, limit=limit, cursor=cursor)
    await privacy.audit_read(
        ctx=ctx,
        principal=principal,
        action="read_checkins",
        student_id=student_id,
        purpose=purpose,
        record_ids=[d["_id"] for d in items],
    )
    return [checkin_view(d, ctx.cipher) for d in items], next_cursor


async def trend(*, ctx: WellbeingContext, student_id: str, instrument: str | None) -> dict[str, Any]:
    """The student's scores over time per instrument, and the change between the last two."""
    rows = await ctx.repo.checkins_for_trend(student_id=student_id, instrument=instrument)
    series: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        series.setdefault(row["instrument"], []).append(
            {
                "recorded_at": row["recorded_at"],
                "score": row["score"],
                "percentage": row.get("percentage"),
                "band": row["band"],
                "severity": row["severity"],
            }
        )
    changes = {
        code: (points[-1]["score"] - points[-2]["score"]) if len(points) > 1 else None
        for code, points in series.items()
    }
    return {"instruments": series, "changes": changes}


def seal_answers(answers: list[int], cipher: FieldCipher) -> str | None:
    """The answers encrypted at rest, like the note (PHQ-9 item 9 is the most sensitive value held); score,
    band and severity stay in clear for the queue, trends and aggregates."""
    return cipher.encrypt(json.dumps(answers, separators=(",", ":")))


def open_answers(stored: Any, cipher: FieldCipher) -> list[int] | None:
    """Sealed answers decrypted; a plain list (stored before answers were encrypted) as it is; anything else none."""
    if isinstance(stored, str):
        stored = json.loads(cipher.decrypt(stored) or "null")
    if isinstance(stored, list) and all(isinstance(a, int) and not isinstance(a, bool) for a in stored):
        return stored
    return None


def checkin_view(doc: Document, cipher: FieldCipher) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "student_id": doc["student_id"],
        "instrument": doc["instrument"],
        "answers": open_answers(doc.get("answers"), cipher),
        "score": doc.get("score"),
        "percentage": doc.get("percentage"),
        "band": doc.get("band"),
        "severity": doc["severity"],
        "reasons": doc.get("reasons", []),
        "note": cipher.decrypt(doc.get("note")),
        "recorded_at": doc["recorded_at"],
    }


async def cohort_figures(*, ctx: WellbeingContext, cohort: str, period: Period, months: int) -> list[dict[str, Any]]:
    """Aggregates of a cohort's check-ins over whole calendar cells, small groups suppressed."""
    now = utcnow()
    rows = await ctx.repo.cohort_checkins(cohort=cohort, since=window_start(now, months))
    return cohort_summary(rows, period=period, min_group=ctx.settings.min_group_size, now=now)
