"""Topics this service reads, and the typed handlers: mentorships (to share reflections with a
current mentor) and erasure requests."""

from __future__ import annotations

import logging

from feedback import erasure
from feedback.context import FeedbackContext
from medsupport_shared.erasure import ErasedStudents, unless_erased
from medsupport_shared.event_types import (
    MENTORSHIP_TOPIC,
    PLATFORM_TOPIC,
    MentorAssigned,
    MentorshipEnded,
    StudentErasureRequested,
)
from medsupport_shared.events import CloudEvent
from medsupport_shared.kafka import Handlers

TOPICS = [MENTORSHIP_TOPIC, PLATFORM_TOPIC]
log = logging.getLogger(__name__)


def handlers(ctx: FeedbackContext) -> Handlers:
    # Erased students (keyed hashes): a mentorship from before the erasure, replayed, is not re-created.
    erased = ErasedStudents(
        ctx.repo.feedback.database, secret=ctx.settings.data_encryption_key.get_secret_value().encode()
    )

    async def remember_mentor(event: CloudEvent, payload: MentorAssigned) -> None:
        await ctx.repo.record_mentorship(
            assignment_id=payload.assignment_id,
            mentor_id=payload.mentor_id,
            mentee_id=payload.mentee_id,
            at=payload.assigned_at,
        )

    async def withdraw_mentor_shares(event: CloudEvent, payload: MentorshipEnded) -> None:
        await ctx.repo.end_mentorship(
            assignment_id=payload.assignment_id, mentor_id=payload.mentor_id, mentee_id=payload.mentee_id
        )

    async def erase_student(event: CloudEvent, payload: StudentErasureRequested) -> None:
        await erased.remember(payload.student_id, at=event.time)
        counts = await erasure.erase_student(ctx, student_id=payload.student_id)
        log.info("student data erased", extra={"event_id": event.id, "counts": counts})

    return {
        MentorAssigned: unless_erased(
            erased,
            remember_mentor,
            lambda p: p.mentee_id,
            erase_again=lambda student_id: ctx.repo.erase_student(student_id=student_id),
        ),
        MentorshipEnded: withdraw_mentor_shares,
        StudentErasureRequested: erase_student,
    }
