"""Concern reports: anonymity (document, event, logs, metrics), follow-up codes, triage, roles."""

import json
import statistics
import time
import uuid

import pytest
from prometheus_client import generate_latest

from feedback.domain.concerns import CODE_ALPHABET, new_follow_up_code
from medsupport_shared.testing import auth

pytestmark = pytest.mark.integration

SECRET_SUB = "anon-sub-5c1d9e77"
OFFICER = auth("officer-1", "concerns_officer")
S1, F1, ADMIN, COUNSELLOR = (
    auth("s1", "student"),
    auth("f1", "faculty"),
    auth("admin1", "admin"),
    auth("c1", "counsellor", "wellbeing_lead"),
)


def concern(anonymous=True, **extra):
    return {
        "category": "mistreatment",
        "description": "The registrar shouted at me in front of patients.",
        "when": "Tuesday morning ward round",
        "where": "Ward 7B",
        "people_involved": "A surgical registrar",
        "anonymous": anonymous,
        **extra,
    }


async def test_anonymous_report_stores_and_emits_no_identity(stack):
    trace_id = uuid.uuid4().hex  # unique to this test: no other test can have logged it
    headers = {
        **auth(SECRET_SUB, "student", email="hidden@example.edu", name="Hidden Person"),
        "X-Correlation-ID": "browser-corr-31337",
        "traceparent": f"00-{trace_id}-00f067aa0ba902b7-01",
    }
    token = headers["Authorization"].split()[1]
    created = await stack.client.post("/v1/concerns", json=concern(), headers=headers)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["anonymous"] is True and body["status"] == "received" and body["follow_up_code"]
    code = body["follow_up_code"]
    (event,) = await stack.reader.wait_for(lambda e: e.data.get("concern_id") == body["id"])

    forbidden = [
        SECRET_SUB,
        "hidden@example.edu",
        "Hidden Person",
        "127.0.0.1",
        token,
        "browser-corr-31337",
        trace_id,
        code,
        code.replace("-", ""),
    ]
    # the stored document, and everything else in the service's database
    stored = await stack.db["concerns"].find_one({"_id": body["id"]})
    assert "reporter_id" not in stored and stored["anonymous"] is True
    assert stored["created_at"].minute == 0 and stored["created_at"].second == 0
    for name in await stack.db.list_collection_names():
        dump = repr(await stack.db[name].find({}).to_list(None))
        for value in forbidden:
            assert value not in dump, f"{value!r} found in collection {name}"
    assert "shouted" not in repr(stored)  # encrypted at rest
    # the emitted event: subject is the concern id, no reporter, no text; nor in the Kafka record
    assert event.type == "concern.raised" and event.subject == body["id"]
    assert set(event.data) == {"concern_id", "category", "anonymous", "reported_at"}
    (record,) = [r for r in stack.reader.records if body["id"].encode() in r.value]
    raw = record.value + (record.key or b"") + b"".join(k.encode() + v for k, v in record.headers)
    for value in forbidden:
        assert value.encode() not in raw
    assert b"shouted" not in raw
    # the logs (at DEBUG) and the metrics
    assert stack.logs.lines, "the capture must have seen the service's log lines"
    assert any('"route": "/v1/concerns"' in line for line in stack.logs.lines)
    metrics = generate_latest().decode()
    for value in forbidden:
        assert value not in stack.logs.text
        assert value not in metrics
    # nobody can find the report by the signed-in student
    assert (await stack.client.get("/v1/concerns/mine", headers=headers)).json()["items"] == []
    assert (await stack.client.get(f"/v1/concerns/{body['id']}", headers=headers)).status_code == 404
    officer_view = (await stack.client.get(f"/v1/concerns/{body['id']}", headers=OFFICER)).json()
    assert officer_view["reporter_id"] is None


async def test_anonymous_report_needs_no_token_and_ignores_a_bad_one(stack):
    no_token = await stack.client.post("/v1/concerns", json=concern())
    assert no_token.status_code == 201
    bad_token = await stack.client.post("/v1/concerns", json=concern(), headers={"Authorization": "Bearer junk"})
    assert bad_token.status_code == 201
    named = await stack.client.post("/v1/concerns", json=concern(anonymous=False))
    assert named.status_code == 401 and named.headers["content-type"] == "application/problem+json"


async def test_follow_up_code_flow(stack):
    c = stack.client
    created = (await c.post("/v1/concerns", json=concern())).json()
    code, concern_id = created["follow_up_code"], created["id"]
    typed = code.lower().replace("-", " ")
    status = await c.post("/v1/concerns/follow-up", json={"code": typed})
    assert status.status_code == 200 and status.json()["status"] == "received" and status.json()["messages"] == []

    question = {"message": "Was anyone else there?"}
    keyed = {**OFFICER, "Idempotency-Key": "ask-1"}
    asked = await c.post(f"/v1/concerns/{concern_id}/messages", json=question, headers=keyed)
    assert asked.status_code == 201
    again = await c.post(f"/v1/concerns/{concern_id}/messages", json=question, headers=keyed)  # a retry
    assert again.status_code == 201 and again.json() == asked.json() and len(again.json()["messages"]) == 1
    triaged = await c.patch(
        f"/v1/concerns/{concern_id}",
        json={"status": "under_review", "outcome": "We are looking into it."},
        headers=OFFICER,
    )
    assert triaged.status_code == 200 and triaged.json()["history"][-1]["by"] == "officer-1"
    view = (await c.post("/v1/concerns/follow-up", json={"code": code})).json()
    assert view["status"] == "under_review" and view["outcome"] == "We are looking into it."
    assert view["messages"] == [{"from": "officer", "body": "Was anyone else there?", "at": view["messages"][0]["at"]}]

    answer = {"code": code, "message": "Two nurses."}
    replied = await c.post("/v1/concerns/follow-up/messages", json=answer, headers={"Idempotency-Key": "r-1"})
    assert replied.status_code == 201
    retried = await c.post("/v1/concerns/follow-up/messages", json=answer, headers={"Idempotency-Key": "r-1"})
    assert retried.status_code == 201 and retried.json() == replied.json()
    officer_view = (await c.get(f"/v1/concerns/{concern_id}", headers=OFFICER)).json()
    assert [m["from"] for m in officer_view["messages"]] == ["officer", "reporter"]
    assert officer_view["messages"][1]["body"] == "Two nurses." and officer_view["messages"][1]["officer_id"] is None

    (updated,) = await stack.reader.wait_for(
        lambda e: e.type == "concern.updated" and e.data["concern_id"] == concern_id
    )
    assert updated.subject == concern_id and updated.data["status"] == "under_review"
    assert set(updated.data) == {"concern_id", "category", "status", "anonymous", "updated_at"}


async def test_wrong_codes_all_get_the_same_404(make_stack):
    async with make_stack(follow_up_rate_limit=1000) as stack:
        await _same_404_for_every_wrong_code(stack)


async def _same_404_for_every_wrong_code(stack):
    c = stack.client
    code = (await c.post("/v1/concerns", json=concern())).json()["follow_up_code"]
    last = code[-1]
    near_miss = code[:-1] + next(ch for ch in CODE_ALPHABET if ch != last)
    candidates = [near_miss, new_follow_up_code(), "NOT-A-CODE", "x", "0000-0000-0000-0000", code + "A"]
    bodies = set()
    for candidate in candidates:
        for route, payload in (
            ("/v1/concerns/follow-up", {"code": candidate}),
            ("/v1/concerns/follow-up/messages", {"code": candidate, "message": "hello"}),
        ):
            response = await c.post(route, json=payload)
            assert response.status_code == 404, (candidate, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            bodies.add(response.content)
            assert candidate.encode() not in response.content
    assert len(bodies) == 1, bodies
    assert json.loads(bodies.pop())["detail"] == "no concern matches that code"

    # timing: a near miss costs what a random guess costs (same hash, same indexed look-up)
    async def elapsed(candidate):
        started = time.perf_counter()
        response = await c.post("/v1/concerns/follow-up", json={"code": candidate})
        took = time.perf_counter() - started
        assert response.status_code == 404
        return took

    near, far = [], []
    for _ in range(12):
        near.append(await elapsed(near_miss))
        far.append(await elapsed(new_follow_up_code()))
    assert statistics.median(near) < 4 * statistics.median(far) and statistics.median(far) < 4 * statistics.median(near)


async def test_only_the_concerns_officer_reads_concerns(stack):
    c = stack.client
    anonymous = (await c.post("/v1/concerns", json=concern())).json()
    named = await c.post("/v1/concerns", json=concern(anonymous=False, category="bias"), headers=S1)
    assert named.status_code == 201 and named.json()["follow_up_code"] is None
    named_id = named.json()["id"]
    (raised,) = await stack.reader.wait_for(lambda e: e.data.get("concern_id") == named_id)
    assert raised.data["reporter_id"] == "s1" and raised.data["anonymous"] is False

    for reader in (S1, F1, ADMIN, COUNSELLOR, auth("m1", "mentor")):
        assert (await c.get("/v1/concerns", headers=reader)).status_code == 403
        assert (await c.get(f"/v1/concerns/{anonymous['id']}", headers=reader)).status_code == 404
        assert (
            await c.patch(f"/v1/concerns/{anonymous['id']}", json={"status": "closed"}, headers=reader)
        ).status_code == 403
    for reader in (F1, ADMIN, auth("s2", "student")):
        assert (await c.get(f"/v1/concerns/{named_id}", headers=reader)).status_code == 404
        assert (
            await c.post(f"/v1/concerns/{named_id}/messages", json={"message": "hi"}, headers=reader)
        ).status_code == 404
    assert (await c.get("/v1/concerns")).status_code == 401

    # the named reporter reads their own report and its outcome
    mine = (await c.get("/v1/concerns/mine", headers=S1)).json()["items"]
    assert [m["id"] for m in mine] == [named_id] and "history" not in mine[0]
    listed = (await c.get("/v1/concerns", headers=OFFICER)).json()["items"]
    assert {i["id"] for i in listed} == {anonymous["id"], named_id}
    assert (await c.get("/v1/concerns?category=bias", headers=OFFICER)).json()["items"][0]["id"] == named_id

    # triage moves
    assert (
        await c.patch(f"/v1/concerns/{named_id}", json={"status": "action_taken"}, headers=OFFICER)
    ).status_code == 409
    for step in ("under_review", "action_taken", "closed"):
        moved = await c.patch(f"/v1/concerns/{named_id}", json={"status": step}, headers=OFFICER)
        assert moved.status_code == 200 and moved.json()["status"] == step
    await c.patch(f"/v1/concerns/{named_id}", json={"outcome": "Training arranged."}, headers=OFFICER)
    own = (await c.get(f"/v1/concerns/{named_id}", headers=S1)).json()
    assert own["status"] == "closed" and own["outcome"] == "Training arranged."
    updates = await stack.reader.wait_for(
        lambda e: e.type == "concern.updated" and e.data["concern_id"] == named_id, count=4
    )
    assert [u.data["status"] for u in updates] == ["under_review", "action_taken", "closed", "closed"]
    assert all(u.subject == "s1" for u in updates)


async def test_anonymous_idempotency_returns_the_same_code_without_storing_it(stack):
    key = "retry-me-1-7d3f9a2c51"
    headers = {"Idempotency-Key": key}
    first = await stack.client.post("/v1/concerns", json=concern(), headers=headers)
    again = await stack.client.post("/v1/concerns", json=concern(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers.get("Idempotent-Replayed") == "true"
    # the same key with another body is a fresh report like any other: no 409 telling the key was used
    other = await stack.client.post("/v1/concerns", json=concern(description="Something else"), headers=headers)
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert other.json()["id"] != first.json()["id"] and other.json()["follow_up_code"] != first.json()["follow_up_code"]
    assert await stack.db["concerns"].count_documents({}) == 2
    code = first.json()["follow_up_code"]
    for name in await stack.db.list_collection_names():
        dump = repr(await stack.db[name].find({}).to_list(None))
        assert code not in dump and code.replace("-", "") not in dump and key not in dump


async def test_a_replayed_key_and_body_from_another_client_gets_no_one_elses_code(make_stack):
    async with make_stack(trusted_proxies=["127.0.0.1/32"]) as stack:
        key = {"Idempotency-Key": "predictable-frontend-key-0001"}
        reporter = {**key, "X-Forwarded-For": "203.0.113.10"}
        first = await stack.client.post("/v1/concerns", json=concern(), headers=reporter)
        assert (await stack.client.post("/v1/concerns", json=concern(), headers=reporter)).json() == first.json()
        stranger = await stack.client.post(
            "/v1/concerns", json=concern(), headers={**key, "X-Forwarded-For": "198.51.100.20"}
        )
        assert stranger.status_code == 201 and "Idempotent-Replayed" not in stranger.headers
        assert stranger.json()["follow_up_code"] != first.json()["follow_up_code"]
        assert stranger.json()["id"] != first.json()["id"]
        # a short key is likely predictable: not honoured at all, every post is its own report
        short = {"Idempotency-Key": "1", "X-Forwarded-For": "203.0.113.10"}
        one = await stack.client.post("/v1/concerns", json=concern(), headers=short)
        two = await stack.client.post("/v1/concerns", json=concern(), headers=short)
        assert one.json()["follow_up_code"] != two.json()["follow_up_code"]


async def test_anonymous_submissions_are_rate_limited(make_stack):
    async with make_stack(anonymous_rate_limit=2) as stack:
        for _ in range(2):
            assert (await stack.client.post("/v1/concerns", json=concern())).status_code == 201
        limited = await stack.client.post("/v1/concerns", json=concern())
        assert limited.status_code == 429 and limited.headers["content-type"] == "application/problem+json"
        assert int(limited.headers["Retry-After"]) > 0
        assert await stack.db["concerns"].count_documents({}) == 2
        assert "127.0.0.1" not in generate_latest().decode() and "127.0.0.1" not in stack.logs.text
        # named reports are not throttled by the anonymous limiter
        assert (await stack.client.post("/v1/concerns", json=concern(anonymous=False), headers=S1)).status_code == 201


async def test_follow_up_lookups_are_rate_limited(make_stack):
    async with make_stack(follow_up_rate_limit=3) as stack:
        code = (await stack.client.post("/v1/concerns", json=concern())).json()["follow_up_code"]
        for _ in range(3):
            assert (
                await stack.client.post("/v1/concerns/follow-up", json={"code": new_follow_up_code()})
            ).status_code == 404
        limited = await stack.client.post("/v1/concerns/follow-up", json={"code": code})
        assert limited.status_code == 429 and limited.headers["content-type"] == "application/problem+json"
