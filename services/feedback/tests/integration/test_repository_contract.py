"""The in-memory fakes of tests/unit keep the real repositories' contract: the same calls on the real database
(through FerretDB) and on the fakes give the same answers, so use-case unit tests over the fakes mean something."""

import uuid
from datetime import timedelta

import pytest

from feedback.concern_repository import ConcernRepository
from feedback.repository import FeedbackRepository
from medsupport_shared.events import utcnow

from ..unit.fakes import FakeConcernRepository, FakeFeedbackRepository


@pytest.fixture(params=["real", "fake"])
async def repos(request, make_stack):
    if request.param == "fake":
        yield FakeFeedbackRepository(), FakeConcernRepository()
        return
    async with make_stack(overdue_sweep_interval_seconds=3600) as stack:  # no sweep racing the test
        yield FeedbackRepository(stack.db), ConcernRepository(stack.db)


def a_request(student_id="s1", assessor_id="dr-a", **overrides):
    now = utcnow().replace(microsecond=0)  # the database keeps milliseconds
    return {
        "_id": uuid.uuid4().hex,
        "student_id": student_id,
        "assessor_id": assessor_id,
        "context_kind": "encounter",
        "context_id": "lp-1",
        "context_key": "encounter:lp-1",
        "context_label": None,
        "note": None,
        "status": "open",
        "created_at": now,
        "due_at": now + timedelta(days=7),
        "overdue_emitted": False,
        **overrides,
    }


def a_concern(anonymous, **overrides):
    now = utcnow().replace(microsecond=0)
    return {
        "_id": uuid.uuid4().hex,
        "category": "bias",
        "anonymous": anonymous,
        "description": "x",
        "when": "y",
        "where": "z",
        "status": "received",
        "messages": [],
        "history": [{"status": "received", "at": now, "by": None}],
        "created_at": now,
        "updated_at": now,
        **overrides,
    }


async def test_a_request_closes_once_and_lists_by_whom_and_status(repos):
    repo, _ = repos
    first, second = a_request(), a_request(assessor_id="dr-b")
    assert await repo.insert_request(document=first, entries=[])
    assert await repo.insert_request(document=second, entries=[])

    assert await repo.close_request(request_id=first["_id"], changes={"status": "cancelled"}) is True
    assert await repo.close_request(request_id=first["_id"], changes={"status": "fulfilled"}) is False
    assert (await repo.get_request(request_id=first["_id"])).status == "cancelled"
    assert await repo.get_request(request_id="missing") is None

    mine, _ = await repo.list_requests(student_id="s1", limit=None, cursor=None)
    assert {r.id for r in mine} == {first["_id"], second["_id"]}
    assigned, _ = await repo.list_requests(assessor_id="dr-b", status="open", limit=None, cursor=None)
    assert [r.id for r in assigned] == [second["_id"]]
    assert (await repo.list_requests(assessor_id="dr-a", status="open", limit=None, cursor=None))[0] == []


async def test_the_overdue_mark_is_written_once_and_only_while_open(repos):
    repo, _ = repos
    now = utcnow()
    due, closed = a_request(due_at=now - timedelta(hours=1)), a_request(due_at=now - timedelta(hours=1))
    await repo.insert_request(document=due, entries=[])
    await repo.insert_request(document=closed, entries=[])
    await repo.close_request(request_id=closed["_id"], changes={"status": "cancelled"})

    assert [r.id for r in await repo.due_requests(now=now) if r.id in (due["_id"], closed["_id"])] == [due["_id"]]
    assert await repo.mark_overdue(request_id=due["_id"], overdue_at=now, entries=[]) is True
    assert await repo.mark_overdue(request_id=due["_id"], overdue_at=now, entries=[]) is False
    assert await repo.mark_overdue(request_id=closed["_id"], overdue_at=now, entries=[]) is False
    assert due["_id"] not in [r.id for r in await repo.due_requests(now=now)]


async def test_triage_writes_only_against_the_status_read(repos):
    _, concerns = repos
    concern = a_concern(anonymous=False, reporter_id="s1")
    await concerns.insert(document=concern, entries=[])
    move = {"status": "under_review", "at": concern["created_at"], "by": "officer-1"}

    stale = await concerns.triage(
        concern_id=concern["_id"],
        expected_status="closed",
        changes={"status": "under_review"},
        history=move,
        entries=[],
    )
    assert stale is None
    moved = await concerns.triage(
        concern_id=concern["_id"],
        expected_status="received",
        changes={"status": "under_review"},
        history=move,
        entries=[],
    )
    assert moved.status == "under_review"
    assert [h["status"] for h in moved.history] == ["received", "under_review"]
    kept = await concerns.triage(
        concern_id=concern["_id"], expected_status="under_review", changes={"outcome": "o"}, history=None, entries=[]
    )
    assert kept.status == "under_review" and len(kept.history) == 2 and kept.outcome == "o"


async def test_codes_find_anonymous_reports_and_names_find_named_ones(repos):
    _, concerns = repos
    anonymous = a_concern(anonymous=True, code_hash=uuid.uuid4().hex)
    named = a_concern(anonymous=False, reporter_id="s9", code_hash=uuid.uuid4().hex)
    for document in (anonymous, named):
        await concerns.insert(document=document, entries=[])

    assert (await concerns.by_code_hash(code_hash=anonymous["code_hash"])).id == anonymous["_id"]
    assert await concerns.by_code_hash(code_hash=named["code_hash"]) is None
    mine, _ = await concerns.named_by(reporter_id="s9", limit=None, cursor=None)
    assert [c.id for c in mine] == [named["_id"]]

    with_message = await concerns.append_message(
        concern_id=named["_id"],
        message={"id": "m1", "from": "reporter", "body": "b", "at": named["created_at"]},
        at=named["created_at"],
    )
    assert [m.sender for m in with_message.messages] == ["reporter"]
    assert await concerns.append_message(concern_id="missing", message={}, at=named["created_at"]) is None
