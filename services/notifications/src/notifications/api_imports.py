"""Bulk directory imports (admin): the staff list from HR, the students from the student information system."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from medsupport_shared.auth import Principal, Role, require_roles
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from notifications.api_directory import StaffManager
from notifications.context import Context
from notifications.directory_imports import import_staff_list, import_students
from notifications.schemas import ImportResultOut, StaffImport, StudentImport

Admin = Annotated[Principal, Depends(require_roles(Role.ADMIN))]
DryRun = Annotated[bool, Query(description="check every entry and count what would change, writing nothing")]
router = APIRouter(prefix="/v1", tags=["directory"])
IMPORT_DESCRIPTION = (
    "Every entry is checked first: if any is rejected, nothing is written and the 422 lists each rejected "
    "entry by its index. Each entry is an upsert by id, so sending the same file again changes nothing."
)


@router.put(
    "/staff",
    response_model=ImportResultOut,
    summary="Import staff in bulk (admin; health-data roles: wellbeing lead)",
    description=IMPORT_DESCRIPTION + " As for `PUT /v1/staff/{id}`, granting or revoking `counsellor`/"
    "`wellbeing_lead` (or changing such a person's addresses) needs the wellbeing lead, any other role the admin; "
    "grants are recorded; an import that leaves nobody holding one of those roles is a 409.",
    responses=problem_responses(*AUTH_ERRORS, 409),
)
async def put_staff_list(body: StaffImport, principal: StaffManager, ctx: Context, dry_run: DryRun = False) -> Any:
    return asdict(await import_staff_list(ctx=ctx, principal=principal, entries=body.items, dry_run=dry_run))


@router.put(
    "/students",
    response_model=ImportResultOut,
    summary="Import students and their cohorts in bulk (admin)",
    description=IMPORT_DESCRIPTION + " Students' own quiet hours and channel choices are kept.",
    responses=problem_responses(*AUTH_ERRORS),
)
async def put_student_list(body: StudentImport, _: Admin, ctx: Context, dry_run: DryRun = False) -> Any:
    return asdict(await import_students(ctx=ctx, entries=body.items, dry_run=dry_run))
