"""An urgent check-in raises its flag even when the database is down.

Urgency is decided from the answers alone, before any I/O. When recording then fails because the
database does not answer, the flag is raised outside the store: it is written to the durable local
spool and its ``flag.raised`` event (id derived from the check-in) goes straight to Kafka, so
notifications alerts the on-call counsellor as usual. The spool's replay loop publishes what Kafka did
not take yet and, once MongoDB answers, puts the flag in the store through ``apply_flag`` with the same
ids: the flag is in the queue, its event id is the one already published (consumers drop the repeat),
and a pending-flag sweep of a check-in that did get recorded raises that very flag, not another.
"""

from __future__ import annotations

import logging
from typing import cast

from pymongo.errors import ConnectionFailure

from medsupport_shared.auth import Principal
from medsupport_shared.event_types import FlagRaised
from medsupport_shared.events import CloudEvent, new_event, utcnow
from medsupport_shared.kafka import PublishFailed
from wellbeing.checkins import CheckinAttempt
from wellbeing.context import WellbeingContext
from wellbeing.domain.flag_rules import Assessment, Severity, assess_answers
from wellbeing.domain.flags import WorryingCheckin, flag_id_for, flag_raised_event_id
from wellbeing.flags import apply_flag
from wellbeing.metrics import RAISED_WITHOUT_STORE, SPOOL_PENDING
from wellbeing.urgent_spool import SpooledFlag

log = logging.getLogger(__name__)


def database_down(exc: BaseException) -> bool:
    """Whether a failed check-in failed because the database does not answer (the case the spool is for)."""
    return isinstance(exc, ConnectionFailure)


async def raise_without_store(
    *, ctx: WellbeingContext, principal: Principal, instrument: str, answers: list[int], attempt: CheckinAttempt
) -> bool:
    """Raise the urgent flag of a check-in the database could not take; False when it could not be
    raised at all (no spool and no Kafka), so the caller answers the error (never raises: the caller is
    already handling a failure and must still give the crisis resources)."""
    try:
        return await _raise_without_store(
            ctx=ctx, principal=principal, instrument=instrument, answers=answers, attempt=attempt
        )
    except Exception:
        log.exception("urgent flag could not be raised outside the store", extra={"checkin_id": attempt.checkin_id})
        return False


async def _raise_without_store(
    *, ctx: WellbeingContext, principal: Principal, instrument: str, answers: list[int], attempt: CheckinAttempt
) -> bool:
    if attempt.flag_id is not None:
        return True  # the flag made it into the store (and its event into the outbox) before the failure
    assessed = assess_answers(instrument=instrument, answers=answers, thresholds=ctx.settings.flag_thresholds)
    if assessed is None:
        return False
    assessment = assessed[1]
    raised_at = utcnow()
    event = new_event(
        FlagRaised(
            flag_id=flag_id_for(attempt.checkin_id),
            student_id=principal.sub,
            severity=assessment.severity,
            reasons=list(assessment.reasons),
            instrument=instrument,
            raised_at=raised_at,
            cohort=principal.cohort,
            priority=assessment.priority,
            share_with_mentor=False,  # the consent could not be read: the mentor is not told
        ),
        source=ctx.source,
        event_id=flag_raised_event_id(attempt.checkin_id),
    )
    flag = SpooledFlag(
        checkin_id=attempt.checkin_id,
        student_id=principal.sub,
        cohort=principal.cohort,
        instrument=instrument,
        severity=assessment.severity,
        reasons=list(assessment.reasons),
        priority=assessment.priority,
        raised_at=raised_at,
        event=event.model_dump_json(),
    )
    log.warning("database down: urgent flag raised outside the store", extra={"checkin_id": attempt.checkin_id})
    if await ctx.spool.put(flag):
        RAISED_WITHOUT_STORE.labels("spool").inc()
        ctx.tasks.spawn(_publish(ctx, flag), name="urgent-flag-publish", checkin_id=flag.checkin_id)
        return True
    try:  # no durable spool: the student's answer waits until Kafka has the flag
        await ctx.publisher.publish(event)
    except PublishFailed:
        return False
    RAISED_WITHOUT_STORE.labels("kafka_only").inc()
    return True


async def _publish(ctx: WellbeingContext, flag: SpooledFlag) -> bool:
    try:
        await ctx.publisher.publish(CloudEvent.model_validate_json(flag.event))
    except PublishFailed as exc:
        log.warning("urgent flag left in the spool for Kafka", extra={"checkin_id": flag.checkin_id, "error": str(exc)})
        return False
    await ctx.spool.put(flag.model_copy(update={"published": True}))
    return True


async def replay_spool(*, ctx: WellbeingContext) -> int:
    """Publish what Kafka has not taken yet; put each flag in the store once MongoDB answers, then
    forget it. Returns how many flags reached the store."""
    pending = await ctx.spool.pending()
    SPOOL_PENDING.set(len(pending))
    stored, kafka_down = 0, False
    for flag in pending:
        if not flag.published and not kafka_down:
            kafka_down = not await _publish(ctx, flag)  # one timeout per pass is enough
        checkin = WorryingCheckin(
            checkin_id=flag.checkin_id,
            student_id=flag.student_id,
            cohort=flag.cohort,
            instrument=flag.instrument,
            # the severity as spooled (a spool file is never refused for its value: the flag must reach the store)
            assessment=Assessment(
                severity=cast(Severity, flag.severity), reasons=tuple(flag.reasons), priority=flag.priority
            ),
            share_with_mentor=False,  # the consent could not be read: the mentor is not told
        )
        try:
            flag_id = await apply_flag(ctx=ctx, checkin=checkin, raised_at=flag.raised_at)
        except ConnectionFailure:
            return stored  # still down: the next tick tries again
        await ctx.spool.remove(flag.checkin_id)
        stored += 1
        log.info("spooled urgent flag is in the store", extra={"checkin_id": flag.checkin_id, "flag_id": flag_id})
    SPOOL_PENDING.set(len(pending) - stored)
    return stored
