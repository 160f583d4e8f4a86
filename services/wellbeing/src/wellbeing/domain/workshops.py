"""Wellness workshops (pure): sessions with a number of seats, each seat a unique slot id so that two
sign-ups can never take the last seat twice (as mentor capacity is held), and when a reminder is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Session:
    id: str
    starts_at: datetime
    ends_at: datetime
    seats: int
    location: str


@dataclass(frozen=True)
class Workshop:
    id: str
    title: str
    description: str
    sessions: tuple[Session, ...]

    def session(self, session_id: str) -> Session | None:
        return next((s for s in self.sessions if s.id == session_id), None)


@dataclass(frozen=True)
class Seat:
    """One student's place in a session; its id is one of the session's slot ids (``seat_ids``)."""

    id: str
    workshop_id: str
    session_id: str
    student_id: str
    starts_at: datetime
    remind_at: datetime
    signed_up_at: datetime
    reminded: bool = False


def seat_ids(session: Session) -> list[str]:
    """The session's seats in the order they are offered: a sign-up takes the first free one."""
    return [f"{session.id}:seat:{n}" for n in range(session.seats)]


def session_problems(session: Session) -> list[str]:
    return ["a session must end after it starts"] if session.ends_at <= session.starts_at else []


def may_change_sign_up(session: Session, *, now: datetime) -> bool:
    """Sign-up and cancellation close when the session starts."""
    return now < session.starts_at


def reminder_window_start(starts_at: datetime, *, hours_before: float) -> datetime:
    return starts_at - timedelta(hours=hours_before)
