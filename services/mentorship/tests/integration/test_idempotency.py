"""Creating POSTs honour Idempotency-Key: a retry with the same key and body returns the first reply and
creates nothing new (no second document, no second event); the same key with another body is 409."""

from __future__ import annotations

from typing import Any

import pytest

from medsupport_shared.idempotency import REPLAY_HEADER
from medsupport_shared.testing import auth

from .conftest import ADMIN, Stack

pytestmark = pytest.mark.integration

M1, S1 = auth("m1", "mentor"), auth("s1", "student", cohort="2027")
MEETING = {"met_at": "2026-11-20T17:00:00Z", "format": "video", "notes": "electives"}


async def test_a_retried_meeting_is_logged_and_announced_once(stack: Stack) -> None:
    await stack.mentor("m1", capacity=2)
    assignment_id = (await stack.assign("m1", "s1")).json()["id"]
    other_assignment = (await stack.assign("m1", "s2")).json()["id"]
    path = f"/v1/assignments/{assignment_id}/meetings"
    headers = {**M1, "Idempotency-Key": "meeting-2026-11-20"}

    first = await stack.client.post(path, json=MEETING, headers=headers)
    retry = await stack.client.post(path, json=MEETING, headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201), retry.text
    assert retry.json() == first.json() and retry.headers.get(REPLAY_HEADER) == "true"
    assert first.json()["my_notes"] == "electives"
    assert await stack.ctx.repo.meetings.count_documents({}) == 1

    other_body = await stack.client.post(path, json={**MEETING, "format": "phone"}, headers=headers)
    other_path = await stack.client.post(f"/v1/assignments/{other_assignment}/meetings", json=MEETING, headers=headers)
    for refused in (other_body, other_path):
        assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
    assert await stack.ctx.repo.meetings.count_documents({}) == 1

    # one more meeting of the same assignment (same event key, so the same partition, in order): when it has
    # arrived, anything the retry had emitted would have arrived before it
    later = await stack.client.post(path, json={**MEETING, "met_at": "2026-11-21T17:00:00Z"}, headers=M1)
    assert later.status_code == 201
    await stack.reader.wait_for(lambda e: e.type == "meeting.logged" and e.data["meeting_id"] == later.json()["id"])
    logged = stack.events("meeting.logged", assignment_id=assignment_id)
    assert [e.data["meeting_id"] for e in logged] == [first.json()["id"], later.json()["id"]]


CREATING = [
    # (path, caller, body, another body for the same key: 409; None where the route takes no body)
    ("/v1/peer-groups", auth("f1", "faculty"), {"name": "Circle", "size_limit": 4}, {"name": "Other", "size_limit": 4}),
    ("/v1/matching/runs", ADMIN, {}, {"dry_run": True}),
    ("/v1/matching/me", S1, None, None),
]


@pytest.mark.parametrize(("path", "headers", "body", "another"), CREATING, ids=[c[0] for c in CREATING])
async def test_other_creating_posts_honour_the_key(
    stack: Stack, path: str, headers: dict[str, str], body: Any, another: Any
) -> None:
    await stack.mentor("m1", capacity=3)
    await stack.wants("s1")
    repo = stack.ctx.repo
    collection = repo.groups if "peer-groups" in path else repo.runs
    keyed = {**headers, "Idempotency-Key": "retry-me"}

    first = await stack.client.post(path, json=body, headers=keyed)
    retry = await stack.client.post(path, json=body, headers=keyed)
    assert (first.status_code, retry.status_code) == (201, 201), retry.text
    assert retry.json() == first.json() and retry.headers.get(REPLAY_HEADER) == "true"
    assert await collection.count_documents({}) == 1
    if "matching" in path:  # the run assigned once: one assignment, one event
        assert len(first.json()["matches"]) == 1
        assert len(await stack.active()) == 1
        await stack.reader.wait_for(lambda e: e.type == "mentor.assigned")
    if another is not None:
        refused = await stack.client.post(path, json=another, headers=keyed)
        assert refused.status_code == 409 and refused.headers["content-type"] == "application/problem+json"
        assert await collection.count_documents({}) == 1
    if path == "/v1/matching/me":  # without a key, a matched student asking again is told why nothing happens
        again = await stack.client.post(path, json=body, headers=headers)
        assert again.status_code == 409 and "already has an active mentor" in again.json()["detail"]
        assert await collection.count_documents({}) == 1
        return
    # without a key, each call creates
    fresh = await stack.client.post(path, json=body, headers=headers)
    assert fresh.status_code == 201 and fresh.json()["id"] != first.json()["id"]
    assert await collection.count_documents({}) == 2
    assert len(stack.events("mentor.assigned")) <= 1
