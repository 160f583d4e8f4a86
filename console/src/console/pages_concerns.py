"""The concerns officer's queue and case page: triage (only the moves the service allows), outcome, messages."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from console.web import Page, SignedIn, SignedInPost

router = APIRouter()
STATUSES = ("received", "under_review", "action_taken", "closed")
# feedback.domain.concerns.ALLOWED_MOVES, so the page offers only the moves the service accepts.
MOVES: dict[str, tuple[str, ...]] = {
    "received": ("under_review", "closed"),
    "under_review": ("action_taken", "closed"),
    "action_taken": ("closed", "under_review"),
    "closed": ("under_review",),
}


def _officer(page: Page) -> Response | None:
    if not page.user.has_any("concerns_officer"):
        return page.render("error.html", status_code=403, title="Concerns are for the concerns officer", messages=[])
    return None


@router.get("/concerns")
async def queue(page: SignedIn, status: str | None = None) -> Response:
    if refused := _officer(page):
        return refused
    chosen = status if status in STATUSES else None
    concerns = await page.get("feedback", "/v1/concerns", status=chosen, limit=100)
    return page.render("concerns.html", concerns=concerns["items"], status=chosen, statuses=STATUSES)


@router.get("/concerns/{concern_id}")
async def case(concern_id: str, page: SignedIn) -> Response:
    if refused := _officer(page):
        return refused
    concern = await page.get("feedback", f"/v1/concerns/{quote(concern_id, safe='')}")
    return page.render("concern.html", concern=concern, moves=MOVES.get(concern["status"], ()))


@router.post("/concerns/{concern_id}/triage")
async def triage(concern_id: str, page: SignedInPost, status: str = Form(""), outcome: str = Form("")) -> Response:
    body = {k: v for k, v in (("status", status), ("outcome", outcome.strip())) if v}
    if not body:
        page.flash("Choose a new status or write an outcome.")
    else:
        await page.send("PATCH", "feedback", f"/v1/concerns/{quote(concern_id, safe='')}", json=body)
        page.flash("Concern updated." + (f" Status: {status.replace('_', ' ')}." if status else ""))
    return RedirectResponse(f"/concerns/{quote(concern_id, safe='')}", status_code=303)


@router.post("/concerns/{concern_id}/messages")
async def message(concern_id: str, page: SignedInPost, text: str = Form("")) -> Response:
    if text.strip():
        await page.send(
            "POST", "feedback", f"/v1/concerns/{quote(concern_id, safe='')}/messages", json={"message": text}
        )
        page.flash("Message sent to the reporter.")
    else:
        page.flash("Write a message first.")
    return RedirectResponse(f"/concerns/{quote(concern_id, safe='')}", status_code=303)
