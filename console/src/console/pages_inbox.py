"""The live inbox (urgent first, refreshed twice a second) and the alert page with its Acknowledge button."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import RedirectResponse, Response

from console.web import Page, SignedIn, SignedInPost, console_link

router = APIRouter()


async def _open_alerts(page: Page) -> dict[str, Any]:
    """What the live inbox watches: the open alerts (an acknowledgement takes one out, so it shows too)."""
    urgent, routine = await asyncio.gather(
        page.get("notifications", "/v1/inbox", status="open", urgent="true", limit=100),
        page.get("notifications", "/v1/inbox", status="open", urgent="false", limit=50),
    )
    lists = {"urgent": urgent["items"], "routine": routine["items"]}
    minute = int(time.time() // 60)  # so "escalates in N min" counts down
    state = [minute, {k: [(a["id"], a["status"], a["updated_at"]) for a in v] for k, v in lists.items()}]
    version = hashlib.sha256(json.dumps(state).encode()).hexdigest()[:16]
    return {**lists, "version": version, "poll_seconds": page.settings.inbox_poll_seconds}


async def _with_recent(page: Page, lists: dict[str, Any]) -> dict[str, Any]:
    recent = await page.get("notifications", "/v1/inbox", status="acknowledged", limit=10)
    return {**lists, "recent": recent["items"]}


@router.get("/")
async def inbox(page: SignedIn) -> Response:
    return page.render("inbox.html", **await _with_recent(page, await _open_alerts(page)))


@router.get("/inbox/items")
async def inbox_items(page: SignedIn, v: str | None = None) -> Response:
    """The live part of the inbox; 204 (htmx keeps the page as it is) while nothing changed, after two light
    reads of the open alerts."""
    lists = await _open_alerts(page)
    if v == lists["version"]:
        return Response(status_code=204)
    return page.render("inbox_items.html", **await _with_recent(page, lists))


async def _alert(page: Page, alert_id: str) -> dict[str, Any]:
    alert = await page.get("notifications", f"/v1/alerts/{quote(alert_id, safe='')}")
    minute = int(time.time() // 60)  # so "escalates in N min" counts down
    state = [minute, alert["status"], alert["escalation_level"], alert["updated_at"], alert.get("next_escalation_at")]
    state += [(d["status"], d["attempt_count"]) for d in alert.get("deliveries") or []]
    state += [(e["level"], e["status"], e.get("acknowledged_at")) for e in alert.get("chain") or []]
    return {
        "alert": alert,
        "may_ack": alert["status"] == "open" and alert["recipient_id"] == page.user.sub,
        "case_link": console_link(alert.get("link")),
        "version": hashlib.sha256(json.dumps(state).encode()).hexdigest()[:16],
    }


@router.get("/alerts/{alert_id}")
async def alert_page(alert_id: str, page: SignedIn) -> Response:
    """Reading never acknowledges (mail scanners follow links): acknowledging is the button's POST."""
    return page.render("alert.html", **await _alert(page, alert_id))


@router.get("/alerts/{alert_id}/live")
async def alert_live(alert_id: str, page: SignedIn, v: str | None = None) -> Response:
    """The alert's state, refreshed while the page is open (someone else acknowledged, it escalated, a retry)."""
    state = await _alert(page, alert_id)
    if v == state["version"]:
        return Response(status_code=204)
    return page.render("alert_live.html", **state)


@router.post("/alerts/{alert_id}/ack")
async def acknowledge(alert_id: str, page: SignedInPost) -> Response:
    await page.send("POST", "notifications", f"/v1/alerts/{quote(alert_id, safe='')}/ack")
    page.flash("Alert acknowledged: its escalation has stopped.")
    return RedirectResponse(f"/alerts/{quote(alert_id, safe='')}", status_code=303)
