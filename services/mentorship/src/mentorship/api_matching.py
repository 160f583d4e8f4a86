"""Routes: matching runs (an admin's over everyone waiting, or a student's own on demand)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.idempotency import IdempotencyKey
from mentorship.context import Admin, Context, Student
from mentorship.matching_runs import run_matching
from mentorship.schemas import MatchingRunIn, MatchingRunOut

router = APIRouter(prefix="/v1", tags=["mentorship"])


def _run_view(run: dict[str, Any]) -> dict[str, Any]:
    view = {"id": run["_id"], **{k: v for k, v in run.items() if k != "_id"}}
    return MatchingRunOut.model_validate(view).model_dump(mode="json")


@router.post(
    "/matching/runs",
    response_model=MatchingRunOut,
    status_code=201,
    tags=["matching"],
    summary="Match waiting students to mentors (admin; one student with student_id)",
    description="Optimal under capacity and hard constraints (shared language, avoid-lists, paused "
    "mentors): students with an open wellbeing flag first, then as many students as possible, then the "
    "best compatibility. Deterministic; each match explains which criteria scored. With `student_id`: 409 "
    "when that student has no preferences on file or already has an active mentor.",
    responses=problem_responses(*AUTH_ERRORS, 409),
)
async def create_run(
    body: MatchingRunIn, principal: Admin, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    async def create() -> dict[str, Any]:
        run = await run_matching(ctx=ctx, principal=principal, student_id=body.student_id, dry_run=body.dry_run)
        return _run_view(run)

    return await ctx.idempotency.run(
        key=idempotency_key, scope="matching.runs", owner=principal.sub, payload=body, create=create
    )


@router.post(
    "/matching/me",
    response_model=MatchingRunOut,
    status_code=201,
    tags=["matching"],
    summary="Find me a mentor now (a student, on demand)",
    description="Matches the caller alone against every mentor's free capacity. 409 when the caller has no "
    "preferences on file (`PUT /v1/mentees/me`) or already has an active mentor; a 201 with the caller in "
    "`unmatched` when no mentor with a free slot fits the hard constraints.",
    responses=problem_responses(*AUTH_ERRORS, 409),
)
async def match_me(principal: Student, ctx: Context, idempotency_key: IdempotencyKey = None) -> Any:
    async def create() -> dict[str, Any]:
        return _run_view(await run_matching(ctx=ctx, principal=principal, student_id=principal.sub, dry_run=False))

    return await ctx.idempotency.run(
        key=idempotency_key, scope="matching.me", owner=principal.sub, payload={}, create=create
    )
