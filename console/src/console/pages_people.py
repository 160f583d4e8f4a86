"""The wellbeing lead's overview, the mentor's mentees and meetings, and everyone's notification preferences."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from console.api import ApiError
from console.charts import acknowledgement_chart
from console.web import SignedIn, SignedInPost

router = APIRouter()
MEETING_FORMATS = ("in-person", "video", "phone", "chat")


@router.get("/overview")
async def overview(page: SignedIn, cohort: str | None = None, period: str = "month") -> Response:
    if not page.user.has_any("wellbeing_lead"):
        return page.render("error.html", status_code=403, title="The overview is for the wellbeing lead", messages=[])
    flags, alerts = await asyncio.gather(
        page.get("wellbeing", "/v1/flags", status="open", limit=200, purpose="wellbeing lead overview (console)"),
        page.get("notifications", "/v1/inbox", status="open", limit=100),
    )
    summary = None
    period = period if period in ("month", "week") else "month"
    if cohort and cohort.strip():
        summary = await page.get("wellbeing", f"/v1/cohorts/{quote(cohort.strip(), safe='')}/summary", period=period)
    open_flags = flags["items"]
    ack_rows = await _acknowledgement_times(page)
    return page.render(
        "overview.html",
        urgent_flags=[f for f in open_flags if f["severity"] == "urgent"],
        elevated_count=sum(1 for f in open_flags if f["severity"] == "elevated"),
        escalated=[a for a in alerts["items"] if a.get("escalation_level") or a.get("urgent")],
        summary=summary,
        cohort=cohort or "",
        period=period,
        ack_rows=ack_rows,
        ack_chart=acknowledgement_chart(ack_rows) if ack_rows else None,
    )


async def _acknowledgement_times(page: SignedIn) -> list[dict[str, Any]] | None:
    """Time to acknowledge by week; a service without the report (or down) leaves the rest of the page."""
    try:
        reply = await page.get("notifications", "/v1/alerts/acknowledgement-times", weeks=12)
    except ApiError as exc:
        if exc.status == 401:
            raise
        return None
    return list(reply["items"])


@router.get("/mentees")
async def mentees(page: SignedIn) -> Response:
    if not page.user.has_any("mentor"):
        return page.render("error.html", status_code=403, title="Mentees are for mentors", messages=[])
    assignments = [
        a
        for a in (await page.get("mentorship", "/v1/assignments", status="active", limit=100))["items"]
        if a["mentor_id"] == page.user.sub
    ]
    meetings = await asyncio.gather(
        *(page.get("mentorship", f"/v1/assignments/{quote(a['id'], safe='')}/meetings", limit=20) for a in assignments)
    )
    rows = [{**a, "meetings": m["items"]} for a, m in zip(assignments, meetings, strict=True)]
    return page.render("mentees.html", assignments=rows, formats=MEETING_FORMATS)


@router.post("/mentees/{assignment_id}/meetings")
async def log_meeting(
    assignment_id: str,
    page: SignedInPost,
    met_at: str = Form(...),
    meeting_format: str = Form(..., alias="format"),
    notes: str = Form(""),
) -> Response:
    try:
        moment = datetime.fromisoformat(met_at)
    except ValueError:
        page.flash("Give the meeting's date and time.")
        return RedirectResponse("/mentees", status_code=303)
    body: dict[str, Any] = {
        "met_at": (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat(),
        "format": meeting_format,
        **({"notes": notes.strip()} if notes.strip() else {}),
    }
    try:
        await page.send("POST", "mentorship", f"/v1/assignments/{quote(assignment_id, safe='')}/meetings", json=body)
        page.flash("Meeting logged.")
    except ApiError as exc:
        if exc.status not in (409, 422):
            raise
        page.flash("The meeting was not logged: " + "; ".join(exc.messages()))
    return RedirectResponse("/mentees", status_code=303)


@router.get("/preferences")
async def preferences(page: SignedIn) -> Response:
    current: dict[str, Any] = {}
    try:  # staff read their own directory entry; anyone else starts from an empty form
        current = await page.get("notifications", f"/v1/staff/{quote(page.user.sub, safe='')}")
    except ApiError as exc:
        if exc.status not in (403, 404):
            raise
    return page.render("preferences.html", current=current)


@router.post("/preferences")
async def save_preferences(
    page: SignedInPost,
    email: str = Form(""),
    quiet: str = Form(""),
    quiet_start: str = Form(""),
    quiet_end: str = Form(""),
    quiet_timezone: str = Form("UTC"),
    channel_email: str = Form(""),
    channel_webhook: str = Form(""),
) -> Response:
    body: dict[str, Any] = {
        "email": email.strip() or None,
        "quiet_hours": {"start": quiet_start, "end": quiet_end, "timezone": quiet_timezone.strip() or "UTC"}
        if quiet
        else None,
        "channels": {"email": bool(channel_email), "webhook": bool(channel_webhook)},
    }
    try:
        await page.send("PUT", "notifications", "/v1/me/preferences", json=body)
        page.flash("Preferences saved. Urgent alerts always reach you, whatever your quiet hours.")
    except ApiError as exc:
        if exc.status != 422:
            raise
        page.flash("Not saved: " + "; ".join(exc.messages()))
    return RedirectResponse("/preferences", status_code=303)
