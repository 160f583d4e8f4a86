"""Routes for students (and the instrument catalogue for everyone)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import AfterValidator

from medsupport_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, NotFound, problem_responses
from medsupport_shared.events import utcnow
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit
from medsupport_shared.mongo import paginate_sequence
from wellbeing import checkins, privacy, problems, urgent_flags
from wellbeing.checkins import CheckinAttempt, record_checkin
from wellbeing.context import Context, WellbeingContext
from wellbeing.domain.flag_rules import assess_answers, urgent_from_answers
from wellbeing.domain.instruments import INSTRUMENTS, Instrument
from wellbeing.resources import resource_view
from wellbeing.schemas import (
    CheckinCreate,
    CheckinPage,
    CheckinResult,
    Consent,
    ConsentRecord,
    InstrumentPage,
    ReminderRecord,
    ReminderSettings,
    Trend,
)


def _known_instrument(code: str | None) -> str | None:
    if code is not None and code not in INSTRUMENTS:
        raise ValueError(f"unknown instrument; known: {', '.join(sorted(INSTRUMENTS))}")
    return code


InstrumentFilter = Annotated[
    str | None, AfterValidator(_known_instrument), Query(description="only this instrument (a code of /v1/instruments)")
]


Student = Annotated[Principal, Depends(require_roles(Role.STUDENT))]
router = APIRouter(prefix="/v1", tags=["check-ins"])


@router.get(
    "/instruments",
    response_model=InstrumentPage,
    summary="The questionnaires, ready to render (by code)",
    responses=problem_responses(401),
)
async def list_instruments(_: CurrentPrincipal, limit: PageLimit = 50, cursor: PageCursor = None) -> Any:
    items, next_cursor = paginate_sequence(list(INSTRUMENTS.values()), key=lambda i: i.code, limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/instruments/{code}", response_model=Instrument, summary="One questionnaire", responses=problem_responses(401, 404)
)
async def get_instrument(code: str, _: CurrentPrincipal) -> Any:
    if code not in INSTRUMENTS:
        raise NotFound(f"no instrument {code!r}; known: {', '.join(sorted(INSTRUMENTS))}")
    return INSTRUMENTS[code]


@router.post(
    "/checkins",
    status_code=201,
    response_model=CheckinResult,
    summary="Check in with a questionnaire",
    description="Scores the answers exactly as published and answers with the score, band, severity and reason "
    "codes. When the severity is urgent (PHQ-9 item 9 above 0) the institution's crisis resources are in the "
    "answer, whatever else happens. **Safety overrides consent:** without consent to store, the answers are "
    "scored and shown but not kept, and an urgent (or elevated) result still raises a flag for the "
    "counselling team. Honours `Idempotency-Key`.\n\n"
    "**Crisis resources and the flag whatever else happens:** urgency is decided from the answers before anything "
    "is read or written. If the database is unavailable, an urgent check-in still raises its flag (kept in a "
    "durable local spool and published to the counselling team at once, put in the flag queue when the database "
    "is back) and the answer is **202** with `recorded: false` (nothing of the check-in was kept) or `true` (it "
    "was, before the failure), with `crisis_resources`. Other failures after scoring (the student's flag kept "
    "changing → 409, anything unexpected → 500, or no way to raise the flag at all → 503) answer problem+json "
    "that still carries `crisis_resources` for urgent answers; a check-in that is not urgent gets the plain error "
    "(a database outage is its 503). A recorded check-in whose flag could not be written gets its flag from "
    "the background sweep.",
    responses={
        202: {
            "model": CheckinResult,
            "description": "Urgent answers while the database is down: the flag is raised, `recorded` says whether "
            "the check-in was kept, `crisis_resources` are present",
        },
        **problems.checkin_problem_responses(),
    },
)
async def create_checkin(
    body: CheckinCreate, principal: Student, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    urgent = urgent_from_answers(
        instrument=body.instrument, answers=body.answers, thresholds=ctx.settings.flag_thresholds
    )
    attempt = CheckinAttempt()

    async def create() -> dict[str, Any]:
        outcome = await record_checkin(
            ctx=ctx,
            principal=principal,
            instrument=body.instrument,
            answers=body.answers,
            note=body.note,
            attempt=attempt,
        )
        matching = outcome.resources
        return CheckinResult(
            id=outcome.checkin_id,
            instrument=body.instrument,
            score=outcome.score.total,
            percentage=outcome.score.percentage,
            band=outcome.score.band,
            severity=outcome.assessment.severity,
            reasons=list(outcome.assessment.reasons),
            stored=outcome.stored,
            recorded_at=outcome.recorded_at,
            crisis_resources=ctx.settings.crisis_resources if outcome.assessment.severity == "urgent" else None,
            resources=None if matching is None else [resource_view(r) for r in matching],
        ).model_dump(mode="json")

    try:
        return await ctx.idempotency.run(
            key=idempotency_key, scope="checkins.create", owner=principal.sub, payload=body, create=create
        )
    except Exception as exc:
        if not urgent:
            raise
        if urgent_flags.database_down(exc) and await urgent_flags.raise_without_store(
            ctx=ctx, principal=principal, instrument=body.instrument, answers=body.answers, attempt=attempt
        ):
            return JSONResponse(status_code=202, content=_urgent_reply_without_store(ctx, body, attempt))
        return problems.with_crisis_resources(exc, ctx.settings.crisis_resources)


def _urgent_reply_without_store(ctx: WellbeingContext, body: CheckinCreate, attempt: CheckinAttempt) -> Any:
    assessed = assess_answers(instrument=body.instrument, answers=body.answers, thresholds=ctx.settings.flag_thresholds)
    assert assessed is not None  # urgent answers score
    result, assessment = assessed
    return CheckinResult(
        id=attempt.checkin_id,
        instrument=body.instrument,
        score=result.total,
        percentage=result.percentage,
        band=result.band,
        severity=assessment.severity,
        reasons=list(assessment.reasons),
        stored=attempt.stored,
        recorded=attempt.recorded,
        recorded_at=utcnow(),
        crisis_resources=ctx.settings.crisis_resources,
    ).model_dump(mode="json")


@router.get(
    "/checkins",
    response_model=CheckinPage,
    summary="My check-ins (newest first)",
    responses=problem_responses(*AUTH_ERRORS),
)
async def my_checkins(
    principal: Student,
    ctx: Context,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    instrument: InstrumentFilter = None,
) -> Any:
    items, next_cursor = await checkins.own_checkins(
        ctx=ctx, student_id=principal.sub, limit=limit, cursor=cursor, instrument=instrument
    )
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/me/trend",
    response_model=Trend,
    summary="My scores over time, per instrument",
    responses=problem_responses(*AUTH_ERRORS),
)
async def my_trend(principal: Student, ctx: Context, instrument: InstrumentFilter = None) -> Any:
    return await checkins.trend(ctx=ctx, student_id=principal.sub, instrument=instrument)


@router.get(
    "/me/consent", response_model=ConsentRecord, summary="My consent choices", responses=problem_responses(*AUTH_ERRORS)
)
async def get_consent(principal: Student, ctx: Context) -> Any:
    return await privacy.consent_of(ctx=ctx, student_id=principal.sub)


@router.put(
    "/me/consent",
    response_model=ConsentRecord,
    summary="Record my consent choices",
    description="`store_checkins`: keep my answers, scores and notes. `share_flags_with_mentor`: my mentor "
    "may be told that I have an open flag (never its content).",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_consent(body: Consent, principal: Student, ctx: Context) -> Any:
    return await privacy.record_consent(ctx=ctx, student_id=principal.sub, choices=body.model_dump())


@router.get(
    "/me/reminders",
    response_model=ReminderRecord,
    summary="My check-in reminder cadence",
    responses=problem_responses(*AUTH_ERRORS),
)
async def get_reminders(principal: Student, ctx: Context) -> Any:
    return await privacy.reminder_of(ctx=ctx, student_id=principal.sub)


@router.put(
    "/me/reminders",
    response_model=ReminderRecord,
    summary="Choose how often I am reminded to check in",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_reminders(body: ReminderSettings, principal: Student, ctx: Context) -> Any:
    return await privacy.set_reminder(ctx=ctx, student_id=principal.sub, cadence_days=body.cadence_days)
