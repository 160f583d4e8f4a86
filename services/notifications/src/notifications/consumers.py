"""Topics → typed events → use cases. Every routable event becomes alerts; a few have special handling.
Wellbeing flags have a lane of their own (``flag_handlers``). ``checkin.recorded`` is not consumed: nothing
here needs a student's check-in severities, so they are not kept (they were, by older versions; the
retention sweep removes them)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from medsupport_shared.erasure import ErasedStudents, unless_erased
from medsupport_shared.event_types import (
    FEEDBACK_TOPIC,
    MENTORSHIP_TOPIC,
    PLATFORM_TOPIC,
    WELLBEING_TOPIC,
    FlagRaised,
    FlagResolved,
    FlagUpdated,
    MentorAssigned,
    MentorshipEnded,
    ReferralDeadlineMissed,
    ReferralReceived,
    ReferralStudentNotice,
    StudentErasureRequested,
)
from medsupport_shared.events import CloudEvent, EventData
from medsupport_shared.kafka import EventHandler, Handlers
from notifications.alerts import close_alerts_for_resolved_flag, route_event
from notifications.context import NotificationsContext
from notifications.domain.event_facts import EVENT_FACTS

log = logging.getLogger(__name__)
TOPICS = [FEEDBACK_TOPIC, WELLBEING_TOPIC, MENTORSHIP_TOPIC, PLATFORM_TOPIC]


def erased_students(ctx: NotificationsContext) -> ErasedStudents:
    """Erased students (keyed hashes): an event from before a student's erasure re-creates nothing."""
    return ErasedStudents(ctx.repo.alerts.database, secret=ctx.settings.data_encryption_key.get_secret_value().encode())


def _router(ctx: NotificationsContext) -> EventHandler:
    async def route_to_people(event: CloudEvent, payload: EventData) -> None:
        await route_event(ctx=ctx, event=event, payload=payload)

    return route_to_people


def _erase_again(ctx: NotificationsContext) -> Callable[[str], Awaitable[object]]:
    return lambda student_id: ctx.repo.erase_student(student_id=student_id)


def handlers(ctx: NotificationsContext) -> Handlers:
    route_to_people = _router(ctx)

    async def erase_student(event: CloudEvent, payload: StudentErasureRequested) -> None:
        await erased_students(ctx).remember(payload.student_id, at=event.time)
        counts = await ctx.repo.erase_student(student_id=payload.student_id)
        log.info("student data erased", extra={"event_id": event.id, "deleted": counts})

    async def learn_mentor(event: CloudEvent, payload: MentorAssigned) -> None:
        await ctx.repo.remember_mentor(
            student_id=payload.mentee_id, mentor_id=payload.mentor_id, assignment_id=payload.assignment_id
        )
        await route_event(ctx=ctx, event=event, payload=payload)

    async def forget_mentor(event: CloudEvent, payload: MentorshipEnded) -> None:
        await ctx.repo.forget_mentor(student_id=payload.mentee_id, assignment_id=payload.assignment_id)
        await route_event(ctx=ctx, event=event, payload=payload)

    routable = [model for model in EVENT_FACTS if model not in FLAG_EVENTS]  # flags have a lane of their own
    table: dict[type[EventData], EventHandler] = dict.fromkeys(routable, route_to_people)
    erased, erase_again = erased_students(ctx), _erase_again(ctx)
    table.update(
        {
            MentorAssigned: unless_erased(erased, learn_mentor, lambda p: p.mentee_id, erase_again=erase_again),
            MentorshipEnded: forget_mentor,
            StudentErasureRequested: erase_student,
        }
    )
    for referral_event in REFERRAL_EVENTS:  # health data about an erased student is not re-created by a replay
        table[referral_event] = unless_erased(erased, route_to_people, lambda p: p.student_id, erase_again=erase_again)
    return table


REFERRAL_EVENTS = (ReferralReceived, ReferralDeadlineMissed, ReferralStudentNotice)


FLAG_EVENTS = (FlagRaised, FlagUpdated, FlagResolved)


def flag_handlers(ctx: NotificationsContext) -> Handlers:
    """The flag lane: wellbeing flags in their own consumer group, in order among themselves, so an urgent
    flag never waits behind the routine check-in events that share its topic and partitions."""

    async def close_resolved_flag_alerts(event: CloudEvent, payload: FlagResolved) -> None:
        await close_alerts_for_resolved_flag(ctx=ctx, student_id=payload.student_id)
        if await erased_students(ctx).erased_at(payload.student_id) is not None:
            await ctx.repo.erase_student(student_id=payload.student_id)  # the alerts kept for the follow-up

    # An urgent flag always reaches a human, even one replayed about an erased student (safety first);
    # an elevated one from before the erasure is dropped. The erasure is consumed by the other group, so it
    # may land while a flag is being routed: what the flag made is then erased too (an urgent flag's open
    # alerts are only marked, and go once the flag is resolved).
    route = unless_erased(
        erased_students(ctx),
        _router(ctx),
        lambda p: p.student_id,
        erase_again=_erase_again(ctx),
        always_handle=lambda p: p.severity == "urgent",
    )
    return {FlagRaised: route, FlagUpdated: route, FlagResolved: close_resolved_flag_alerts}
