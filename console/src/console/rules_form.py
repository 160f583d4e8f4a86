"""A routing rule from the console's form, as the RouteRule body POST /v1/routes takes (pure)."""

from __future__ import annotations

from typing import Any

TARGET_KINDS = ("rota", "role", "staff", "student", "mentor", "mentee", "assessor", "author", "reporter")
CHANNELS = ("inapp", "email", "webhook")
SEVERITIES = ("urgent", "elevated", "routine")


def rule_from_form(form: Any) -> dict[str, Any]:
    def many(name: str) -> list[str]:
        return [str(v) for v in form.getlist(name) if str(v).strip()]

    def one(name: str) -> str:
        return str(form.get(name) or "").strip()

    rule: dict[str, Any] = {
        "id": one("id"),
        "description": one("description"),
        "event_types": many("event_types"),
        "severities": many("severities"),
        "cohorts": [c.strip() for c in one("cohorts").split(",") if c.strip()],
        "target": {"kind": one("target_kind"), "value": one("target_value") or None},
        "channels": many("channels"),
        "escalation": [],
    }
    after = one("escalate_after")
    if after:
        try:
            minutes = float(after)
        except ValueError:
            minutes = -1.0  # the service answers 422 with where
        step = {"kind": one("escalate_kind"), "value": one("escalate_value") or None}
        rule["escalation"] = [{"after_minutes": minutes, "target": step}]
    return rule


def preview_body(rule: dict[str, Any]) -> dict[str, Any]:
    """The event to try the unsaved rule on: its first event type, severity and cohort."""
    return {
        "event_type": (rule["event_types"] or ["flag.raised"])[0],
        "severity": (rule["severities"] or ["urgent"])[0],
        "cohort": (rule["cohorts"] or [None])[0],
        "rule": rule,
    }
