"""Topics → typed events → use cases. Every routable event becomes alerts; a few have special handling.
Wellbeing flags have a lane of their own (``flag_handlers``)."""

from __future__ import annotations

import logging
from typing import Any

from medsupport_shared.event_types import (
    FEEDBACK_TOPIC,
    MENTORSHIP_TOPIC,
    PLATFORM_TOPIC,
    WELLBEING_TOPIC,
    CheckinRecorded,
    FlagResolved,
    MentorAssigned,
    MentorshipEnded,
    StudentErasureRequested,
)
from medsupport_shared.events import CloudEvent
from medsupport_shared.kafka import EventHandler
from notifications.alerts import close_alerts_for_resolved_flag, route_event
from notifications.context import NotificationsContext
from notifications.routing import ROUTABLE

log = logging.getLogger(__name__)
TOPICS = [FEEDBACK_TOPIC, WELLBEING_TOPIC, MENTORSHIP_TOPIC, PLATFORM_TOPIC]


def _router(ctx: NotificationsContext) -> EventHandler:
    async def route_to_people(event: CloudEvent, _: Any) -> None:
        await route_event(ctx=ctx, event=event)

    return route_to_people


def handlers(ctx: NotificationsContext) -> dict[str, EventHandler]:
    route_to_people = _router(ctx)

    async def record_checkin(event: CloudEvent, payload: CheckinRecorded) -> None:
        await ctx.repo.record_checkin(
            checkin={
                "_id": payload.checkin_id,
                "student_id": payload.student_id,
                "instrument": payload.instrument,
                "severity": payload.severity,
                "recorded_at": payload.recorded_at,
                "event_id": event.id,
            }
        )

    async def erase_student(event: CloudEvent, payload: StudentErasureRequested) -> None:
        counts = await ctx.repo.erase_student(student_id=payload.student_id)
        log.info("student data erased", extra={"event_id": event.id, "deleted": counts})

    async def learn_mentor(event: CloudEvent, payload: MentorAssigned) -> None:
        await ctx.repo.remember_mentor(
            student_id=payload.mentee_id, mentor_id=payload.mentor_id, assignment_id=payload.assignment_id
        )
        await route_event(ctx=ctx, event=event)

    async def forget_mentor(event: CloudEvent, payload: MentorshipEnded) -> None:
        await ctx.repo.forget_mentor(student_id=payload.mentee_id, assignment_id=payload.assignment_id)
        await route_event(ctx=ctx, event=event)

    table: dict[str, EventHandler] = dict.fromkeys(set(ROUTABLE) - set(FLAG_EVENTS), route_to_people)
    table.update(
        {
            "mentor.assigned": learn_mentor,
            "mentorship.ended": forget_mentor,
            "checkin.recorded": record_checkin,
            "student.erasure.requested": erase_student,
        }
    )
    return table


FLAG_EVENTS = ("flag.raised", "flag.updated", "flag.resolved")


def flag_handlers(ctx: NotificationsContext) -> dict[str, EventHandler]:
    """The flag lane: wellbeing flags in their own consumer group, in order among themselves, so an urgent
    flag never waits behind the routine check-in events that share its topic and partitions."""

    async def close_resolved_flag_alerts(event: CloudEvent, payload: FlagResolved) -> None:
        await close_alerts_for_resolved_flag(ctx=ctx, student_id=payload.student_id)

    route = _router(ctx)
    return {"flag.raised": route, "flag.updated": route, "flag.resolved": close_resolved_flag_alerts}
