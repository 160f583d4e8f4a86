"""Meetings: a page like every list (most recent first), refused once the mentorship has ended, and
``last_meeting_at`` only moves forward."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from medsupport_shared.testing import auth

from .conftest import ADMIN, Stack

pytestmark = pytest.mark.integration

M1 = auth("m1", "mentor")


def at(day: int, hour: int = 17) -> str:
    return f"2026-11-{day:02d}T{hour:02d}:00:00Z"


async def log(stack: Stack, assignment_id: str, met_at: str, headers: dict[str, str] = M1) -> Any:
    return await stack.client.post(
        f"/v1/assignments/{assignment_id}/meetings", json={"met_at": met_at, "format": "video"}, headers=headers
    )


async def test_meetings_are_a_page_most_recent_first(stack: Stack) -> None:
    await stack.mentor("m1")
    assignment_id = (await stack.assign("m1", "s1")).json()["id"]
    for day in (3, 9, 1, 7, 5):  # logged out of order
        assert (await log(stack, assignment_id, at(day))).status_code == 201
    path = f"/v1/assignments/{assignment_id}/meetings"
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await stack.client.get(path, params=params, headers=auth("s1", "student"))).json()
        assert set(page) == {"items", "next_cursor"} and len(page["items"]) <= 2
        seen += [m["met_at"] for m in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [datetime.fromisoformat(t).day for t in seen] == [9, 7, 5, 3, 1]
    everything = (await stack.client.get(path, headers=ADMIN)).json()
    assert len(everything["items"]) == 5 and everything["next_cursor"] is None
    assert (await stack.client.get(path, params={"cursor": "%%%"}, headers=ADMIN)).status_code == 400
    for limit in ("0", "201", "ten"):
        assert (await stack.client.get(path, params={"limit": limit}, headers=ADMIN)).status_code == 422
    stored = await stack.ctx.repo.assignment(assignment_id=assignment_id)
    assert stored is not None and stored.last_meeting_at.day == 9  # the latest, not the last logged


async def test_last_meeting_at_only_moves_forward_under_concurrent_logging(stack: Stack) -> None:
    await stack.mentor("m1")
    assignment_id = (await stack.assign("m1", "s1")).json()["id"]
    mentee = auth("s1", "student")
    results = await asyncio.gather(
        *[log(stack, assignment_id, at(day), M1 if day % 2 else mentee) for day in (4, 12, 2, 10, 6, 8)]
    )
    assert all(r.status_code == 201 for r in results)
    stored = await stack.ctx.repo.assignment(assignment_id=assignment_id)
    assert stored is not None and stored.last_meeting_at == datetime.fromisoformat(at(12))
    assert (await log(stack, assignment_id, at(1))).status_code == 201  # an older meeting, logged late
    stored = await stack.ctx.repo.assignment(assignment_id=assignment_id)
    assert stored is not None and stored.last_meeting_at == datetime.fromisoformat(at(12))


async def test_an_ended_mentorship_takes_no_more_meetings(stack: Stack) -> None:
    await stack.mentor("m1")
    assignment_id = (await stack.assign("m1", "s1")).json()["id"]
    first = await log(stack, assignment_id, at(2))
    assert first.status_code == 201
    ended = await stack.client.post(f"/v1/assignments/{assignment_id}/end", json={}, headers=M1)
    assert ended.status_code == 200
    for who in (M1, auth("s1", "student")):
        refused = await log(stack, assignment_id, at(20), who)
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["status"] == 409
    assert await stack.ctx.repo.meetings.count_documents({}) == 1
    stored = await stack.ctx.repo.assignment(assignment_id=assignment_id)
    assert stored is not None and stored.last_meeting_at == datetime.fromisoformat(at(2))
    # the same pair starts again; its meeting (same event key, same partition) arrives after anything the
    # refused ones could have emitted
    again = (await stack.assign("m1", "s1")).json()["id"]
    later = await log(stack, again, at(21))
    assert later.status_code == 201
    await stack.reader.wait_for(lambda e: e.type == "meeting.logged" and e.data["meeting_id"] == later.json()["id"])
    assert [e.data["meeting_id"] for e in stack.events("meeting.logged")] == [first.json()["id"], later.json()["id"]]


async def test_a_meeting_time_outside_the_calendar_is_a_422_not_a_500(stack: Stack) -> None:
    """Converting 0001-01-01T00:00+14:00 to UTC overflowed (a 500 found by the fuzz test)."""
    await stack.mentor("m1")
    assignment_id = (await stack.assign("m1", "s1")).json()["id"]
    for met_at in ("0001-01-01T00:00:00+14:00", "1899-12-31T23:59:59Z"):
        response = await log(stack, assignment_id, met_at)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["loc"] == ["body", "met_at"]
    assert await stack.ctx.repo.meetings.count_documents({}) == 0
