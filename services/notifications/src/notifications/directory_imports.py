"""Bulk imports of the directory (staff from the HR system, students from the student information
system): every entry is checked before any is written, so a file with one bad row changes nothing,
and a re-run of the same file writes nothing (each entry is matched by its id and written only when
a field differs)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from medsupport_shared.auth import Principal, Role
from medsupport_shared.domain_errors import Unprocessable
from medsupport_shared.events import utcnow
from notifications.context import NotificationsContext
from notifications.directory import authorise_staff_writes
from notifications.repository import NotificationsRepository
from notifications.schemas import StaffEntry, StudentEntry
from notifications.webhook_targets import WebhookPolicy, WebhookTargetRefused

KNOWN_ROLES = frozenset(r.value for r in Role)
Problems = list[dict[str, Any]]
Fields = dict[str, Any]


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def duplicate_ids(ids: list[str]) -> Problems:
    seen = Counter(ids)
    return [
        {"loc": ["body", "items", i, "id"], "msg": "this id appears more than once in the import"}
        for i, person_id in enumerate(ids)
        if seen[person_id] > 1
    ]


def staff_problems(entries: list[StaffEntry], webhooks: WebhookPolicy) -> Problems:
    """Unknown roles, repeated ids, and webhook URLs that point inward or carry credentials (checked without
    a DNS look-up here; every send resolves and checks the host again)."""
    problems = duplicate_ids([e.id for e in entries])
    for i, entry in enumerate(entries):
        if unknown := sorted(set(entry.roles) - KNOWN_ROLES):
            problems.append({"loc": ["body", "items", i, "roles"], "msg": f"unknown roles: {unknown}"})
        if entry.webhook_url is not None:
            try:
                webhooks.check_url(str(entry.webhook_url))
            except WebhookTargetRefused as exc:
                problems.append({"loc": ["body", "items", i, "webhook_url"], "msg": str(exc)})
    return problems


def student_problems(entries: list[StudentEntry], existing: dict[str, Fields]) -> Problems:
    return duplicate_ids([e.id for e in entries]) + [
        {"loc": ["body", "items", i, "id"], "msg": "this id belongs to a member of staff"}
        for i, entry in enumerate(entries)
        if existing.get(entry.id, {}).get("kind") == "staff"
    ]


def plan(documents: dict[str, Fields], existing: dict[str, Fields]) -> tuple[dict[str, Fields], dict[str, Fields]]:
    """Which documents are new and which change a stored one (``updated_at`` alone is no change)."""
    new = {pid: fields for pid, fields in documents.items() if pid not in existing}
    changed = {
        pid: fields
        for pid, fields in documents.items()
        if pid in existing and any(existing[pid].get(k) != v for k, v in fields.items() if k != "updated_at")
    }
    return new, changed


async def import_staff(
    *, repo: NotificationsRepository, entries: list[StaffEntry], webhooks: WebhookPolicy, dry_run: bool
) -> ImportResult:
    if problems := staff_problems(entries, webhooks):
        raise Unprocessable("nothing was imported: fix the rejected entries and send the file again", errors=problems)
    existing = await repo.people_by_id(person_ids=[e.id for e in entries])
    return await _write(repo, _documents(entries, "staff"), existing, dry_run)


async def import_staff_list(
    *, ctx: NotificationsContext, principal: Principal, entries: list[StaffEntry], dry_run: bool
) -> ImportResult:
    """Staff in bulk, authorised as ``PUT /v1/staff/{id}`` is: every entry is checked before a grant is
    recorded, and each grant recorded before it is written."""
    documents = {e.id: {**e.model_dump(mode="json", exclude={"id"}), "kind": "staff"} for e in entries}
    await authorise_staff_writes(ctx, principal, documents, record=False)
    if not dry_run:
        await import_staff(repo=ctx.repo, entries=entries, webhooks=ctx.settings.webhook_policy, dry_run=True)
        await authorise_staff_writes(ctx, principal, documents)
    return await import_staff(repo=ctx.repo, entries=entries, webhooks=ctx.settings.webhook_policy, dry_run=dry_run)


async def import_students(*, ctx: NotificationsContext, entries: list[StudentEntry], dry_run: bool) -> ImportResult:
    repo = ctx.repo
    existing = await repo.people_by_id(person_ids=[e.id for e in entries])
    if problems := student_problems(entries, existing):
        raise Unprocessable("nothing was imported: fix the rejected entries and send the file again", errors=problems)
    # Only the fields the school's records own: a student's own quiet hours and channels stay as they set them.
    return await _write(repo, _documents(entries, "student"), existing, dry_run)


def _documents(entries: list[StaffEntry] | list[StudentEntry], kind: str) -> dict[str, Fields]:
    now = utcnow()
    return {
        e.id: {**e.model_dump(mode="json", exclude={"id"}, exclude_unset=True), "kind": kind, "updated_at": now}
        for e in entries
    }


async def _write(
    repo: NotificationsRepository, documents: dict[str, Fields], existing: dict[str, Fields], dry_run: bool
) -> ImportResult:
    new, changed = plan(documents, existing)
    if not dry_run:
        await repo.write_people(new=new, changed=changed)
    return ImportResult(created=len(new), updated=len(changed), unchanged=len(documents) - len(new) - len(changed))
