"""Rotations (clerkships) as the institution states them, and when their pulse opens, closes and is released (pure).

A rotation's pulse opens when the rotation ends (its students are invited then), closes
``response_days`` later, and its results are released once both the window has closed and the
institution has marked the grades final: so no answer can arrive after a figure was shown (asking
before and after one more answer would give that answer), and no assessor sees the climate of a
rotation whose grades they can still change.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from medsupport_shared.domain_errors import Conflict, Forbidden


@dataclass(frozen=True)
class Rotation:
    id: str
    site: str
    specialty: str
    period: str
    end_date: date
    student_ids: frozenset[str]
    grades_final: bool = False
    director_id: str | None = None
    instrument_code: str | None = None
    """The instrument its students answer (fixed once the first answer is in)."""

    def ended_at(self) -> datetime:
        return datetime.combine(self.end_date, time.min, tzinfo=UTC)

    def closes_at(self, response_days: int) -> datetime:
        return self.ended_at() + timedelta(days=response_days)

    def is_open(self, now: datetime, response_days: int) -> bool:
        return self.ended_at() <= now < self.closes_at(response_days)

    def is_released(self, now: datetime, response_days: int) -> bool:
        return self.grades_final and now >= self.closes_at(response_days)


class NotOnRoster(Forbidden):
    def __init__(self) -> None:
        super().__init__("you are not on this rotation's roster")


class PulseNotOpen(Conflict):
    def __init__(self) -> None:
        super().__init__("this rotation's pulse is not open (it opens when the rotation ends, for a set time)")


def check_can_answer(rotation: Rotation, student_id: str, now: datetime, response_days: int) -> None:
    if student_id not in rotation.student_ids:
        raise NotOnRoster
    if not rotation.is_open(now, response_days):
        raise PulseNotOpen


def keyed_token(secret: bytes, *, person_id: str, scope: str) -> str:
    """Keyed and scoped: the same person gets a different token in every scope (a rotation's pulse, a
    suggestion's votes), and without the server's secret no one can tell whose token it is.
    Length-prefixed so no two pairs collide."""
    message = f"{len(person_id)}:{person_id}|{scope}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def answer_token(secret: bytes, *, student_id: str, rotation_id: str) -> str:
    """One answer per student and rotation."""
    return keyed_token(secret, person_id=student_id, scope=f"climate:{rotation_id}")


def invitation_event_id(rotation_id: str, student_id: str) -> str:
    """One invitation per student and rotation, whatever the sweep and restarts do."""
    return hashlib.sha256(f"climate.invited|{rotation_id}|{student_id}".encode()).hexdigest()[:32]
