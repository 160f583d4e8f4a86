"""Referral routes: a student's appointment request and help status, concerns raised about a student, and
the counselling team's triage queue. Thin: each route calls a use case of ``referrals`` (whose refusals the
shared edge answers as problem+json)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from medsupport_shared.auth import Principal, Role, require_roles
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.inputs import PageCursor, PageLimit
from wellbeing import referrals
from wellbeing.context import Context
from wellbeing.domain.referrals import Referral, referrer_status, student_status
from wellbeing.referral_schemas import (
    ConcernCreate,
    HelpStatusOut,
    MyReferral,
    RaisedReferral,
    RaisedReferralPage,
    ReferralFigures,
    ReferralQueue,
    ReferralStaffView,
    SelfReferralCreate,
    TriageStep,
)

Student = Annotated[Principal, Depends(require_roles(Role.STUDENT))]
Referrer = Annotated[Principal, Depends(require_roles(Role.FACULTY, Role.MENTOR, Role.STUDENT))]
Leaders = Annotated[Principal, Depends(require_roles(Role.WELLBEING_LEAD, Role.ADMIN))]
Counselling = Annotated[Principal, Depends(require_roles(Role.COUNSELLOR, Role.WELLBEING_LEAD))]
router = APIRouter(prefix="/v1", tags=["referrals"])


def my_referral_view(view: referrals.StudentReferralView) -> dict[str, Any]:
    r = view.referral
    return {
        "id": r.id,
        "about_you": view.about_you,
        "category": r.category,
        "created_at": r.created_at,
        "state": view.status.state,
        "message": view.status.message,
        "expect_contact_by": view.status.expect_contact_by,
        "offered_times": list(r.offered_times),
        "appointment_at": r.appointment_at,
    }


def staff_view(r: Referral, doc: dict[str, Any], cipher: FieldCipher) -> dict[str, Any]:
    return {
        "id": r.id,
        "kind": r.kind,
        "student_id": r.student_id,
        "cohort": r.cohort,
        "category": r.category,
        "urgency": r.urgency,
        "status": r.status,
        "created_at": r.created_at,
        "deadline_at": r.deadline_at,
        "first_contact_at": r.first_contact_at,
        "escalated_at": r.escalated_at,
        "contact": {str(k): (None if v is None else str(v)) for k, v in r.contact.items()},
        "offered_times": list(r.offered_times),
        "appointment_at": r.appointment_at,
        "closed_at": r.closed_at,
        "outcome": r.outcome,
        "referrer_id": r.referrer_id,
        "note": cipher.decrypt(doc.get("note")),
        "description": cipher.decrypt(doc.get("description")),
        "staff_notes": [cipher.decrypt(n) or "" for n in doc.get("staff_notes", [])],
    }


def raised_view(r: Referral) -> dict[str, Any]:
    return {"id": r.id, "category": r.category, "status": referrer_status(r), "created_at": r.created_at}


@router.post(
    "/me/referrals",
    status_code=201,
    response_model=MyReferral,
    summary="Ask for a counselling appointment",
    description="The counselling team is alerted (by the routing rules) and must make first contact within the "
    "service-level deadline of the urgency, else the wellbeing lead is told. The note is encrypted at rest and "
    "never leaves wellbeing. Honours `Idempotency-Key`.",
    responses=problem_responses(*AUTH_ERRORS),
)
async def request_appointment(
    body: SelfReferralCreate, principal: Student, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    async def create() -> dict[str, Any]:
        referral = await referrals.request_appointment(
            ctx=ctx,
            principal=principal,
            reason=body.reason,
            urgency=body.urgency,
            contact_method=body.contact_method,
            preferred_times=body.preferred_times,
            note=body.note,
        )
        view = referrals.StudentReferralView(referral, False, student_status(referral))
        return MyReferral.model_validate(my_referral_view(view)).model_dump(mode="json")

    return await ctx.idempotency.run(
        key=idempotency_key, scope="referrals.self", owner=principal.sub, payload=body, create=create
    )


@router.get(
    "/me/help",
    response_model=HelpStatusOut,
    summary="Where my requests for help stand",
    description="My open wellbeing flag, my appointment requests and concerns raised about me, each with its "
    "stage and when to expect contact; never staff notes nor who raised a concern.",
    responses=problem_responses(*AUTH_ERRORS),
)
async def my_help(principal: Student, ctx: Context) -> Any:
    status = await referrals.help_status(ctx=ctx, student_id=principal.sub)
    flag = status.open_flag
    return {
        "flag": None
        if flag is None
        else {
            "state": "open",
            "message": "The counselling team knows about your check-in and will contact you.",
            "raised_at": flag.raised_at,
        },
        "referrals": [my_referral_view(v) for v in status.referrals],
    }


@router.post(
    "/referrals",
    status_code=201,
    response_model=RaisedReferral,
    summary="Raise a concern about a student (faculty, mentor, peer student)",
    description="Goes to the counselling team (or whom the routing rules name), never to the student's "
    "assessors; the student is told, in the institution's words, that someone will reach out, never by whom. "
    "You see only that it was received and, later, closed. At most `REFERRAL_RATE_LIMIT` per "
    "`REFERRAL_RATE_WINDOW_SECONDS` per person (429); who raised a concern about whom is audited. Honours "
    "`Idempotency-Key`.",
    responses=problem_responses(*AUTH_ERRORS, 429),
)
async def raise_concern(
    body: ConcernCreate, principal: Referrer, ctx: Context, idempotency_key: IdempotencyKey = None
) -> Any:
    async def create() -> dict[str, Any]:
        referral = await referrals.raise_concern(
            ctx=ctx,
            principal=principal,
            student_id=body.student_id,
            category=body.category,
            description=body.description,
        )
        return RaisedReferral.model_validate(raised_view(referral)).model_dump(mode="json")

    return await ctx.idempotency.run(
        key=idempotency_key, scope="referrals.concern", owner=principal.sub, payload=body, create=create
    )


@router.get(
    "/me/raised-referrals",
    response_model=RaisedReferralPage,
    summary="Concerns I raised: received or closed",
    responses=problem_responses(*AUTH_ERRORS),
)
async def my_raised_referrals(
    principal: Referrer, ctx: Context, limit: PageLimit = 50, cursor: PageCursor = None
) -> Any:
    items, next_cursor = await referrals.raised_by(ctx=ctx, referrer_id=principal.sub, limit=limit, cursor=cursor)
    return {"items": [raised_view(r) for r in items], "next_cursor": next_cursor}


@router.get(
    "/referrals",
    response_model=ReferralQueue,
    summary="The referral queue (counsellor, wellbeing lead; audited)",
    description="Open referrals by deadline, the most pressing first (`status=all`: every referral).",
    responses=problem_responses(*AUTH_ERRORS, 400),
)
async def list_referrals(
    principal: Counselling,
    ctx: Context,
    status: Annotated[Literal["open", "all"], Query()] = "open",
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    page, next_cursor = await referrals.referral_queue(
        ctx=ctx, principal=principal, open_only=status == "open", limit=limit, cursor=cursor
    )
    return {"items": [staff_view(r, d, ctx.cipher) for r, d in page], "next_cursor": next_cursor}


@router.get(
    "/referrals/figures",
    response_model=ReferralFigures,
    summary="Referrals and time to first contact by month (wellbeing lead, admin; suppressed under the group size)",
    description="Whole months that have ended only, so no figure changes once given; a month with fewer "
    "students than `MIN_GROUP_SIZE` (or a kind below it) shows none.",
    responses=problem_responses(*AUTH_ERRORS),
)
async def referral_figures(_: Leaders, ctx: Context, months: Annotated[int, Query(ge=1, le=36)] = 6) -> Any:
    found = await referrals.figures_by_month(ctx=ctx, months=months)
    return {"months": [asdict(f) for f in found]}


@router.post(
    "/referrals/{referral_id}/triage",
    response_model=ReferralStaffView,
    summary="Move a referral on: accepted, offered_times, booked, closed (counsellor, wellbeing lead)",
    description="The first step is the first contact that meets the deadline. `offered_times` needs the times, "
    "`booked` the `appointment_at`, `closed` an `outcome` code. The note is for staff only (encrypted).",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def triage_referral(referral_id: str, body: TriageStep, principal: Counselling, ctx: Context) -> Any:
    referral, doc = await referrals.triage_referral(
        ctx=ctx,
        principal=principal,
        referral_id=referral_id,
        to=body.status,
        offered_times=tuple(body.offered_times),
        appointment_at=body.appointment_at,
        outcome=body.outcome,
        note=body.note,
    )
    return staff_view(referral, doc, ctx.cipher)
