"""The live inbox (urgent first, refreshed every second) and the alert page with its Acknowledge button."""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from console.web import Page, SignedIn, SignedInPost, console_link

router = APIRouter()


async def _inbox(page: Page) -> dict[str, Any]:
    urgent = await page.get("notifications", "/v1/inbox", status="open", urgent="true", limit=100)
    routine = await page.get("notifications", "/v1/inbox", status="open", urgent="false", limit=50)
    recent = await page.get("notifications", "/v1/inbox", status="acknowledged", limit=10)
    lists = {"urgent": urgent["items"], "routine": routine["items"], "recent": recent["items"]}
    version = hashlib.sha256(
        json.dumps({k: [(a["id"], a["status"], a["updated_at"]) for a in v] for k, v in lists.items()}).encode()
    ).hexdigest()[:16]
    return {**lists, "version": version, "poll_seconds": page.settings.inbox_poll_seconds}


@router.get("/")
async def inbox(page: SignedIn) -> Response:
    return page.render("inbox.html", **await _inbox(page))


@router.get("/inbox/items")
async def inbox_items(page: SignedIn, v: str | None = None) -> Response:
    """The live part of the inbox; 204 (htmx keeps the page as it is) while nothing changed."""
    lists = await _inbox(page)
    if v == lists["version"]:
        return Response(status_code=204)
    return page.render("inbox_items.html", **lists)


@router.get("/alerts/{alert_id}")
async def alert_page(alert_id: str, page: SignedIn) -> Response:
    """Reading never acknowledges (mail scanners follow links): acknowledging is the button's POST."""
    alert = await page.get("notifications", f"/v1/alerts/{quote(alert_id, safe='')}")
    may_ack = alert["status"] == "open" and alert["recipient_id"] == page.user.sub
    return page.render("alert.html", alert=alert, may_ack=may_ack, case_link=console_link(alert.get("link")))


@router.post("/alerts/{alert_id}/ack")
async def acknowledge(alert_id: str, page: SignedInPost) -> Response:
    await page.send("POST", "notifications", f"/v1/alerts/{quote(alert_id, safe='')}/ack")
    page.flash("Alert acknowledged: its escalation has stopped.")
    return RedirectResponse(f"/alerts/{quote(alert_id, safe='')}", status_code=303)
