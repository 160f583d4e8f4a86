"""The columns of the staff and student CSV files, and each row as the directory's import entry (pure)."""

from __future__ import annotations

from medsupport_cli.rows import Body, RowError, optional, required, split_list
from medsupport_shared.auth import Role

STAFF_COLUMNS = ("id", "name", "email", "roles", "webhook_url", "quiet_start", "quiet_end", "timezone")
STUDENT_COLUMNS = ("id", "name", "email", "cohort")


def staff_entry(row: dict[str, str]) -> tuple[str, Body]:
    person_id = required(row, "id")
    roles = split_list(required(row, "roles"))
    if unknown := sorted(set(roles) - {r.value for r in Role}):
        raise RowError(f"unknown roles {unknown}; known: {sorted(r.value for r in Role)}")
    body: Body = {"id": person_id, "name": optional(row, "name"), "roles": roles, "email": required(row, "email")}
    if webhook := optional(row, "webhook_url"):
        body["webhook_url"] = webhook
    quiet = [optional(row, c) for c in ("quiet_start", "quiet_end", "timezone")]
    if any(quiet):
        if not all(quiet):
            raise RowError("quiet hours need quiet_start, quiet_end and timezone together")
        body["quiet_hours"] = {"start": quiet[0], "end": quiet[1], "timezone": quiet[2]}
    return person_id, body


def student_entry(row: dict[str, str]) -> tuple[str, Body]:
    person_id = required(row, "id")
    body: Body = {"id": person_id, "name": optional(row, "name"), "email": required(row, "email")}
    if cohort := optional(row, "cohort"):
        body["cohort"] = cohort
    return person_id, body
