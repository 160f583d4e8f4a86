"""Concern reports and their triage, as use cases over the in-memory fakes (the same flows run on the real
Kafka and database in tests/integration)."""

import json
from datetime import timedelta

import pytest

from feedback import concern_escalation, concerns
from feedback.concern_schemas import ConcernCreate, TriageIn
from medsupport_shared import correlation
from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, NotFound, TooManyRequests

from .fakes import fake_context

OFFICER = Principal(sub="officer-1", roles=frozenset({"concerns_officer"}))
SECOND_OFFICER = Principal(sub="officer-2", roles=frozenset({"concerns_officer"}))
STUDENT = Principal(sub="student-1", roles=frozenset({"student"}))


def report(anonymous: bool) -> ConcernCreate:
    body = {
        "category": "mistreatment",
        "description": "Shouted at on the ward round.",
        "when": "Tuesday",
        "where": "Ward 7B",
        "anonymous": anonymous,
    }
    return ConcernCreate.model_validate_json(json.dumps(body))


def move(status: str | None = None, outcome: str | None = None) -> TriageIn:
    return TriageIn.model_validate_json(json.dumps({"status": status, "outcome": outcome}))


async def named_concern(ctx) -> str:
    created = await concerns.raise_named_concern(ctx=ctx, principal=STUDENT, body=report(anonymous=False))
    return created["id"]


async def test_triage_moves_forward_and_reopens_with_history_and_events():
    ctx = fake_context()
    concern_id = await named_concern(ctx)
    for status in ("under_review", "action_taken", "closed", "under_review"):
        view = await concerns.triage(ctx=ctx, principal=OFFICER, concern_id=concern_id, body=move(status))
        assert view["status"] == status

    assert [h["status"] for h in view["history"]] == [
        "received",
        "under_review",
        "action_taken",
        "closed",
        "under_review",
    ]
    assert view["history"][-1]["by"] == OFFICER.sub
    updates = ctx.outbox.of_type("concern.updated")
    assert [e.data["status"] for e in updates] == ["under_review", "action_taken", "closed", "under_review"]
    assert all(e.data["reporter_id"] == STUDENT.sub for e in updates)  # named: the reporter hears of it


@pytest.mark.parametrize(
    ("path", "refused"),
    [((), "action_taken"), (("under_review", "action_taken", "closed"), "action_taken"), (("closed",), "received")],
)
async def test_a_move_the_rules_do_not_allow_is_a_conflict_and_changes_nothing(path, refused):
    ctx = fake_context()
    concern_id = await named_concern(ctx)
    for status in path:
        await concerns.triage(ctx=ctx, principal=OFFICER, concern_id=concern_id, body=move(status))
    before = json.dumps(ctx.concerns.concerns[concern_id], default=str)

    with pytest.raises(Conflict, match="can move to"):
        await concerns.triage(ctx=ctx, principal=OFFICER, concern_id=concern_id, body=move(refused))

    assert json.dumps(ctx.concerns.concerns[concern_id], default=str) == before
    assert len(ctx.outbox.of_type("concern.updated")) == len(path)


async def test_a_move_against_a_status_another_officer_changed_meanwhile_is_a_conflict():
    ctx = fake_context()
    concern_id = await named_concern(ctx)
    read = ctx.concerns.get

    async def read_then_someone_else_moves(*, concern_id):
        found = await read(concern_id=concern_id)
        ctx.concerns.concerns[concern_id]["status"] = "closed"  # the second officer, between read and write
        return found

    ctx.concerns.get = read_then_someone_else_moves
    with pytest.raises(Conflict, match="changed meanwhile"):
        await concerns.triage(ctx=ctx, principal=SECOND_OFFICER, concern_id=concern_id, body=move("under_review"))
    assert ctx.outbox.of_type("concern.updated") == []


async def test_an_outcome_alone_keeps_the_status_and_reaches_the_reporter():
    ctx = fake_context()
    concern_id = await named_concern(ctx)
    await concerns.triage(ctx=ctx, principal=OFFICER, concern_id=concern_id, body=move(outcome="Met the registrar."))

    mine = await concerns.get_concern(ctx=ctx, principal=STUDENT, concern_id=concern_id)
    assert mine["status"] == "received" and mine["outcome"] == "Met the registrar."
    assert "history" not in mine and "reporter_id" not in mine
    [update] = ctx.outbox.of_type("concern.updated")
    assert update.data["status"] == "received"
    with pytest.raises(NotFound):
        await concerns.triage(ctx=ctx, principal=OFFICER, concern_id="nope", body=move("closed"))


async def test_an_anonymous_report_keeps_no_identity_no_correlation_and_only_hours():
    ctx = fake_context()
    correlation.bind("browser-correlation-id")
    created, replayed = await concerns.raise_anonymous_concern(
        ctx=ctx, body=report(anonymous=True), client="203.0.113.9", idempotency_key=None
    )
    assert not replayed and created["follow_up_code"]

    stored = ctx.concerns.concerns[created["id"]]
    assert "reporter_id" not in stored
    assert created["follow_up_code"] not in json.dumps(stored, default=str)  # only its keyed hash
    assert stored["created_at"].minute == stored["created_at"].second == stored["created_at"].microsecond == 0
    [entry] = stored["outbox"]
    assert entry["correlation_id"] is None and entry["traceparent"] is None
    [raised] = ctx.outbox.of_type("concern.raised")
    assert raised.data.get("reporter_id") is None and raised.time == stored["created_at"]

    followed = await concerns.follow_up(ctx=ctx, code=created["follow_up_code"], client="203.0.113.9")
    assert followed["id"] == created["id"]
    with pytest.raises(NotFound, match="no concern matches"):
        await concerns.follow_up(ctx=ctx, code="WRONG-CODE-0000-0000", client="203.0.113.9")


async def test_anonymous_reports_per_client_are_limited():
    ctx = fake_context(anonymous_rate_limit=1)
    await concerns.raise_anonymous_concern(ctx=ctx, body=report(True), client="a", idempotency_key=None)
    with pytest.raises(TooManyRequests):
        await concerns.raise_anonymous_concern(ctx=ctx, body=report(True), client="a", idempotency_key=None)
    await concerns.raise_anonymous_concern(ctx=ctx, body=report(True), client="b", idempotency_key=None)
    assert len(ctx.concerns.concerns) == 2


async def test_an_untriaged_concern_is_escalated_once():
    ctx = fake_context(concern_triage_hours=1)
    concern_id = await named_concern(ctx)
    later = ctx.concerns.concerns[concern_id]["created_at"] + timedelta(hours=2)
    assert await concern_escalation.sweep_untriaged(ctx, now=later) == 1
    assert await concern_escalation.sweep_untriaged(ctx, now=later) == 0
    [overdue] = ctx.outbox.of_type("concern.triage_overdue")
    assert overdue.id == concern_escalation.triage_overdue_event_id(concern_id)
