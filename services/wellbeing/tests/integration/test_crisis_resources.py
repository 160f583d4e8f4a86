"""Crisis resources reach a student whose answers are urgent whatever else happens: when the database
is down, or the flag cannot be written, the error reply carries them (docs/DOMAIN.md: "The student is shown
crisis resources at once")."""

import asyncio

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from medsupport_shared.testing import auth, eventually
from wellbeing.domain.flags import flag_id_for, flag_raised_event_id

pytestmark = pytest.mark.integration
STUDENT = auth("s1", "student", cohort="2027")
URGENT = {"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 1]}
ELEVATED = {"instrument": "phq9", "answers": [2, 2, 2, 2, 2, 0, 0, 0, 0]}
ROUTINE = {"instrument": "burnout", "answers": [1]}


def mongo_down(*_, **__):
    raise ServerSelectionTimeoutError("127.0.0.1:27017: [Errno 111] Connection refused")


def crisis_resources(wellbeing):
    return [r.model_dump(mode="json") for r in wellbeing.settings.crisis_resources]


def assert_problem(response, status):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"].startswith("https://") and body["title"] and body["detail"]
    return body


def assert_flag_raised_without_store(response, wellbeing, *, recorded):
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["severity"] == "urgent" and body["recorded"] is recorded and body["reasons"] == ["phq9_item9_positive"]
    assert body["crisis_resources"] == crisis_resources(wellbeing) and body["crisis_resources"]
    return body


async def test_database_down_at_insert_still_raises_the_urgent_flag_and_says_nothing_was_recorded(
    wellbeing, monkeypatch
):
    await wellbeing.client.put("/v1/me/consent", json={"store_checkins": True}, headers=STUDENT)
    monkeypatch.setattr(wellbeing.repo, "insert_checkin", mongo_down)
    response = await wellbeing.client.post("/v1/checkins", json=URGENT, headers=STUDENT)
    body = assert_flag_raised_without_store(response, wellbeing, recorded=False)
    [event] = await wellbeing.reader.wait_for(lambda e: e.type == "flag.raised", timeout=30)
    assert event.id == flag_raised_event_id(body["id"]) and event.data["flag_id"] == flag_id_for(body["id"])
    assert event.data["severity"] == "urgent" and event.data["share_with_mentor"] is False


@pytest.mark.parametrize("body", [ROUTINE, ELEVATED], ids=["routine", "elevated"])
async def test_database_down_for_a_check_in_that_is_not_urgent_is_a_plain_503(wellbeing, monkeypatch, body):
    monkeypatch.setattr(wellbeing.repo, "insert_checkin", mongo_down)
    problem = assert_problem(await wellbeing.client.post("/v1/checkins", json=body, headers=STUDENT), 503)
    assert "crisis_resources" not in problem


@pytest.mark.parametrize(
    ("failing", "recorded"),
    [
        ("consent", False),
        ("latest_score", False),
        ("insert_checkin", False),
        ("insert_flag", True),
        ("mark_flag_applied", True),
        ("postpone_reminder", True),
    ],
)
async def test_wherever_the_database_fails_an_urgent_check_in_raises_one_flag_and_says_if_it_was_recorded(
    wellbeing, monkeypatch, failing, recorded
):
    await wellbeing.client.put("/v1/me/consent", json={"store_checkins": True}, headers=STUDENT)
    monkeypatch.setattr(wellbeing.repo, failing, mongo_down)
    response = await wellbeing.client.post("/v1/checkins", json=URGENT, headers=STUDENT)
    body = assert_flag_raised_without_store(response, wellbeing, recorded=recorded)
    assert await wellbeing.repo.checkins.count_documents({"_id": body["id"]}) == (1 if recorded else 0)
    await wellbeing.reader.wait_for(lambda e: e.type == "flag.raised", timeout=30)
    monkeypatch.undo()  # the database is back: the flag is in the queue, raised once, under one id
    flag = await eventually(lambda: wellbeing.repo.flag(flag_id=flag_id_for(body["id"])), timeout=30)
    assert flag.status == "open" and flag.severity == "urgent" and list(flag.checkin_ids) == [body["id"]]
    await eventually(lambda: not list((wellbeing.settings.urgent_spool_path).glob("*.flag")), timeout=30)
    await asyncio.sleep(1)  # a sweep or replay that raised it again would have published by now
    raised = [e for e in wellbeing.reader.events if e.type == "flag.raised"]
    assert {e.id for e in raised} == {flag_raised_event_id(body["id"])}, "one flag.raised id (repeats are dropped)"
    assert await wellbeing.repo.flags.count_documents({"student_id": "s1"}) == 1


async def test_the_idempotency_store_down_still_raises_the_urgent_flag(wellbeing, monkeypatch):
    monkeypatch.setattr(wellbeing.app.state.services.idempotency, "run", mongo_down)
    headers = {**STUDENT, "Idempotency-Key": "k-1"}
    response = await wellbeing.client.post("/v1/checkins", json=URGENT, headers=headers)
    assert_flag_raised_without_store(response, wellbeing, recorded=False)
    plain = assert_problem(await wellbeing.client.post("/v1/checkins", json=ROUTINE, headers=headers), 503)
    assert "crisis_resources" not in plain


async def test_with_no_spool_the_urgent_flag_goes_to_kafka_before_the_answer(wellbeing, monkeypatch):
    unwritable = wellbeing.settings.urgent_spool_path
    unwritable.parent.mkdir(parents=True, exist_ok=True)
    unwritable.write_text("a file where the spool directory should be")
    monkeypatch.setattr(wellbeing.repo, "insert_checkin", mongo_down)
    response = await wellbeing.client.post("/v1/checkins", json=URGENT, headers=STUDENT)
    body = assert_flag_raised_without_store(response, wellbeing, recorded=False)
    # nothing was spooled, so only the request itself can have published it
    await wellbeing.reader.wait_for(lambda e: e.id == flag_raised_event_id(body["id"]), timeout=15)
    assert wellbeing.app.state.runtime.tasks.pending == 0


async def test_a_flag_that_keeps_changing_is_a_409_that_still_carries_the_crisis_resources(wellbeing, monkeypatch):
    async def no_open_flag(**_):
        return None

    async def somebody_else_opened_it(**_):
        return False

    monkeypatch.setattr(wellbeing.repo, "open_flag", no_open_flag)
    monkeypatch.setattr(wellbeing.repo, "insert_flag", somebody_else_opened_it)
    body = assert_problem(await wellbeing.client.post("/v1/checkins", json=URGENT, headers=STUDENT), 409)
    assert body["crisis_resources"] == crisis_resources(wellbeing)
    # The check-in itself was written with its flag pending: the sweep finishes the flag later.
    assert await wellbeing.repo.checkins.count_documents({"student_id": "s1", "flag_pending": True}) == 1


async def test_an_unexpected_error_for_an_urgent_check_in_is_a_500_with_the_crisis_resources(wellbeing, monkeypatch):
    def broken(**_):
        raise RuntimeError("a bug")

    monkeypatch.setattr(wellbeing.repo, "insert_checkin", broken)
    body = assert_problem(await wellbeing.client.post("/v1/checkins", json=URGENT, headers=STUDENT), 500)
    assert body["crisis_resources"] == crisis_resources(wellbeing)
    assert "a bug" not in body["detail"]


async def test_bad_answers_are_still_a_plain_422(wellbeing, monkeypatch):
    monkeypatch.setattr(wellbeing.repo, "insert_checkin", mongo_down)
    bad = {"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 4]}
    body = assert_problem(await wellbeing.client.post("/v1/checkins", json=bad, headers=STUDENT), 422)
    assert "crisis_resources" not in body and body["errors"][0]["loc"] == ["body", "answers", 8]


async def test_the_route_documents_the_crisis_resources_on_its_errors(wellbeing):
    doc = (await wellbeing.client.get("/openapi.json")).json()
    operation = doc["paths"]["/v1/checkins"]["post"]
    assert "crisis_resources" in operation["description"]
    for status in ("409", "500", "503"):
        content = operation["responses"][status]["content"]["application/problem+json"]
        assert content["example"]["crisis_resources"], status
        assert content["schema"] == {"$ref": "#/components/schemas/CheckinProblem"}
    assert "crisis_resources" in doc["components"]["schemas"]["CheckinProblem"]["properties"]
    # A database outage on other routes is a 503 too, with nothing about crisis resources.
    assert "503" in doc["paths"]["/v1/checkins"]["get"]["responses"]
