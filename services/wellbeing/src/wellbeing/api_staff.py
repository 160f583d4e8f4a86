"""Routes for counselling staff (individual data, audited) and for faculty/admins (aggregates only)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from medsupport_shared.auth import Principal, Role, require_roles
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.inputs import PageCursor, PageLimit
from wellbeing import checkins, flags, privacy
from wellbeing.context import Context
from wellbeing.domain import flags as domain
from wellbeing.schemas import AuditPage, CheckinPage, CohortSummary, Flag, FlagPage, FlagResolution

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


def flag_view(flag: domain.Flag, cipher: FieldCipher) -> dict[str, Any]:
    return {
        **{
            k: getattr(flag, k)
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
        "resolution_note": cipher.decrypt(flag.resolution_note),
        "id": flag.id,
        "checkin_ids": list(flag.checkin_ids),
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
    items, next_cursor = await checkins.student_checkins(
        ctx=ctx, principal=principal, student_id=student_id, purpose=purpose, limit=limit, cursor=cursor
    )
    return {"items": items, "next_cursor": next_cursor}


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
    page, next_cursor = await flags.flag_queue(
        ctx=ctx, principal=principal, status=status, limit=limit, cursor=cursor, purpose=purpose
    )
    return {"items": [flag_view(f, ctx.cipher) for f in page], "next_cursor": next_cursor}


@router.get(
    "/flags/{flag_id}",
    response_model=Flag,
    summary="One flag (audited)",
    responses=problem_responses(*AUTH_ERRORS, 404),
)
async def get_flag(flag_id: str, principal: Counselling, ctx: Context, purpose: OptionalPurpose = None) -> Any:
    flag = await flags.read_flag(ctx=ctx, principal=principal, flag_id=flag_id, purpose=purpose)
    return flag_view(flag, ctx.cipher)


@router.post(
    "/flags/{flag_id}/resolve",
    response_model=Flag,
    summary="Resolve a flag with an outcome",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def resolve(flag_id: str, body: FlagResolution, principal: Counselling, ctx: Context) -> Any:
    resolved = await flags.resolve_flag(
        ctx=ctx, principal=principal, flag_id=flag_id, outcome=body.outcome, note=body.note
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
    items, next_cursor = await privacy.audit_trail(
        ctx=ctx, principal=principal, student_id=student_id, limit=limit, cursor=cursor, purpose=purpose
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
    groups = await checkins.cohort_figures(ctx=ctx, cohort=cohort, period=period, months=months)
    return {"cohort": cohort, "period": period, "min_group_size": ctx.settings.min_group_size, "groups": groups}
