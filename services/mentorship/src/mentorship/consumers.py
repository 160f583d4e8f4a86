"""Events mentorship reacts to: wellbeing flags (priority only, no detail) and erasure."""

from __future__ import annotations

import logging
from datetime import timedelta

from medsupport_shared.erasure import ErasedStudents, unless_erased
from medsupport_shared.event_types import (
    PLATFORM_TOPIC,
    WELLBEING_TOPIC,
    FlagRaised,
    FlagResolved,
    FlagUpdated,
    StudentErasureRequested,
)
from medsupport_shared.events import CloudEvent, utcnow
from medsupport_shared.kafka import Handlers
from mentorship.context import MentorshipContext

log = logging.getLogger(__name__)
TOPICS = [WELLBEING_TOPIC, PLATFORM_TOPIC]


def handlers(ctx: MentorshipContext) -> Handlers:
    # Erased students (keyed hashes): a flag event from before the erasure, replayed, re-creates no priority.
    erased = ErasedStudents(
        ctx.repo.priority.database, secret=ctx.settings.data_encryption_key.get_secret_value().encode()
    )

    async def prioritise_flagged_student(event: CloudEvent, payload: FlagRaised | FlagUpdated) -> None:
        until = utcnow() + timedelta(days=ctx.settings.flag_priority_days)
        await ctx.repo.prioritise(student_id=payload.student_id, until=until)

    async def end_priority(event: CloudEvent, payload: FlagResolved) -> None:
        await ctx.repo.clear_priority(student_id=payload.student_id)

    async def erase_student(event: CloudEvent, payload: StudentErasureRequested) -> None:
        await erased.remember(payload.student_id, at=event.time)
        counts = await ctx.repo.erase_student(student_id=payload.student_id)
        counts["idempotency_replies"] = await ctx.idempotency.forget_owner(payload.student_id)
        log.info("student data erased", extra={"event_id": event.id, "deleted": counts})

    prioritise = unless_erased(
        erased,
        prioritise_flagged_student,
        lambda p: p.student_id,
        erase_again=lambda student_id: ctx.repo.erase_student(student_id=student_id),
    )
    return {
        FlagRaised: prioritise,
        FlagUpdated: prioritise,
        FlagResolved: end_priority,
        StudentErasureRequested: erase_student,
    }
