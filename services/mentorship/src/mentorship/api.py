"""Routes: mentor profiles, student preferences, matching, assignments, meetings."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request

from medsupport_shared.auth import CurrentPrincipal, Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, NotFound, problem_responses
from medsupport_shared.events import utcnow
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit
from mentorship import handlers
from mentorship.handlers import MentorshipContext
from mentorship.schemas import (
    AssignmentIn,
    AssignmentOut,
    AssignmentPage,
    EndAssignmentIn,
    MatchingRunIn,
    MatchingRunOut,
    MeetingIn,
    MeetingOut,
    MeetingPage,
    MenteePreferencesIn,
    MenteePreferencesOut,
    MentorPage,
    MentorProfileIn,
    MentorProfileOut,
)


def get_context(request: Request) -> MentorshipContext:
    ctx: MentorshipContext = request.app.state.services
    return ctx


Context = Annotated[MentorshipContext, Depends(get_context)]
Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
MentorRole = Annotated[Principal, Depends(require_roles(Role.MENTOR))]
Student = Annotated[Principal, Depends(require_roles(Role.STUDENT))]
router = APIRouter(prefix="/v1", tags=["mentorship"])


def mentor_view(doc: dict[str, Any], load: int, *, show_background: bool) -> dict[str, Any]:
    view = {"id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}, "active_mentees": load}
    if not show_background:
        view["background"] = None
    return view


@router.get("/mentors", response_model=MentorPage, summary="Mentor profiles", responses=problem_responses(*AUTH_ERRORS))
async def list_mentors(
    principal: CurrentPrincipal, ctx: Context, limit: PageLimit = 50, cursor: PageCursor = None
) -> Any:
    items, next_cursor = await ctx.repo.page_mentors(limit=limit, cursor=cursor)
    load = await ctx.repo.active_load()
    admin = Role.ADMIN in principal.roles
    return {
        "items": [
            mentor_view(d, load.get(d["_id"], 0), show_background=admin or d["_id"] == principal.sub) for d in items
        ],
        "next_cursor": next_cursor,
    }


@router.get(
    "/mentors/me",
    response_model=MentorProfileOut,
    summary="My mentor profile",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_my_profile(principal: MentorRole, ctx: Context) -> Any:
    doc = await ctx.repo.mentor(mentor_id=principal.sub)
    if doc is None:
        raise NotFound("you have no mentor profile yet; create it with PUT /v1/mentors/me")
    load = (await ctx.repo.active_load()).get(principal.sub, 0)
    return mentor_view(doc, load, show_background=True)


@router.get(
    "/mentors/{mentor_id}",
    response_model=MentorProfileOut,
    summary="One mentor profile",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_mentor(mentor_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    doc = await ctx.repo.mentor(mentor_id=mentor_id)
    if doc is None:
        raise NotFound("no mentor with that id")
    load = (await ctx.repo.active_load()).get(mentor_id, 0)
    return mentor_view(doc, load, show_background=Role.ADMIN in principal.roles or mentor_id == principal.sub)


@router.put(
    "/mentors/me",
    response_model=MentorProfileOut,
    summary="Create or edit my mentor profile",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_my_profile(body: MentorProfileIn, principal: MentorRole, ctx: Context) -> Any:
    await ctx.repo.save_mentor(mentor_id=principal.sub, profile={**body.model_dump(), "created_at": utcnow()})
    load = (await ctx.repo.active_load()).get(principal.sub, 0)
    return mentor_view({"_id": principal.sub, **body.model_dump()}, load, show_background=True)


@router.put(
    "/mentors/{mentor_id}",
    response_model=MentorProfileOut,
    summary="Edit a mentor profile (admin)",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_profile(mentor_id: str, body: MentorProfileIn, _: Admin, ctx: Context) -> Any:
    await ctx.repo.save_mentor(mentor_id=mentor_id, profile={**body.model_dump(), "created_at": utcnow()})
    return mentor_view(
        {"_id": mentor_id, **body.model_dump()}, (await ctx.repo.active_load()).get(mentor_id, 0), show_background=True
    )


@router.get(
    "/mentees/me",
    response_model=MenteePreferencesOut,
    summary="My mentoring preferences",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_preferences(principal: Student, ctx: Context) -> Any:
    doc = await ctx.repo.mentee(student_id=principal.sub)
    if doc is None:
        raise NotFound("no preferences recorded yet")
    return doc


@router.put(
    "/mentees/me",
    response_model=MenteePreferencesOut,
    summary="Ask for a mentor, with my preferences",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_preferences(body: MenteePreferencesIn, principal: Student, ctx: Context) -> Any:
    await ctx.repo.save_mentee(
        student_id=principal.sub, preferences={**body.model_dump(), "cohort": principal.cohort, "created_at": utcnow()}
    )
    return body


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
        run = await handlers.run_matching(
            ctx=ctx, principal=principal, student_id=body.student_id, dry_run=body.dry_run
        )
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
        return _run_view(
            await handlers.run_matching(ctx=ctx, principal=principal, student_id=principal.sub, dry_run=False)
        )

    return await ctx.idempotency.run(
        key=idempotency_key, scope="matching.me", owner=principal.sub, payload={}, create=create
    )


def _run_view(run: dict[str, Any]) -> dict[str, Any]:
    view = {"id": run["_id"], **{k: v for k, v in run.items() if k != "_id"}}
    return MatchingRunOut.model_validate(view).model_dump(mode="json")


def assignment_view(doc: dict[str, Any], principal: Principal, ctx: MentorshipContext) -> dict[str, Any]:
    view = {"id": doc["_id"], **{k: v for k, v in doc.items() if k != "_id"}}
    view["end_reason"] = ctx.cipher.decrypt(doc.get("end_reason")) if Role.ADMIN in principal.roles else None
    return view


@router.post(
    "/assignments",
    response_model=AssignmentOut,
    status_code=201,
    summary="Assign a mentor by hand (admin)",
    description="The hard constraints of matching still hold: 409 when the mentor is paused or full, is on "
    "the student's avoid-list, or shares no language with the student's preferences, or when the student "
    "already has an active mentor.",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def create_assignment(
    body: AssignmentIn, principal: Admin, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    async def create() -> dict[str, Any]:
        doc = await handlers.assign(ctx=ctx, mentor_id=body.mentor_id, mentee_id=body.mentee_id, how="manual")
        return AssignmentOut.model_validate(assignment_view(doc, principal, ctx)).model_dump(mode="json")

    return await ctx.idempotency.run(
        key=idempotency_key, scope="assignments.create", owner=principal.sub, payload=body, create=create
    )


@router.get(
    "/assignments",
    response_model=AssignmentPage,
    summary="My assignments (as mentor or mentee; admin: all)",
    responses=problem_responses(*AUTH_ERRORS, 400),
)
async def list_assignments(
    principal: CurrentPrincipal,
    ctx: Context,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    status: Literal["active", "ended"] | None = None,
) -> Any:
    query: dict[str, Any] = (
        {} if Role.ADMIN in principal.roles else {"$or": [{"mentor_id": principal.sub}, {"mentee_id": principal.sub}]}
    )
    if status:
        query["status"] = status
    items, next_cursor = await ctx.repo.page_assignments(query=query, limit=limit, cursor=cursor)
    return {"items": [assignment_view(d, principal, ctx) for d in items], "next_cursor": next_cursor}


@router.get(
    "/assignments/{assignment_id}",
    response_model=AssignmentOut,
    summary="One assignment",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_assignment(assignment_id: str, principal: CurrentPrincipal, ctx: Context) -> Any:
    doc = await handlers.visible_assignment(ctx=ctx, principal=principal, assignment_id=assignment_id)
    return assignment_view(doc, principal, ctx)


@router.post(
    "/assignments/{assignment_id}/end",
    response_model=AssignmentOut,
    summary="End a mentorship (mentor, mentee or admin); frees the mentor's capacity",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def end(assignment_id: str, body: EndAssignmentIn, principal: CurrentPrincipal, ctx: Context) -> Any:
    doc = await handlers.end_assignment(ctx=ctx, principal=principal, assignment_id=assignment_id, reason=body.reason)
    return assignment_view(doc, principal, ctx)


@router.post(
    "/assignments/{assignment_id}/meetings",
    response_model=MeetingOut,
    status_code=201,
    summary="Log a meeting (mentor or mentee, while the mentorship is active)",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def add_meeting(
    assignment_id: str,
    body: MeetingIn,
    principal: CurrentPrincipal,
    ctx: Context,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    async def create() -> dict[str, Any]:
        meeting = await handlers.log_meeting(
            ctx=ctx,
            principal=principal,
            assignment_id=assignment_id,
            met_at=body.met_at,
            meeting_format=body.format,
            notes=body.notes,
        )
        view = handlers.meeting_view(meeting, principal.sub, ctx.cipher)
        return MeetingOut.model_validate(view).model_dump(mode="json")

    return await ctx.idempotency.run(
        key=idempotency_key,
        scope="meetings.create",
        owner=principal.sub,
        payload={"assignment_id": assignment_id, "meeting": body},
        create=create,
    )


@router.get(
    "/assignments/{assignment_id}/meetings",
    response_model=MeetingPage,
    summary="Meetings of an assignment, most recent first (notes: only your own)",
    responses=problem_responses(*AUTH_ERRORS, 400, 404),
)
async def list_meetings(
    assignment_id: str, principal: CurrentPrincipal, ctx: Context, limit: PageLimit = 50, cursor: PageCursor = None
) -> Any:
    await handlers.visible_assignment(ctx=ctx, principal=principal, assignment_id=assignment_id)
    items, next_cursor = await ctx.repo.page_meetings(assignment_id=assignment_id, limit=limit, cursor=cursor)
    return {"items": [handlers.meeting_view(m, principal.sub, ctx.cipher) for m in items], "next_cursor": next_cursor}
