"""Routes for counselling staff (individual data, audited) and for faculty/admins (aggregates only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from medsupport_shared.auth import Principal, Role, require_roles
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.errors import AUTH_ERRORS, NotFound, problem_responses
from medsupport_shared.events import utcnow
from medsupport_shared.inputs import PageCursor, PageLimit
from wellbeing import privacy
from wellbeing.api_student import Context
from wellbeing.checkins import checkin_view, resolve_flag
from wellbeing.schemas import AuditPage, CheckinPage, CohortSummary, Flag, FlagPage, FlagResolution
from wellbeing.summary import cohort_summary, window_start

Counselling = Annotated[Principal, Depends(require_roles(Role.COUNSELLOR, Role.WELLBEING_LEAD))]
Lead = Annotated[Principal, Depends(require_roles(Role.WELLBEING_LEAD))]
Aggregates = Annotated[Principal, Depends(require_roles(Role.FACULTY, Role.ADMIN, Role.WELLBEING_LEAD))]
Purpose = Annotated[
    str,
    Query(
        min_length=3, max_length=200, description="why you are reading (audited)", examples=["follow-up of urgent flag"]
    ),
]
OptionalPurpose = Annotated[
    str | None,
    Query(
        min_length=3,
        max_length=200,
        description="why you are reading (audited; when omitted the route's own purpose is recorded)",
        examples=["morning triage"],
    ),
]
router = APIRouter(prefix="/v1", tags=["counselling"])


def flag_view(doc: dict[str, Any], cipher: FieldCipher) -> dict[str, Any]:
    return {
        **{
            k: doc.get(k)
            for k in (
                "student_id",
                "cohort",
                "status",
                "severity",
                "reasons",
                "priority",
                "instrument",
                "raised_at",
                "updated_at",
                "resolved_at",
                "resolved_by",
                "outcome",
            )
        },
        "resolution_note": cipher.decrypt(doc.get("resolution_note")),
        "id": doc["_id"],
        "checkin_ids": doc.get("checkin_ids", []),
    }


@router.get(
    "/students/{student_id}/checkins",
    response_model=CheckinPage,
    summary="A student's check-ins (counsellor, wellbeing lead; audited)",
    responses=problem_responses(*AUTH_ERRORS, 400),
)
async def student_checkins(
    student_id: str,
    purpose: Purpose,
    principal: Counselling,
    ctx: Context,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
) -> Any:
    items, next_cursor = await ctx.repo.page_checkins(student_id=student_id, limit=limit, cursor=cursor)
    await privacy.audit_read(
        ctx=ctx,
        principal=principal,
        action="read_checkins",
        student_id=student_id,
        purpose=purpose,
        record_ids=[d["_id"] for d in items],
    )
    return {"items": [checkin_view(d, ctx.cipher) for d in items], "next_cursor": next_cursor}


@router.get(
    "/flags",
    response_model=FlagPage,
    summary="The counselling queue (urgent first, then priority, oldest)",
    description="Urgent flags first, then by priority (PHQ-9 ≥ 20 at the top of the elevated ones), then the "
    "oldest; sorted and paged by the database (`limit`, `cursor`). Every read is audited: one entry per student "
    "on the page (who, which flags, when, why).",
    responses=problem_responses(*AUTH_ERRORS, 400),
)
async def list_flags(
    principal: Counselling,
    ctx: Context,
    status: Literal["open", "resolved"] = "open",
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    purpose: OptionalPurpose = None,
) -> Any:
    page, next_cursor = await ctx.repo.page_flags(status=status, limit=limit, cursor=cursor)
    await privacy.audit_reads(
        ctx=ctx,
        principal=principal,
        action="list_flags",
        purpose=purpose or f"{status} flag queue",
        records=[(f["student_id"], f["_id"]) for f in page],
        erased=[f["student_id"] for f in page if f.get("erasure_pending")],
    )
    return {"items": [flag_view(f, ctx.cipher) for f in page], "next_cursor": next_cursor}


@router.get(
    "/flags/{flag_id}",
    response_model=Flag,
    summary="One flag (audited)",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_flag(flag_id: str, principal: Counselling, ctx: Context, purpose: OptionalPurpose = None) -> Any:
    flag = await ctx.repo.flag(flag_id=flag_id)
    if flag is None:
        raise NotFound("no flag with that id")
    await privacy.audit_read(
        ctx=ctx,
        principal=principal,
        action="read_flag",
        student_id=flag["student_id"],
        purpose=purpose or "flag review",
        record_ids=[flag_id],
        pseudonymous=bool(flag.get("erasure_pending")),  # kept past its student's erasure
    )
    return flag_view(flag, ctx.cipher)


@router.post(
    "/flags/{flag_id}/resolve",
    response_model=Flag,
    summary="Resolve a flag with an outcome",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def resolve(flag_id: str, body: FlagResolution, principal: Counselling, ctx: Context) -> Any:
    resolved = await resolve_flag(ctx=ctx, principal=principal, flag_id=flag_id, outcome=body.outcome, note=body.note)
    await privacy.audit_read(  # the reply shows the flag's reasons: a read like any other
        ctx=ctx,
        principal=principal,
        action="resolve_flag",
        student_id=resolved["student_id"],
        purpose=f"resolution: {body.outcome}",
        record_ids=[flag_id],
        pseudonymous=bool(resolved.get("erasure_pending")),  # the sweep may erase it before this entry is written
    )
    return flag_view(resolved, ctx.cipher)


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="Who read which student's records, when and why (this read is audited too)",
    responses=problem_responses(*AUTH_ERRORS, 400),
)
async def audit_trail(
    principal: Lead,
    ctx: Context,
    student_id: str | None = None,
    limit: PageLimit = 50,
    cursor: PageCursor = None,
    purpose: OptionalPurpose = None,
) -> Any:
    ref = privacy.audit_pseudonym(ctx, student_id) if student_id else None
    items, next_cursor = await ctx.repo.page_audit(student_id=student_id, student_ref=ref, limit=limit, cursor=cursor)
    await privacy.audit_read(  # who read the trail is itself on the trail
        ctx=ctx,
        principal=principal,
        action="read_audit",
        student_id=student_id,
        purpose=purpose or "audit review",
        record_ids=[i["_id"] for i in items],
        pseudonymous=True,  # the student may have been erased: never write their id back
    )
    return {"items": [{**i, "id": i["_id"]} for i in items], "next_cursor": next_cursor}


@router.get(
    "/cohorts/{cohort}/summary",
    response_model=CohortSummary,
    summary="Cohort aggregates (faculty, admin, wellbeing lead); groups under 5 students suppressed",
    description="Whole calendar cells only: ISO weeks, and months made of the ISO weeks whose Thursday falls in "
    "them; the window starts at the first week of a month. Weeks of a month are suppressed together so that "
    "the month minus the shown weeks never isolates fewer than the minimum group; band counts are given per "
    "month only, and a hidden band has no key. A month still in progress (and its weeks) gives counts only.",
    tags=["aggregates"],
    responses=problem_responses(*AUTH_ERRORS),
)
async def cohort(
    cohort: str,
    _: Aggregates,
    ctx: Context,
    period: Literal["month", "week"] = "month",
    months: Annotated[int, Query(ge=1, le=36)] = 12,
) -> Any:
    now = utcnow()
    rows = await ctx.repo.cohort_checkins(cohort=cohort, since=window_start(now, months))
    groups = cohort_summary(rows, period=period, min_group=ctx.settings.min_group_size, now=now)
    return {"cohort": cohort, "period": period, "min_group_size": ctx.settings.min_group_size, "groups": groups}
