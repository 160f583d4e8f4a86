"""Admin and lead screens: staff directory, the on-call rota editor, routing rules and their preview."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from console.api import ApiError
from console.rota_view import next_on_call, rota_body, sorted_shifts, without_shift
from console.rules_form import CHANNELS, SEVERITIES, TARGET_KINDS, preview_body, rule_from_form
from console.web import Page, SignedIn, SignedInPost

router = APIRouter()
STAFF_READERS = ("admin", "wellbeing_lead", "ops")
ROTA_EDITORS = ("admin", "wellbeing_lead")
RULE_READERS = ("admin", "ops")
PREVIEWERS = ("admin", "wellbeing_lead")
# Routable event types and their severities (notifications.domain.event_facts.ROUTABLE, for the preview form).
EVENT_TYPES: dict[str, tuple[str, ...]] = {
    "flag.raised": ("urgent", "elevated"),
    "flag.updated": ("urgent", "elevated"),
    "concern.raised": ("routine",),
    "concern.updated": ("routine",),
    "feedback.submitted": ("routine",),
    "feedback.requested": ("routine",),
    "feedback.overdue": ("routine",),
    "mentor.assigned": ("routine",),
    "mentorship.ended": ("routine",),
    "meeting.reminder_due": ("routine",),
    "checkin.reminder_due": ("routine",),
}


def _refuse(page: Page, roles: tuple[str, ...], what: str) -> Response | None:
    if page.user.has_any(*roles):
        return None
    return page.render("error.html", status_code=403, title=f"{what} is not part of your role", messages=[])


@router.get("/staff")
async def staff(page: SignedIn) -> Response:
    if refused := _refuse(page, STAFF_READERS, "The staff directory"):
        return refused
    people = await page.get("notifications", "/v1/staff", limit=200)
    return page.render("staff.html", people=people["items"])


async def _staff_ids(page: Page) -> list[str]:
    return sorted(p["id"] for p in (await page.get("notifications", "/v1/staff", limit=200))["items"])


@router.get("/rota")
async def rota(page: SignedIn, team: str = "counselling") -> Response:
    if refused := _refuse(page, STAFF_READERS, "The rota"):
        return refused
    current = await page.get("notifications", f"/v1/rotas/{quote(team, safe='')}")
    now = datetime.now(UTC)
    editable = page.user.has_any(*ROTA_EDITORS)
    return page.render(
        "rota.html",
        team=team,
        rota=current,
        next=next_on_call(current, now),
        shifts=sorted_shifts(current.get("shifts", [])),
        overrides=sorted_shifts(current.get("overrides", [])),
        editable=editable,
        staff_ids=await _staff_ids(page) if editable else [],
    )


async def _save_rota(page: Page, team: str, body: dict[str, Any], done: str) -> Response:
    try:
        await page.send("PUT", "notifications", f"/v1/rotas/{quote(team, safe='')}", json=body)
        page.flash(done)
    except ApiError as exc:
        if exc.status != 422:
            raise
        page.flash("The rota was not saved: " + "; ".join(exc.messages()))
    return RedirectResponse(f"/rota?team={quote(team, safe='')}", status_code=303)


@router.post("/rota/{team}/shifts")
async def add_shift(
    team: str,
    page: SignedInPost,
    staff_id: str = Form(...),
    start: str = Form(...),
    end: str = Form(...),
    kind: str = Form("shifts"),
) -> Response:
    kind = "overrides" if kind == "overrides" else "shifts"
    body = rota_body(await page.get("notifications", f"/v1/rotas/{quote(team, safe='')}"))
    try:
        shift = {"staff_id": staff_id, "start": _utc(start), "end": _utc(end)}
    except ValueError:
        page.flash("Give the start and end as a date and time.")
        return RedirectResponse(f"/rota?team={quote(team, safe='')}", status_code=303)
    body[kind] = [*body[kind], shift]
    return await _save_rota(page, team, body, f"Added {staff_id} from {shift['start']} to {shift['end']}.")


@router.post("/rota/{team}/shifts/remove")
async def remove_shift(
    team: str, page: SignedInPost, staff_id: str = Form(...), start: str = Form(...), kind: str = Form("shifts")
) -> Response:
    kind = "overrides" if kind == "overrides" else "shifts"
    body = rota_body(await page.get("notifications", f"/v1/rotas/{quote(team, safe='')}"))
    return await _save_rota(page, team, without_shift(body, kind, staff_id, start), f"Removed {staff_id}'s shift.")


def _utc(local: str) -> str:
    """A datetime-local value (the form says UTC) as an ISO time with its offset."""
    moment = datetime.fromisoformat(local)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


@router.get("/routing")
async def routing(page: SignedIn) -> Response:
    if refused := _refuse(page, (*RULE_READERS, *PREVIEWERS), "Routing"):
        return refused
    rules = (
        (await page.get("notifications", "/v1/routes", limit=200))["items"]
        if page.user.has_any(*RULE_READERS)
        else None
    )
    return page.render(
        "routing.html", rules=rules, event_types=EVENT_TYPES, may_preview=page.user.has_any(*PREVIEWERS), preview=None
    )


@router.post("/routing/preview")
async def preview(
    page: SignedInPost, event_type: str = Form(...), severity: str = Form(...), cohort: str = Form("")
) -> Response:
    body = {"event_type": event_type, "severity": severity, "cohort": cohort.strip() or None}
    result: dict[str, Any]
    try:
        result = {"ok": await page.send("POST", "notifications", "/v1/routes/preview", json=body)}
    except ApiError as exc:
        if exc.status in (404, 405):  # a notifications service without the preview route yet
            result = {"missing": True}
        elif exc.status in (400, 409, 422):
            result = {"errors": exc.messages()}
        else:
            raise
    template = "routing_preview.html" if page.request.headers.get("HX-Request") else "routing.html"
    rules = None
    if template == "routing.html" and page.user.has_any(*RULE_READERS):
        rules = (await page.get("notifications", "/v1/routes", limit=200))["items"]
    return page.render(template, rules=rules, event_types=EVENT_TYPES, may_preview=True, preview=result, asked=body)


@router.get("/matching")
async def matching(page: SignedIn) -> Response:
    if refused := _refuse(page, ("admin",), "Matching"):
        return refused
    return page.render("matching.html", run=None)


@router.post("/matching")
async def run_matching(page: SignedInPost, dry_run: str = Form("true")) -> Response:
    """A dry run proposes (and explains) without assigning; the same deterministic run then assigns."""
    if refused := _refuse(page, ("admin",), "Matching"):
        return refused
    run = await page.send("POST", "mentorship", "/v1/matching/runs", json={"dry_run": dry_run != "false"})
    if not run["dry_run"]:
        page.flash(f"{len(run['matches'])} student(s) assigned a mentor.")
    return page.render("matching.html", run=run)


@router.get("/routing/new")
async def new_rule(page: SignedIn) -> Response:
    if refused := _refuse(page, ("admin",), "Adding routing rules"):
        return refused
    return page.render("rule_form.html", rule=None, preview=None, errors=[], **_rule_choices())


@router.post("/routing/new")
async def try_or_save_rule(page: SignedInPost) -> Response:
    """Preview who an unsaved rule would reach (it changes nothing), or save it."""
    if refused := _refuse(page, ("admin",), "Adding routing rules"):
        return refused
    form = await page.request.form()
    rule = rule_from_form(form)
    preview_result: dict[str, Any] | None = None
    errors: list[str] = []
    try:
        if form.get("action") == "save":
            await page.send("POST", "notifications", "/v1/routes", json=rule)
            page.flash(f"Rule {rule['id']} saved.")
            return RedirectResponse("/routing", status_code=303)
        asked = preview_body(rule)
        try:
            preview_result = {"ok": await page.send("POST", "notifications", "/v1/routes/preview", json=asked)}
        except ApiError as exc:
            if exc.status not in (404, 405):
                raise
            preview_result = {"missing": True}
    except ApiError as exc:
        if exc.status not in (400, 409, 422):
            raise
        errors = exc.messages()
    return page.render(
        "rule_form.html",
        rule=rule,
        preview=preview_result,
        asked=preview_body(rule),
        errors=errors,
        **_rule_choices(),
    )


def _rule_choices() -> dict[str, Any]:
    return {"event_types": EVENT_TYPES, "target_kinds": TARGET_KINDS, "channels": CHANNELS, "severities": SEVERITIES}
