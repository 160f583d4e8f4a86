"""Use case: the periodic sweep that reminds quiet mentorships to meet, once per quiet period."""

from __future__ import annotations

from datetime import timedelta

from medsupport_shared.event_types import MeetingReminderDue
from medsupport_shared.events import utcnow
from mentorship.context import MentorshipContext
from mentorship.domain.meetings import quiet_since, reminder_due, reminder_id
from mentorship.metrics import WITHOUT_RECENT_MEETING, observe_since_last_meeting
from mentorship.repository import REMINDERS, Document


async def send_meeting_reminders(*, ctx: MentorshipContext) -> int:
    """One reminder per assignment per quiet period (a unique reminder document), across restarts."""
    now = utcnow()
    period = timedelta(days=ctx.settings.meeting_reminder_days)
    overdue = sent = 0
    waited: list[float] = []
    for assignment in await ctx.repo.active_assignments():
        since = quiet_since(assignment)
        waited.append(max(0.0, (now - since).total_seconds()))
        if not reminder_due(assignment, now=now, period=period):
            continue
        overdue += 1
        reminder = {"_id": reminder_id(assignment), "assignment_id": assignment.id, "created_at": now}

        async def insert(entries: list[Document], reminder: Document = reminder) -> bool:
            return await ctx.repo.insert_reminder(reminder=reminder, entries=entries)

        due = MeetingReminderDue(
            assignment_id=assignment.id,
            mentor_id=assignment.mentor_id,
            mentee_id=assignment.mentee_id,
            due_at=since + period,
            reminder_id=reminder["_id"],
            last_meeting_at=assignment.last_meeting_at,
        )
        if await ctx.changes.record(REMINDERS, reminder["_id"], insert, due):
            sent += 1
    WITHOUT_RECENT_MEETING.set(overdue)
    observe_since_last_meeting(ctx.settings.service_name, waited)
    ctx.sweeps["reminders"] = ctx.sweeps.get("reminders", 0) + 1
    return sent
