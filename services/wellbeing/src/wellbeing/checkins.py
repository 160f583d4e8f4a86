"""Use cases: record a check-in, raise or update the student's open flag, resolve a flag, sweeps.

Nothing lost: the check-in document carries ``checkin.recorded`` in its outbox and, when worrying,
``flag_pending: true``; the flag document carries its own event. A crash between the two writes is
finished by ``finish_pending_flags`` (idempotent: a flag remembers which check-ins it has absorbed).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from prometheus_client import Counter, Gauge, Histogram

from medsupport_shared.auth import Principal
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.errors import Conflict, NotFound, Unprocessable
from medsupport_shared.event_types import CheckinRecorded, FlagRaised, FlagResolved, FlagUpdated
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.idempotency import IdempotencyStore
from medsupport_shared.kafka import EventPublisher
from medsupport_shared.outbox import Outbox, outbox_entry
from medsupport_shared.rate_limits import WindowCounters
from medsupport_shared.supervision import TaskSupervisor
from wellbeing.flag_rules import Assessment, FlagThresholds, OpenFlag, assess, merge, queue_key
from wellbeing.instruments import INSTRUMENTS
from wellbeing.referral_repository import ReferralRepository
from wellbeing.repository import CHECKINS, FLAGS, Document, WellbeingRepository
from wellbeing.resource_repository import ResourceRepository
from wellbeing.scoring import AnswerError, Score, score
from wellbeing.settings import WellbeingSettings
from wellbeing.urgent_spool import UrgentSpool
from wellbeing.workshop_repository import WorkshopRepository

log = logging.getLogger(__name__)
CHECKINS_RECORDED = Counter("medsupport_wellbeing_checkins_total", "Check-ins recorded", ["instrument", "severity"])
FLAGS_OPEN = Gauge("medsupport_wellbeing_flags_open", "Open flags", ["severity"])
CHECKIN_TO_FLAG_EVENT = Histogram(
    "medsupport_wellbeing_checkin_to_flag_published_seconds",
    "Time from receiving a worrying check-in to its flag event acknowledged by Kafka",
    ["severity"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)


@dataclass
class WellbeingContext:
    repo: WellbeingRepository
    outbox: Outbox
    settings: WellbeingSettings
    cipher: FieldCipher
    source: str
    idempotency: IdempotencyStore
    publisher: EventPublisher
    tasks: TaskSupervisor
    spool: UrgentSpool
    """Urgent flags raised while the database was down, until the store has them."""
    referrals: ReferralRepository
    resources: ResourceRepository
    workshops: WorkshopRepository
    counters: WindowCounters

    def publish_measured(
        self, collection: str, doc_id: str, entries: list[Document], *, started: float, severity: str
    ) -> None:
        def observe(task: asyncio.Task[bool]) -> None:
            if not task.cancelled() and task.exception() is None and task.result():
                CHECKIN_TO_FLAG_EVENT.labels(severity).observe(time.perf_counter() - started)

        self.outbox.dispatch(collection, doc_id, entries).add_done_callback(observe)


@dataclass
class CheckinAttempt:
    """How far recording one check-in got: when the database fails midway, the reply says honestly
    whether the check-in was recorded, and the urgent fallback knows whether its flag is in the store."""

    checkin_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    recorded: bool = False
    stored: bool = False
    flag_id: str | None = None


FLAG_IDS = uuid.UUID("5d1c7c52-8a43-4b8e-9d51-0b6f3f0d7a11")


def flag_id_for(checkin_id: str) -> str:
    """The id of the flag a check-in raises when the student has none open, and of its ``flag.raised``
    event: derived from the check-in, so every path that raises it (the request, the pending-flag sweep,
    the urgent spool's replay) raises the same flag and consumers drop the repeats by event id."""
    return uuid.uuid5(FLAG_IDS, f"flag:{checkin_id}").hex


def flag_raised_event_id(checkin_id: str) -> str:
    return str(uuid.uuid5(FLAG_IDS, f"flag.raised:{checkin_id}"))


@dataclass(frozen=True)
class CheckinOutcome:
    checkin_id: str
    score: Score
    assessment: Assessment
    stored: bool
    recorded_at: datetime
    flag_id: str | None


def assess_answers(
    *, instrument: str, answers: list[int], thresholds: FlagThresholds
) -> tuple[Score, Assessment] | None:
    """The score and the assessment of the answers alone (no history), before any read or write; None
    when they do not score."""
    definition = INSTRUMENTS.get(instrument)
    if definition is None:
        return None
    try:
        result = score(definition, answers)
    except AnswerError:
        return None
    return result, assess(result, answers, thresholds=thresholds)


def urgent_from_answers(*, instrument: str, answers: list[int], thresholds: FlagThresholds) -> bool:
    """Whether the answers alone make the check-in urgent, known before any read or write: urgency
    never depends on the student's history (the trend rules only ever raise ``elevated``), so the
    crisis resources can be given, and the flag raised, whatever fails afterwards."""
    assessed = assess_answers(instrument=instrument, answers=answers, thresholds=thresholds)
    return assessed is not None and assessed[1].severity == "urgent"


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
    definition = INSTRUMENTS.get(instrument)
    if definition is None:
        raise Unprocessable(
            "unknown instrument", errors=[{"loc": ["body", "instrument"], "msg": f"one of {sorted(INSTRUMENTS)}"}]
        )
    try:
        result = score(definition, answers)
    except AnswerError as exc:
        raise Unprocessable(
            "the answers do not fit the instrument",
            errors=[
                {"loc": ["body", "answers"] + ([index] if index is not None else []), "msg": msg}
                for index, msg in exc.errors
            ],
        ) from exc
    consent = await ctx.repo.consent(student_id=principal.sub) or {}
    stored = bool(consent.get("store_checkins"))
    previous_doc = await ctx.repo.latest_score(student_id=principal.sub, instrument=instrument)
    previous = _score_of(previous_doc) if previous_doc else None
    assessment = assess(result, answers, previous=previous, thresholds=ctx.settings.flag_thresholds)
    now, checkin_id = utcnow(), attempt.checkin_id
    event = new_event(
        CheckinRecorded(
            checkin_id=checkin_id,
            student_id=principal.sub,
            instrument=instrument,
            severity=assessment.severity,
            recorded_at=now,
            cohort=principal.cohort,
            stored=stored,
        ),
        source=ctx.source,
    )
    entry = outbox_entry(event)
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
    await ctx.repo.insert_checkin(checkin=document, entries=[entry])
    attempt.recorded, attempt.stored = True, stored
    ctx.outbox.dispatch(CHECKINS, checkin_id, [entry])
    if stored:
        await ctx.repo.remember_latest_score(checkin=document)
    CHECKINS_RECORDED.labels(instrument, assessment.severity).inc()
    flag_id = await apply_flag(ctx=ctx, checkin=document, started=started) if document["flag_pending"] else None
    attempt.flag_id = flag_id
    await ctx.repo.postpone_reminder(student_id=principal.sub, now=now)
    return CheckinOutcome(checkin_id, result, assessment, stored, now, flag_id)


def _score_of(doc: Document) -> Score:
    return Score(instrument=doc["instrument"], total=doc["score"], band=doc["band"], percentage=doc.get("percentage"))


async def apply_flag(
    *, ctx: WellbeingContext, checkin: Document, started: float | None = None, raised_at: datetime | None = None
) -> str:
    """Raise the student's flag, or update the open one; idempotent per check-in (a flag it raised has
    the id ``flag_id_for(checkin)``). ``raised_at``: when the flag was raised outside the store (the
    urgent spool), so it keeps its place in the queue."""
    started = started if started is not None else time.perf_counter()
    student_id, checkin_id = checkin["student_id"], checkin["_id"]
    new = Assessment(severity=checkin["severity"], reasons=tuple(checkin["reasons"]), priority=checkin["priority"])
    for _ in range(20):
        now = utcnow()
        current = await ctx.repo.open_flag(student_id=student_id)
        if current is None:
            flag_id = flag_id_for(checkin_id)
            if await ctx.repo.flag(flag_id=flag_id) is not None:  # raised already (and perhaps resolved since)
                await ctx.repo.mark_flag_applied(checkin_id=checkin_id, flag_id=flag_id)
                return flag_id
            now = raised_at or now
            event = new_event(
                FlagRaised(
                    flag_id=flag_id,
                    student_id=student_id,
                    severity=checkin["severity"],
                    reasons=list(new.reasons),
                    instrument=checkin["instrument"],
                    raised_at=now,
                    cohort=checkin.get("cohort"),
                    priority=new.priority,
                    share_with_mentor=checkin.get("share_with_mentor", False),
                ),
                source=ctx.source,
                event_id=flag_raised_event_id(checkin_id),
            )
            entry = outbox_entry(event)
            flag = {
                "_id": flag_id,
                "open_key": student_id,
                "student_id": student_id,
                "status": "open",
                "cohort": checkin.get("cohort"),
                "severity": new.severity,
                "reasons": list(new.reasons),
                "priority": new.priority,
                "instrument": checkin["instrument"],
                "raised_at": now,
                "updated_at": now,
                "queue_key": queue_key(new.severity, new.priority, now),
                "checkin_ids": [checkin_id],
                "version": 1,
            }
            if await ctx.repo.insert_flag(flag=flag, entry=entry):
                ctx.publish_measured(FLAGS, flag_id, [entry], started=started, severity=new.severity)
                await ctx.repo.mark_flag_applied(checkin_id=checkin_id, flag_id=flag_id)
                return flag_id
            continue  # another check-in opened the flag first: update it instead
        if checkin_id in current.get("checkin_ids", []):
            await ctx.repo.mark_flag_applied(checkin_id=checkin_id, flag_id=current["_id"])
            return str(current["_id"])
        merged = merge(OpenFlag(current["severity"], tuple(current["reasons"]), current["priority"]), new)
        event = new_event(
            FlagUpdated(
                flag_id=current["_id"],
                student_id=student_id,
                severity=merged.severity,
                reasons=list(merged.reasons),
                instrument=checkin["instrument"],
                updated_at=now,
                cohort=current.get("cohort"),
                priority=merged.priority,
                share_with_mentor=checkin.get("share_with_mentor", False),
            ),
            source=ctx.source,
        )
        entry = outbox_entry(event)
        changes = {
            "severity": merged.severity,
            "reasons": list(merged.reasons),
            "priority": merged.priority,
            "queue_key": queue_key(merged.severity, merged.priority, current["raised_at"]),
            "instrument": checkin["instrument"],
            "updated_at": now,
        }
        if await ctx.repo.update_open_flag(flag=current, changes=changes, checkin_id=checkin_id, entry=entry):
            ctx.publish_measured(FLAGS, current["_id"], [entry], started=started, severity=merged.severity)
            await ctx.repo.mark_flag_applied(checkin_id=checkin_id, flag_id=current["_id"])
            return str(current["_id"])
    raise Conflict("the student's flag kept changing; retry")


RESOLUTION_OUTCOMES = ("contacted", "referred", "no_action_needed", "unreachable", "other")


async def resolve_flag(
    *, ctx: WellbeingContext, principal: Principal, flag_id: str, outcome: str, note: str | None
) -> Document:
    flag = await ctx.repo.flag(flag_id=flag_id)
    if flag is None:
        raise NotFound("no flag with that id")
    if flag["status"] != "open":
        raise Conflict("the flag is already resolved")
    now = utcnow()
    event = new_event(
        FlagResolved(
            flag_id=flag_id, student_id=flag["student_id"], resolved_at=now, outcome=outcome, cohort=flag.get("cohort")
        ),
        source=ctx.source,
    )
    entry = outbox_entry(event)
    changes = {
        "status": "resolved",
        "resolved_at": now,
        "resolved_by": principal.sub,
        "outcome": outcome,
        "resolution_note": ctx.cipher.encrypt(note),
        "updated_at": now,
    }
    if not await ctx.repo.resolve_flag(flag=flag, changes=changes, entry=entry):
        raise Conflict("the flag changed while resolving; reload and retry")
    ctx.outbox.dispatch(FLAGS, flag_id, [entry])
    return {**flag, **changes}


async def finish_pending_flags(*, ctx: WellbeingContext) -> int:
    """Sweep: flags that a crash left unraised for worrying check-ins."""
    grace = timedelta(seconds=ctx.settings.flag_sweep_grace_seconds)
    pending = await ctx.repo.pending_flag_checkins(older_than=utcnow() - grace)
    for checkin in pending:
        await apply_flag(ctx=ctx, checkin=checkin)
    return len(pending)


async def refresh_open_flag_gauge(*, ctx: WellbeingContext) -> None:
    for severity, count in (await ctx.repo.count_open_flags()).items():
        FLAGS_OPEN.labels(severity).set(count)


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
