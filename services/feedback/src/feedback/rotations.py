"""Use cases: rotations from the institution's roster, and the sweep that invites their students.

Invitations come from a sweep over MongoDB state (``invited_ids`` on the rotation, written in the
same update as the events' outbox entries), so a restart or a second replica invites nobody twice
and misses nobody whose rotation ended while the service was down."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from feedback import climate_instruments
from feedback.climate_repository import ROTATIONS
from feedback.climate_schemas import RotationIn
from feedback.context import FeedbackContext
from feedback.domain.rotations import Rotation, invitation_event_id
from medsupport_shared.domain_errors import Conflict, NotFound
from medsupport_shared.event_types import ClimateInvited
from medsupport_shared.events import new_event, utcnow

Document = dict[str, Any]
log = logging.getLogger(__name__)


class RotationNotFound(NotFound):
    def __init__(self, rotation_id: str) -> None:
        super().__init__(f"no rotation {rotation_id}")


class InstrumentFixed(Conflict):
    """A rotation's students have answered: its instrument can no longer change."""


class PulseClosed(Conflict):
    """A pulse whose window has closed cannot reopen: answers added after figures were shown would be
    revealed by comparing the figures before and after."""


def rotation_of(doc: Document) -> Rotation:
    return Rotation(
        id=doc["_id"],
        site=doc["site"],
        specialty=doc["specialty"],
        period=doc["period"],
        end_date=date.fromisoformat(doc["end_date"]),
        student_ids=frozenset(doc.get("student_ids", ())),
        grades_final=bool(doc.get("grades_final")),
        director_id=doc.get("director_id"),
        instrument_code=doc.get("instrument_code"),
    )


def rotation_view(doc: Document, *, response_days: int, now: datetime) -> dict[str, Any]:
    rotation = rotation_of(doc)
    return {
        "id": rotation.id,
        "site": rotation.site,
        "specialty": rotation.specialty,
        "period": rotation.period,
        "end_date": rotation.end_date,
        "students": len(rotation.student_ids),
        "invited": len(doc.get("invited_ids", ())),
        "grades_final": rotation.grades_final,
        "director_id": rotation.director_id,
        "instrument": rotation.instrument_code,
        "opens_at": rotation.ended_at(),
        "closes_at": rotation.closes_at(response_days),
        "released": rotation.is_released(now, response_days),
    }


async def save_rotation(ctx: FeedbackContext, rotation_id: str, body: RotationIn) -> dict[str, Any]:
    code = body.instrument or ctx.settings.climate_instrument
    await climate_instruments.instrument_by_code(ctx, code)  # InstrumentNotFound
    existing = await ctx.climate.rotation(rotation_id=rotation_id)
    if existing and existing.get("answered") and existing.get("instrument_code") != code:
        raise InstrumentFixed("students have answered this rotation's pulse; its instrument cannot change")
    days = ctx.settings.climate_response_days
    ended_at = datetime.combine(body.end_date, time.min, tzinfo=UTC)
    closes_at = ended_at + timedelta(days=days)
    now = utcnow()
    if existing and existing["closes_at"].replace(tzinfo=UTC) <= now < closes_at:
        raise PulseClosed("this rotation's pulse has closed and cannot reopen; its end date can only move earlier")
    saved = await ctx.climate.save_rotation(
        rotation_id=rotation_id,
        fields={
            "site": body.site,
            "specialty": body.specialty,
            "period": body.period,
            "end_date": body.end_date.isoformat(),
            "ended_at": ended_at,
            "closes_at": closes_at,
            "student_ids": sorted(set(body.student_ids)),
            "grades_final": body.grades_final,
            "director_id": body.director_id,
            "instrument_code": code,
        },
    )
    return rotation_view(saved, response_days=days, now=now)


async def get_rotation(ctx: FeedbackContext, rotation_id: str) -> dict[str, Any]:
    doc = await ctx.climate.rotation(rotation_id=rotation_id)
    if doc is None:
        raise RotationNotFound(rotation_id)
    return rotation_view(doc, response_days=ctx.settings.climate_response_days, now=utcnow())


async def invite_due(ctx: FeedbackContext, *, now: datetime | None = None) -> int:
    """Invite the students of every rotation whose pulse is open and who were not invited yet."""
    now = now or utcnow()
    invited = 0
    for doc in await ctx.climate.due_for_invitations(now=now):
        rotation = rotation_of(doc)
        new = sorted(rotation.student_ids - set(doc.get("invited_ids", ())))
        if not new:
            continue
        if await _invite(ctx, rotation, rev=doc["rev"], student_ids=new, now=now):
            invited += len(new)
    ctx.sweeps["climate-invitations"] = ctx.sweeps.get("climate-invitations", 0) + 1
    return invited


async def _invite(ctx: FeedbackContext, rotation: Rotation, *, rev: int, student_ids: list[str], now: datetime) -> bool:
    """The invitations and the students' ``invited_ids`` in one write, unless the rotation changed since read."""
    closes_at = rotation.closes_at(ctx.settings.climate_response_days)
    events = [
        new_event(
            ClimateInvited(rotation_id=rotation.id, student_id=sid, closes_at=closes_at, invited_at=now),
            source=ctx.source,
            event_id=invitation_event_id(rotation.id, sid),
        )
        for sid in student_ids
    ]
    return await ctx.record(
        ROTATIONS,
        rotation.id,
        lambda entries: ctx.climate.record_invitations(
            rotation_id=rotation.id, rev=rev, student_ids=student_ids, entries=entries
        ),
        *events,
    )
