"""Building blocks of requests shared by every service: unknown body fields are rejected, instants
are RFC 3339 strings with an offset, normalised to UTC (CONTRACT: times are RFC 3339 UTC), and lists
take ``?limit=`` (default 50, max 200) and ``?cursor=``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from medsupport_shared.mongo import MAX_LIMIT


class StrictInput(BaseModel):
    """Base of request bodies: a field the API does not know is a 422, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


def _rfc3339_text(value: Any) -> Any:
    if isinstance(value, datetime | str):
        return value
    raise ValueError("must be an RFC 3339 date-time string with an offset, e.g. 2026-11-20T17:00:00Z")


EARLIEST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_INSTANT = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
"""Instants a request may name: wide for any real date, narrow enough that converting to UTC, storing
and adding days or minutes never leaves the calendar (0001-01-01T00:00+14:00 was a 500)."""


def as_utc_instant(value: datetime) -> datetime:
    """``value`` in UTC (naive means UTC), or ValueError when it lies outside the accepted years."""
    try:
        utc = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("must lie between the years 1900 and 2999") from exc
    if not EARLIEST_INSTANT <= utc <= LATEST_INSTANT:
        raise ValueError("must lie between the years 1900 and 2999")
    return utc


UtcInstant = Annotated[
    AwareDatetime,
    BeforeValidator(_rfc3339_text),
    AfterValidator(as_utc_instant),
    Field(
        description="RFC 3339 with an offset, years 1900-2999; stored and returned in UTC",
        examples=["2026-11-20T17:00:00Z"],
    ),
]


PageLimit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"Page size (default 50, max {MAX_LIMIT})")]
PageCursor = Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous page")]
