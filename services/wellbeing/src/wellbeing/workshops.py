"""Use cases of wellness workshops: the institution schedules sessions, students sign up and cancel, and a
sweep reminds them (``workshop.reminder_due``, once per seat, from the seat's own outbox)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, NotFound, Unprocessable
from medsupport_shared.event_types import WorkshopReminderDue
from medsupport_shared.events import utcnow
from wellbeing.context import WellbeingContext
from wellbeing.domain.workshops import (
    Seat,
    Session,
    Workshop,
    may_change_sign_up,
    reminder_window_start,
    seat_ids,
    session_problems,
)
from wellbeing.workshop_repository import SEATS, Document

NO_SUCH_SESSION = "no such workshop session, or no seat of yours in it"
SIGN_UP_CLOSED = "the session has started: sign-up and cancellation are closed"
SeatsTaken = dict[str, int]
"""Seats taken per session id."""


async def list_workshops(
    *, ctx: WellbeingContext, limit: int | None, cursor: str | None
) -> tuple[list[tuple[Workshop, SeatsTaken]], str | None]:
    items, next_cursor = await ctx.workshops.page(limit=limit, cursor=cursor)
    return [(w, await seats_taken(ctx, w)) for w in items], next_cursor


async def seats_taken(ctx: WellbeingContext, workshop: Workshop) -> SeatsTaken:
    return await ctx.workshops.seats_taken(session_ids=[s.id for s in workshop.sessions])


async def schedule_workshop(
    *, ctx: WellbeingContext, title: str, description: str, sessions: list[dict[str, Any]]
) -> tuple[Workshop, SeatsTaken]:
    workshop = Workshop(
        id=uuid.uuid4().hex,
        title=title,
        description=description,
        sessions=tuple(Session(id=uuid.uuid4().hex, **s) for s in sessions),
    )
    if problems := [p for s in workshop.sessions for p in session_problems(s)]:
        raise Unprocessable("; ".join(sorted(set(problems))))
    await ctx.workshops.insert(workshop=workshop, created_at=utcnow())
    return workshop, await seats_taken(ctx, workshop)


async def _session(ctx: WellbeingContext, workshop_id: str, session_id: str) -> Session:
    workshop = await ctx.workshops.get(workshop_id=workshop_id)
    session = workshop.session(session_id) if workshop else None
    if session is None:
        raise NotFound(NO_SUCH_SESSION)
    return session


async def sign_up(*, ctx: WellbeingContext, principal: Principal, workshop_id: str, session_id: str) -> Seat:
    """Take the first free seat; signing up again answers with the seat already held."""
    session = await _session(ctx, workshop_id, session_id)
    if held := await ctx.workshops.seat_of(session_id=session_id, student_id=principal.sub):
        return held
    if not may_change_sign_up(session, now=utcnow()):
        raise Conflict(SIGN_UP_CLOSED)
    for seat_id in seat_ids(session):
        seat = Seat(
            id=seat_id,
            workshop_id=workshop_id,
            session_id=session_id,
            student_id=principal.sub,
            starts_at=session.starts_at,
            remind_at=reminder_window_start(session.starts_at, hours_before=ctx.settings.workshop_reminder_hours),
            signed_up_at=utcnow(),
        )
        if await ctx.workshops.take_seat(seat=seat):
            return seat
        if held := await ctx.workshops.seat_of(session_id=session_id, student_id=principal.sub):
            return held  # a concurrent sign-up of the same student took it
    raise Conflict("the session is full")


async def cancel_sign_up(*, ctx: WellbeingContext, principal: Principal, workshop_id: str, session_id: str) -> None:
    session = await _session(ctx, workshop_id, session_id)
    if not may_change_sign_up(session, now=utcnow()):
        raise Conflict(SIGN_UP_CLOSED)
    if not await ctx.workshops.release_seat(session_id=session_id, student_id=principal.sub):
        raise NotFound(NO_SUCH_SESSION)


async def send_workshop_reminders(*, ctx: WellbeingContext) -> int:
    sent = 0
    for seat in await ctx.workshops.seats_to_remind(now=utcnow()):
        due = WorkshopReminderDue(
            workshop_id=seat.workshop_id,
            session_id=seat.session_id,
            student_id=seat.student_id,
            starts_at=seat.starts_at,
            reminder_id=seat.id,
        )
        if await ctx.changes.record(SEATS, seat.id, _mark_reminded(ctx, seat.id), due, wait=True):
            sent += 1
    return sent


def _mark_reminded(ctx: WellbeingContext, seat_id: str) -> Callable[[list[Document]], Awaitable[bool]]:
    async def write(entries: list[Document]) -> bool:
        return await ctx.workshops.mark_reminded(seat_id=seat_id, entries=entries)

    return write


def sessions_view(workshop: Workshop, taken: dict[str, int]) -> list[dict[str, datetime | int | str]]:
    return [
        {
            "id": s.id,
            "starts_at": s.starts_at,
            "ends_at": s.ends_at,
            "seats": s.seats,
            "seats_taken": taken.get(s.id, 0),
            "location": s.location,
        }
        for s in workshop.sessions
    ]
