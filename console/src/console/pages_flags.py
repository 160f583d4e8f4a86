"""The counselling flag queue and the flag page: an audited read with a chosen purpose, score history, resolve."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse, Response

from console.charts import score_history
from console.web import Page, SignedIn, SignedInPost

router = APIRouter()
COUNSELLING = ("counsellor", "wellbeing_lead")
# What a counsellor may give as the reason for opening a student's record (recorded in wellbeing's audit).
PURPOSES = (
    "Responding to an urgent alert",
    "Reviewing the open flag queue",
    "Following up after contact with the student",
    "Preparing a referral",
    "Case review with the wellbeing lead",
)
OUTCOMES = ("contacted", "referred", "no_action_needed", "unreachable", "other")


def _counselling(page: Page) -> Response | None:
    if not page.user.has_any(*COUNSELLING):
        return page.render("error.html", status_code=403, title="Flags are for counselling staff", messages=[])
    return None


@router.get("/flags")
async def flag_queue(page: SignedIn, status: str = "open") -> Response:
    if refused := _counselling(page):
        return refused
    status = status if status in ("open", "resolved") else "open"
    flags = await page.get("wellbeing", "/v1/flags", status=status, limit=100, purpose=f"{status} flag queue (console)")
    return page.render("flags.html", flags=flags["items"], status=status)


@router.get("/flags/{flag_id}")
async def flag_page(flag_id: str, page: SignedIn, purpose: str | None = None, other: str | None = None) -> Response:
    if refused := _counselling(page):
        return refused
    chosen = (other or "").strip() if purpose == "other" else (purpose or "").strip()
    if len(chosen) < 3:
        return page.render("flag_purpose.html", flag_id=flag_id, purposes=PURPOSES, missing=purpose is not None)
    flag_path = f"/v1/flags/{quote(flag_id, safe='')}"
    flag = await page.get("wellbeing", flag_path, purpose=chosen[:200])
    history: list[dict[str, Any]] = (
        await page.get(
            "wellbeing", f"/v1/students/{quote(flag['student_id'], safe='')}/checkins", purpose=chosen[:200], limit=50
        )
    )["items"]
    return page.render(
        "flag.html",
        flag=flag,
        purpose=chosen,
        charts=score_history(history),
        history=history,
        outcomes=OUTCOMES,
        again=urlencode({"purpose": "other", "other": chosen[:200]}),
    )


@router.post("/flags/{flag_id}/resolve")
async def resolve(flag_id: str, page: SignedInPost, outcome: str = Form(...), note: str = Form("")) -> Response:
    body = {"outcome": outcome, **({"note": note.strip()} if note.strip() else {})}
    await page.send("POST", "wellbeing", f"/v1/flags/{quote(flag_id, safe='')}/resolve", json=body)
    page.flash(f"Flag resolved: {outcome.replace('_', ' ')}.")
    return RedirectResponse("/flags", status_code=303)
