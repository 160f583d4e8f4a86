"""Use cases: a student answers a rotation's pulse anonymously, and sees which pulses await them.

The answer is stored without identity: no student id, no time finer than the day, a random id, at a
random place in the rotation's list of answers. One answer per student and rotation is enforced by a
keyed token (HMAC of student and rotation under ``CLIMATE_TOKEN_SECRET``) claimed first and stored on
its own; nothing links the two."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from feedback import climate_instruments
from feedback.climate_repository import AlreadyAnswered
from feedback.context import FeedbackContext
from feedback.domain.climate import check_answers
from feedback.domain.rotations import answer_token, check_can_answer
from feedback.rotations import RotationNotFound, rotation_of
from medsupport_shared.domain_errors import Conflict
from medsupport_shared.events import utcnow

MAX_CAS_ATTEMPTS = 50


class AnswerNotStored(Exception):
    """Too many students answered the same rotation at the same instant; the student may try again."""


def _token(ctx: FeedbackContext, student_id: str, rotation_id: str) -> str:
    secret = ctx.settings.climate_token_secret.get_secret_value().encode()
    return answer_token(secret, student_id=student_id, rotation_id=rotation_id)


async def answer(
    ctx: FeedbackContext, *, student_id: str, rotation_id: str, answers: dict[str, int], now: datetime | None = None
) -> None:
    now = now or utcnow()
    doc = await ctx.climate.rotation(rotation_id=rotation_id)
    if doc is None:
        raise RotationNotFound(rotation_id)
    rotation = rotation_of(doc)
    check_can_answer(rotation, student_id, now, ctx.settings.climate_response_days)  # NotOnRoster, PulseNotOpen
    instrument = await climate_instruments.instrument_by_code(ctx, rotation.instrument_code or "")
    check_answers(instrument, answers)  # InvalidAnswers
    token = _token(ctx, student_id, rotation_id)
    try:
        await ctx.climate.claim_token(token=token)
    except AlreadyAnswered as exc:
        raise Conflict("you have already answered this rotation's pulse") from exc
    try:
        await _store(ctx, rotation_id, {"id": secrets.token_hex(16), "day": now.date().isoformat(), "answers": answers})
    except BaseException:
        await ctx.climate.release_token(token=token)  # not stored: the student may answer again
        raise


async def _store(ctx: FeedbackContext, rotation_id: str, response: dict[str, Any]) -> None:
    for _ in range(MAX_CAS_ATTEMPTS):
        responses, rev = await ctx.climate.answers_of(rotation_id=rotation_id)
        responses.insert(secrets.randbelow(len(responses) + 1), response)
        if await ctx.climate.replace_answers(rotation_id=rotation_id, responses=responses, rev=rev):
            return
    raise AnswerNotStored


async def invitations(ctx: FeedbackContext, *, student_id: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """The open pulses of the student's rotations, and whether they have answered each (by their token)."""
    now = now or utcnow()
    out = []
    for doc in await ctx.climate.open_rotations_of(student_id=student_id, now=now):
        rotation = rotation_of(doc)
        out.append(
            {
                "rotation_id": rotation.id,
                "site": rotation.site,
                "specialty": rotation.specialty,
                "period": rotation.period,
                "instrument": rotation.instrument_code,
                "closes_at": rotation.closes_at(ctx.settings.climate_response_days),
                "answered": await ctx.climate.token_exists(token=_token(ctx, student_id, rotation.id)),
            }
        )
    return out
