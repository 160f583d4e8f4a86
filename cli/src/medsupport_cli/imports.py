"""Bulk imports through the directory's import routes: a dry run of every part first, then the writes.

A file may be larger than one request; the service checks each part in a dry run, and only when no row
of the whole file is rejected is anything written. Each entry is an upsert by id, so an import that an
outage cut short is finished by running the same command again."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

from medsupport_cli.client import ApiError, call
from medsupport_cli.rows import Body, Checked, Rejected

PART_SIZE = 250  # entries per request: well under the services' request-body limit


@dataclass
class ImportReport:
    rows: int
    dry_run: bool
    rejected: list[Rejected] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, counts: dict[str, int]) -> None:
        self.created += counts["created"]
        self.updated += counts["updated"]
        self.unchanged += counts["unchanged"]


async def import_entries(
    http: httpx.AsyncClient, *, path: str, checked: Checked, dry_run: bool, part_size: int = PART_SIZE
) -> ImportReport:
    entries = list(checked.accepted.values())
    report = ImportReport(rows=len(entries) + len(checked.rejected), dry_run=dry_run, rejected=list(checked.rejected))
    parts = [entries[i : i + part_size] for i in range(0, len(entries), part_size)]
    for part in parts:
        try:
            counts = await call(http, "PUT", path, params={"dry_run": "true"}, json=_body(part))
        except ApiError as exc:
            if exc.status != 422:
                raise
            report.rejected += rejected_lines(exc.errors, [line for line, _ in part], str(exc))
            continue
        if dry_run:
            report.add(counts)
    report.rejected.sort(key=lambda r: r.line)
    if report.rejected or dry_run:
        return report
    for part in parts:
        report.add(await call(http, "PUT", path, json=_body(part)))
    return report


def rejected_lines(errors: list[dict[str, Any]], lines: list[int], fallback: str) -> list[Rejected]:
    """The service's per-field errors (``loc`` = body, items, index, field...) as one reason per CSV line."""
    reasons: dict[int, list[str]] = defaultdict(list)
    for error in errors:
        loc = list(error.get("loc") or [])
        if len(loc) >= 3 and loc[:2] == ["body", "items"] and isinstance(loc[2], int) and loc[2] < len(lines):
            where = ".".join(str(part) for part in loc[3:]) or "row"
            reasons[lines[loc[2]]].append(f"{where}: {error.get('msg', 'invalid')}")
    if not reasons:  # a refusal not tied to a row: every row of the part is held back with the reason
        return [Rejected(line, fallback) for line in lines]
    return [Rejected(line, "; ".join(msgs)) for line, msgs in reasons.items()]


def _body(part: list[tuple[int, Body]]) -> Body:
    return {"items": [body for _, body in part]}
