"""Who is on call now and next, and a rota with a shift added or removed (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from console.web import parse_time


def next_on_call(rota: dict[str, Any], now: datetime) -> tuple[str, datetime] | None:
    """The first shift or override starting after now with someone other than who is on call now."""
    upcoming = [
        (start, s["staff_id"])
        for s in [*rota.get("overrides", []), *rota.get("shifts", [])]
        if (start := parse_time(s.get("start"))) and start > now and s["staff_id"] != rota.get("on_call_now")
    ]
    if not upcoming:
        return None
    start, who = min(upcoming)
    return who, start


def rota_body(rota: dict[str, Any]) -> dict[str, Any]:
    """What PUT /v1/rotas/{team} takes back from what GET gave."""
    keep = ("staff_id", "start", "end")
    return {
        "lead_id": rota["lead_id"],
        "shifts": [{k: s[k] for k in keep} for s in rota.get("shifts", [])],
        "overrides": [{k: s[k] for k in keep} for s in rota.get("overrides", [])],
    }


def without_shift(body: dict[str, Any], kind: str, staff_id: str, start: str) -> dict[str, Any]:
    wanted = parse_time(start)
    kept = [s for s in body[kind] if not (s["staff_id"] == staff_id and parse_time(s["start"]) == wanted)]
    return {**body, kind: kept}


def sorted_shifts(shifts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(shifts, key=lambda s: parse_time(s["start"]) or datetime.min)
