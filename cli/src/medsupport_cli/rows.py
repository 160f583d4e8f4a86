"""CSV rows to request bodies (pure).

Here a row is only shaped into a body: the service checks each entry with the same model as every other
write (a dry run first), so the rules live in one place. Ids repeated within a file are caught here, since
the file may be sent in several requests and the second row would silently overwrite the first."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Body = dict[str, Any]
RowParser = Callable[[dict[str, str]], tuple[str, Body]]


class RowError(ValueError):
    """A row that cannot become a request body; the message is shown to the person importing."""


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass
class Checked:
    """Every row of a file: the ones that may be sent, keyed by id with their line, and the ones rejected."""

    accepted: dict[str, tuple[int, Body]] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


def read_rows(text: str) -> list[dict[str, str]]:
    """Rows keyed by lower-case, trimmed header names; cells trimmed. A BOM (Excel's UTF-8) is ignored."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    if reader.fieldnames is None:
        return []
    rows = []
    for raw in reader:
        rows.append({(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None})
    return rows


def check_rows(rows: Iterable[dict[str, str]], parse: RowParser) -> Checked:
    checked = Checked()
    first_line: dict[str, int] = {}
    for line, row in enumerate(rows, start=2):  # line 1 is the header
        try:
            key, body = parse(row)
        except RowError as exc:
            checked.rejected.append(Rejected(line, str(exc)))
            continue
        if key in first_line:
            checked.rejected.append(Rejected(line, f"id {key!r} already on line {first_line[key]}"))
            continue
        first_line[key] = line
        checked.accepted[key] = (line, body)
    return checked


def split_list(cell: str) -> list[str]:
    """``counsellor; wellbeing_lead`` or ``counsellor|wellbeing_lead``: spreadsheets make commas awkward."""
    return [part.strip() for part in cell.replace("|", ";").split(";") if part.strip()]


def required(row: dict[str, str], column: str) -> str:
    value = row.get(column, "")
    if not value:
        raise RowError(f"column {column!r} is empty")
    return value


def optional(row: dict[str, str], column: str) -> str | None:
    return row.get(column) or None
