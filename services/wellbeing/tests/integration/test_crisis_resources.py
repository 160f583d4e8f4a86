"""Crisis resources reach a student whose answers are urgent whatever else happens: when the database
is down, or the flag cannot be written, the error reply carries them (docs/DOMAIN.md: "The student is shown
crisis resources at once")."""

import pytest
from pymongo.errors import ServerSelectionTimeoutError

from medsupport_shared.testing import auth

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


async def test_database_down_at_insert_still_gives_an_urgent_student_the_crisis_resources(wellbeing, monkeypatch):
    await wellbeing.client.put("/v1/me/consent", json={"store_checkins": True}, headers=STUDENT)
    monkeypatch.setattr(wellbeing.repo, "insert_checkin", mongo_down)
    body = assert_problem(await wellbeing.client.post("/v1/checkins", json=URGENT, headers=STUDENT), 503)
    assert body["crisis_resources"] == crisis_resources(wellbeing) and body["crisis_resources"]
    assert "answers" not in body and "score" not in body  # nothing else of the check-in leaks into the error


@pytest.mark.parametrize("body", [ROUTINE, ELEVATED], ids=["routine", "elevated"])
async def test_database_down_for_a_check_in_that_is_not_urgent_is_a_plain_503(wellbeing, monkeypatch, body):
    monkeypatch.setattr(wellbeing.repo, "insert_checkin", mongo_down)
    problem = assert_problem(await wellbeing.client.post("/v1/checkins", json=body, headers=STUDENT), 503)
    assert "crisis_resources" not in problem


@pytest.mark.parametrize(
    "failing",
    ["consent", "latest_score", "insert_checkin", "insert_flag", "mark_flag_applied", "postpone_reminder"],
)
async def test_wherever_the_database_fails_an_urgent_reply_carries_the_crisis_resources(
    wellbeing, monkeypatch, failing
):
    monkeypatch.setattr(wellbeing.repo, failing, mongo_down)
    body = assert_problem(await wellbeing.client.post("/v1/checkins", json=URGENT, headers=STUDENT), 503)
    assert body["crisis_resources"] == crisis_resources(wellbeing)


async def test_the_idempotency_store_down_still_gives_the_crisis_resources(wellbeing, monkeypatch):
    monkeypatch.setattr(wellbeing.app.state.services.idempotency, "run", mongo_down)
    headers = {**STUDENT, "Idempotency-Key": "k-1"}
    body = assert_problem(await wellbeing.client.post("/v1/checkins", json=URGENT, headers=headers), 503)
    assert body["crisis_resources"] == crisis_resources(wellbeing)
    plain = assert_problem(await wellbeing.client.post("/v1/checkins", json=ROUTINE, headers=headers), 503)
    assert "crisis_resources" not in plain


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
