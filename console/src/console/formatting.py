"""Jinja filters: times in UTC and relative to now, codes as words (pure)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from console.web import parse_time


def when(value: Any) -> str:
    moment = parse_time(value)
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "–"


def relative(value: Any, now: datetime | None = None) -> str:
    moment = parse_time(value)
    if moment is None:
        return ""
    seconds = int((moment - (now or datetime.now(UTC))).total_seconds())
    size = abs(seconds)
    if size < 60:
        amount = "less than a minute"
    elif size < 3600:
        amount = f"{size // 60} min"
    elif size < 86400:
        amount = f"{size // 3600} h {size % 3600 // 60} min"
    else:
        amount = f"{size // 86400} d"
    return f"in {amount}" if seconds > 0 else f"{amount} ago"


def words(code: Any) -> str:
    text = str(code or "").replace("_", " ").replace(".", " ")
    return text[:1].upper() + text[1:]


def iso(value: Any) -> str:
    moment = parse_time(value)
    return moment.isoformat() if moment else ""
