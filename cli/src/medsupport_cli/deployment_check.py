"""Checks of a deployment: each service's settings as the service would read them, that every service
is ready, and that an urgent wellbeing flag has a route to a counselling role."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import ValidationError

from medsupport_cli.client import ApiError, call

SERVICES = ("feedback", "wellbeing", "mentorship", "notifications")
COUNSELLING_ROLES = {"counsellor", "wellbeing_lead"}


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str


def settings_findings() -> list[Finding]:
    """Load each service's settings class from this process's environment, as the service would at start-up."""
    findings = []
    for service in SERVICES:
        module = importlib.import_module(f"{service}.settings")
        cls = next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "ServiceSettings")
        try:
            settings = cls()
        except ValidationError as exc:
            reasons = "; ".join(str(e.get("msg", "invalid")).removeprefix("Value error, ") for e in exc.errors())
            findings.append(Finding(False, f"{service} settings: {reasons}"))
            continue
        findings.append(Finding(True, f"{service} settings load (APP_ENV={settings.app_env})"))
    return findings


async def readiness_findings(urls: dict[str, str]) -> list[Finding]:
    findings = []
    async with httpx.AsyncClient(timeout=5.0) as http:
        for service, url in urls.items():
            try:
                response = await http.get(f"{url.rstrip('/')}/readyz")
            except httpx.HTTPError as exc:
                findings.append(Finding(False, f"{service} at {url} does not answer ({type(exc).__name__})"))
                continue
            if response.status_code == 200:
                findings.append(Finding(True, f"{service} is ready"))
            else:
                down = [k for k, v in _checks(response).items() if v not in ("ok", True)]
                findings.append(Finding(False, f"{service} is not ready: {', '.join(down) or response.status_code}"))
    return findings


async def urgent_route_finding(notifications: httpx.AsyncClient) -> Finding:
    """Who would receive an urgent flag now, asked of the service's own routing."""
    question = {"event_type": "flag.raised", "severity": "urgent", "cohort": None}
    try:
        answer = await call(notifications, "POST", "/v1/routes/preview", json=question)
    except ApiError as exc:
        return Finding(False, f"urgent-flag route could not be checked: {exc}")
    reached = [r for r in answer.get("recipients", []) if COUNSELLING_ROLES & set(r.get("roles") or [])]
    if not reached:
        return Finding(False, "an urgent flag would reach no counsellor or wellbeing lead")
    if answer.get("safety_floor"):
        return Finding(False, "an urgent flag is routed only by the safety floor: no enabled rule reaches counselling")
    names = ", ".join(sorted(r.get("name") or r["person_id"] for r in reached))
    return Finding(True, f"an urgent flag would reach {names}")


def _checks(response: httpx.Response) -> dict[str, Any]:
    try:
        checks = response.json().get("checks") or {}
    except ValueError:
        return {}
    return checks if isinstance(checks, dict) else {}
