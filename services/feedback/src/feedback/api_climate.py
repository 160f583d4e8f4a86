"""Routes of the climate pulse: instruments as data, rosters from the institution, anonymous answers,
released results for leaders. Each route calls one use case; its domain errors answer as problem+json."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from feedback import climate_instruments, climate_responses, climate_results, rotations
from feedback.api_feedback import _example
from feedback.climate_schemas import (
    ROTATION_EXAMPLE,
    ClimateAnswerAccepted,
    ClimateAnswersIn,
    ClimateInstrumentPage,
    ClimateResults,
    InvitationPage,
    RotationIn,
    RotationOut,
)
from feedback.context import Context
from feedback.domain.climate import DEFAULT_PULSE, ClimateInstrument
from feedback.domain.climate_results import GroupBy
from feedback.domain.climate_results import Query as ResultsQuery
from medsupport_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from medsupport_shared.errors import ServiceUnavailable, Unprocessable, problem_responses
from medsupport_shared.inputs import PageCursor, PageLimit

router = APIRouter(tags=["climate"])
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
Student = Annotated[Principal, Depends(require_roles(Role.STUDENT))]
Leader = Annotated[Principal, Depends(require_roles(Role.CLERKSHIP_DIRECTOR, Role.ADMIN))]
RotationId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:@-]+$")]
Code = Annotated[str, Path(min_length=1, max_length=60, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
Label = Annotated[str | None, Query(min_length=1, max_length=200)]


@router.get(
    "/v1/climate/instruments",
    response_model=ClimateInstrumentPage,
    summary="The climate pulse instruments, as data",
    description="The built-in pulse and any the institution loaded: items, option sets, subscales and scoring.",
    responses={
        **_example(200, {"items": [DEFAULT_PULSE.model_dump(mode="json")], "next_cursor": None}),
        **problem_responses(400, 401),
    },
)
async def list_instruments(
    _: CurrentPrincipal, ctx: Context, limit: PageLimit = 50, cursor: PageCursor = None
) -> dict[str, Any]:
    items, next_cursor = await climate_instruments.instruments_page(ctx, limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": next_cursor}


@router.get(
    "/v1/climate/instruments/{code}",
    response_model=ClimateInstrument,
    summary="One climate instrument",
    responses={**problem_responses(401, 404)},
)
async def get_instrument(code: Code, _: CurrentPrincipal, ctx: Context) -> Any:
    return await climate_instruments.instrument_by_code(ctx, code)


@router.put(
    "/v1/climate/instruments/{code}",
    response_model=ClimateInstrument,
    summary="Load an instrument as data (admin)",
    description="An institution's own licensed instrument (e.g. JHLES, DREEM), validated whole: every item names "
    "an option set and a subscale that exist. The built-in pulse, and an instrument rotations hold answers to, "
    "cannot be replaced (409): load a new version under a new code.",
    responses={**problem_responses(401, 403, 409, 422)},
)
async def put_instrument(code: Code, body: ClimateInstrument, _: Admin, ctx: Context) -> Any:
    if body.code != code:
        raise Unprocessable("the instrument's code must match the path")
    return await climate_instruments.load_instrument(ctx, body)


@router.put(
    "/v1/rotations/{rotation_id}",
    response_model=RotationOut,
    summary="A rotation's roster and facts, from the institution's systems (admin)",
    description="Site, specialty, period, end date, the students on it, whether grades are final and its "
    "clerkship director. When the rotation ends its students are invited (`climate.invited`, one per student, "
    "once); students added later are invited then. Results are released only once `grades_final` is true and the "
    "answer window (`CLIMATE_RESPONSE_DAYS` after the end) has closed.",
    responses={**_example(200, ROTATION_EXAMPLE), **problem_responses(401, 403, 404, 409, 422)},
)
async def put_rotation(rotation_id: RotationId, body: RotationIn, _: Admin, ctx: Context) -> Any:
    return await rotations.save_rotation(ctx, rotation_id, body)


@router.get(
    "/v1/rotations/{rotation_id}",
    response_model=RotationOut,
    summary="A rotation (admin, clerkship director)",
    responses={**_example(200, ROTATION_EXAMPLE), **problem_responses(401, 403, 404)},
)
async def get_rotation(rotation_id: RotationId, _: Leader, ctx: Context) -> Any:
    return await rotations.get_rotation(ctx, rotation_id)


@router.post(
    "/v1/rotations/{rotation_id}/climate-responses",
    response_model=ClimateAnswerAccepted,
    summary="Answer a rotation's climate pulse, anonymously (a student on its roster)",
    description="Stored without identity: no student id, a random id, the day only, at a random place among the "
    "rotation's answers. A keyed per-rotation token, stored apart with nothing linking it to the answer, "
    "refuses a second answer (409). 403 when not on the roster, 409 outside the answer window, 422 for answers "
    "that do not fit the instrument (every item, one of its options). Idempotent by the token: a retry after a "
    "lost reply is a 409 and stores nothing (no Idempotency-Key record is kept: it would tie the student to the "
    "moment of answering).",
    responses={
        **_example(200, {"rotation_id": "surg-stmarys-2026-b3", "accepted": True, "anonymous": True}),
        **problem_responses(401, 403, 404, 409, 422),
    },
)
async def answer_pulse(rotation_id: RotationId, body: ClimateAnswersIn, student: Student, ctx: Context) -> Any:
    try:
        await climate_responses.answer(ctx, student_id=student.sub, rotation_id=rotation_id, answers=body.answers)
    except climate_responses.AnswerNotStored as exc:  # no domain refusal: a transient conflict, try again
        raise ServiceUnavailable("too many answers at once; try again") from exc
    return {"rotation_id": rotation_id, "accepted": True, "anonymous": True}


@router.get(
    "/v1/me/climate-invitations",
    response_model=InvitationPage,
    summary="The open pulses of my rotations (student)",
    responses={
        **_example(
            200,
            {
                "items": [
                    {
                        "rotation_id": "surg-stmarys-2026-b3",
                        "site": "St Mary's Hospital",
                        "specialty": "general surgery",
                        "period": "2026-block-3",
                        "instrument": DEFAULT_PULSE.code,
                        "closes_at": "2026-04-10T00:00:00Z",
                        "answered": False,
                    }
                ],
                "next_cursor": None,
            },
        ),
        **problem_responses(401, 403),
    },
)
async def my_invitations(student: Student, ctx: Context) -> Any:
    return {"items": await climate_responses.invitations(ctx, student_id=student.sub), "next_cursor": None}


RESULTS_EXAMPLE = {
    "instrument": DEFAULT_PULSE.code,
    "group_by": "site",
    "min_group_size": 5,
    "groups": [
        {
            "key": "St Mary's Hospital",
            "rotations": 2,
            "responses": 17,
            "subscales": {
                "psychological_safety": {
                    "mean": 3.9,
                    "items": {"safe_to_ask": {"counts": {"4": 9, "5": 5}, "suppressed": 3}},
                }
            },
            "trend": [
                {"period": "2026-block-2", "responses": 8, "means": {"psychological_safety": 4.2}, "change": {}},
                {
                    "period": "2026-block-3",
                    "responses": 9,
                    "means": {"psychological_safety": 3.6},
                    "change": {"psychological_safety": -0.6},
                },
            ],
            "concerns": {"mistreatment": 5, "discrimination": None, "bias": None},
        }
    ],
}


@router.get(
    "/v1/climate/results",
    response_model=ClimateResults,
    summary="Released climate results by site, specialty or period (clerkship director, admin)",
    description="Only rotations whose grades are final, whose answer window has closed and that hold at least "
    "`MIN_GROUP_SIZE` answers contribute, each whole or not at all, so no grouping, filter or window isolates "
    "fewer answers than that; option counts under the minimum are hidden with enough others (`suppressed`). "
    "Site groups carry mistreatment, discrimination and bias report counts (months with fewer than the minimum "
    "add nothing).",
    responses={**_example(200, RESULTS_EXAMPLE), **problem_responses(401, 403, 404, 422)},
)
async def climate_results_view(
    _: Leader,
    ctx: Context,
    group_by: GroupBy = "site",
    site: Label = None,
    specialty: Label = None,
    period: Label = None,
    ended_from: Annotated[date | None, Query(description="rotations that ended on or after this day")] = None,
    ended_to: Annotated[date | None, Query(description="rotations that ended on or before this day")] = None,
    instrument: Annotated[str | None, Query(max_length=60, pattern=r"^[a-z0-9][a-z0-9_.-]*$")] = None,
) -> Any:
    query = ResultsQuery(group_by, site, specialty, period, ended_from, ended_to)
    return await climate_results.results(ctx, query, instrument_code=instrument)
