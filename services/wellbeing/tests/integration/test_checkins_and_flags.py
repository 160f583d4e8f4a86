"""Check-ins and flags over HTTP, the real database and the real broker."""

import json
from datetime import timedelta

import pytest

from medsupport_shared.testing import auth, eventually

pytestmark = pytest.mark.integration
ITEM9 = [1, 1, 0, 1, 0, 0, 0, 0, 2]
STUDENT = auth("s1", "student", cohort="2027")


async def consent(client, headers=STUDENT, store=True):
    response = await client.put("/v1/me/consent", json={"store_checkins": store}, headers=headers)
    assert response.status_code == 200


async def test_item9_positive_raises_exactly_one_urgent_flag_without_answers_or_note(wellbeing):
    await consent(wellbeing.client)
    response = await wellbeing.client.post(
        "/v1/checkins", headers=STUDENT, json={"instrument": "phq9", "answers": ITEM9, "note": "secret-note-xyz"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["severity"], body["reasons"], body["score"], body["band"]) == (
        "urgent",
        ["phq9_item9_positive"],
        5,
        "mild",
    )
    assert body["crisis_resources"] and body["stored"] is True
    raised = await wellbeing.reader.wait_for(lambda e: e.type == "flag.raised")
    assert raised[0].data["severity"] == "urgent" and raised[0].data["reasons"] == ["phq9_item9_positive"]
    assert raised[0].data["cohort"] == "2027" and raised[0].subject == "s1"
    # A second worrying check-in updates the open flag instead of raising another.
    second = await wellbeing.client.post(
        "/v1/checkins", headers=STUDENT, json={"instrument": "gad7", "answers": [2, 2, 2, 2, 1, 1, 1]}
    )
    assert second.json()["severity"] == "elevated"
    updated = await wellbeing.reader.wait_for(lambda e: e.type == "flag.updated")
    assert updated[0].data["flag_id"] == raised[0].data["flag_id"]
    assert updated[0].data["severity"] == "urgent"  # severity never falls while open
    assert updated[0].data["reasons"] == ["phq9_item9_positive", "gad7_moderate"]
    await eventually(lambda: len([e for e in wellbeing.reader.events if e.type == "checkin.recorded"]) == 2)
    assert len([e for e in wellbeing.reader.events if e.type == "flag.raised"]) == 1
    everything = b"".join(r.value for r in wellbeing.reader.records)
    assert b"secret-note-xyz" not in everything and b'"answers"' not in everything
    queue = await wellbeing.client.get("/v1/flags?status=open", headers=auth("c1", "counsellor"))
    assert [f["id"] for f in queue.json()["items"]] == [raised[0].data["flag_id"]]


async def test_note_is_encrypted_at_rest_and_readable_by_the_student(wellbeing):
    await consent(wellbeing.client)
    created = await wellbeing.client.post(
        "/v1/checkins", headers=STUDENT, json={"instrument": "who5", "answers": [3, 3, 3, 3, 3], "note": "tired"}
    )
    stored = await wellbeing.repo.checkins.find_one({"_id": created.json()["id"]})
    assert stored["note"] and "tired" not in stored["note"]
    mine = await wellbeing.client.get("/v1/checkins", headers=STUDENT)
    assert mine.json()["items"][0]["note"] == "tired"


@pytest.mark.parametrize(
    "body",
    [
        {"instrument": "phq9", "answers": [0] * 8},
        {"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 4]},
        {"instrument": "who5", "answers": [6, 0, 0, 0, 0]},
        {"instrument": "nope", "answers": [1]},
        {"instrument": "phq9", "answers": ["a", 0, 0, 0, 0, 0, 0, 0, 0]},
        {"instrument": "phq9"},
        {"answers": [0] * 9},
        {"instrument": "phq9", "answers": [0] * 9, "note": "x" * 5000},
        {"instrument": "phq2", "answers": [1.5, 1]},
        {"instrument": "phq2", "answers": [1, 1], "mood": "fine"},  # an unknown field is refused, not dropped
    ],
)
async def test_bad_input_is_422_and_stores_and_emits_nothing(wellbeing, body):
    await consent(wellbeing.client)
    response = await wellbeing.client.post("/v1/checkins", json=body, headers=STUDENT)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"]
    assert await wellbeing.repo.checkins.count_documents({}) == 0
    ok = await wellbeing.client.post("/v1/checkins", json={"instrument": "burnout", "answers": [1]}, headers=STUDENT)
    await wellbeing.reader.wait_for(lambda e: e.data.get("checkin_id") == ok.json()["id"])
    assert [e.type for e in wellbeing.reader.events] == ["checkin.recorded"]


@pytest.mark.parametrize(
    ("answers", "item"),
    [
        ([0, 0, 0, 0, 0, 0, 0, 0, True], 8),
        ([0, "2", 0, 0, 0, 0, 0, 0, 0], 1),
        ([0, 0, 0, 1.0, 0, 0, 0, 0, 0], 3),
        ([False, 0, 0, 0, 0, 0, 0, 0, 0], 0),
    ],
)
async def test_answers_are_strict_integers_not_coerced_booleans_strings_or_floats(wellbeing, answers, item):
    """JSON ``true`` or ``"2"`` is not an answer: it would be scored as 1 or 2 without this."""
    await consent(wellbeing.client)
    response = await wellbeing.client.post(
        "/v1/checkins", headers=STUDENT, json={"instrument": "phq9", "answers": answers}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["loc"] for e in response.json()["errors"]] == [["body", "answers", item]]
    assert await wellbeing.repo.checkins.count_documents({}) == 0
    assert await wellbeing.repo.flags.count_documents({}) == 0
    ok = await wellbeing.client.post("/v1/checkins", json={"instrument": "burnout", "answers": [1]}, headers=STUDENT)
    await wellbeing.reader.wait_for(lambda e: e.data.get("checkin_id") == ok.json()["id"])
    assert [e.type for e in wellbeing.reader.events] == ["checkin.recorded"]


async def test_bad_item_is_named_in_the_error(wellbeing):
    response = await wellbeing.client.post(
        "/v1/checkins", headers=STUDENT, json={"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 7]}
    )
    assert response.json()["errors"][0]["loc"] == ["body", "answers", 8]


async def test_without_consent_answers_are_not_kept_but_an_urgent_flag_is_still_raised(wellbeing):
    response = await wellbeing.client.post(
        "/v1/checkins", headers=STUDENT, json={"instrument": "phq9", "answers": ITEM9, "note": "private"}
    )
    assert response.status_code == 201 and response.json()["stored"] is False
    assert response.json()["crisis_resources"]
    await wellbeing.reader.wait_for(lambda e: e.type == "flag.raised")
    assert (await wellbeing.client.get("/v1/checkins", headers=STUDENT)).json()["items"] == []
    async for doc in wellbeing.repo.checkins.find({}):
        assert "answers" not in doc and "note" not in doc and "score" not in doc


async def test_trend_rules_across_consecutive_checkins(wellbeing):
    await consent(wellbeing.client)
    first = await wellbeing.client.post(
        "/v1/checkins", headers=STUDENT, json={"instrument": "who5", "answers": [4, 4, 4, 4, 4]}
    )
    second = await wellbeing.client.post(
        "/v1/checkins", headers=STUDENT, json={"instrument": "who5", "answers": [4, 4, 3, 3, 3]}
    )
    assert first.json()["severity"] == "none"
    assert (second.json()["severity"], second.json()["reasons"]) == ("elevated", ["who5_decline"])
    trend = await wellbeing.client.get("/v1/me/trend", headers=STUDENT)
    assert [p["percentage"] for p in trend.json()["instruments"]["who5"]] == [80, 68]
    assert trend.json()["changes"]["who5"] == -3
    only = await wellbeing.client.get("/v1/me/trend?instrument=who5", headers=STUDENT)
    assert list(only.json()["instruments"]) == ["who5"]
    for route in ("/v1/me/trend", "/v1/checkins"):  # an unknown instrument is a 422, as on POST
        unknown = await wellbeing.client.get(f"{route}?instrument=bogus", headers=STUDENT)
        assert unknown.status_code == 422 and unknown.json()["errors"][0]["loc"] == ["query", "instrument"]


async def test_the_decline_compares_with_the_newest_stored_score_even_without_its_pointer(wellbeing):
    """The newest score is read by key; a check-in stored before the pointer existed (or by a process
    that stopped between the two writes) is still found in the check-ins themselves."""
    await consent(wellbeing.client)
    await wellbeing.client.post("/v1/checkins", headers=STUDENT, json={"instrument": "who5", "answers": [3] * 5})
    newest = await wellbeing.client.post(
        "/v1/checkins", headers=STUDENT, json={"instrument": "who5", "answers": [4] * 5}
    )
    pointer = await wellbeing.repo.latest_scores.find_one({"student_id": "s1", "instrument": "who5"})
    assert (pointer["score"], pointer["percentage"]) == (20, 80)
    older = {**pointer, "score": 25, "percentage": 100, "recorded_at": pointer["recorded_at"] - timedelta(hours=1)}
    await wellbeing.repo.remember_latest_score(checkin=older)  # an older check-in finishing late changes nothing
    assert (await wellbeing.repo.latest_scores.find_one({"_id": pointer["_id"]}))["percentage"] == 80

    await wellbeing.repo.latest_scores.delete_many({})
    declined = await wellbeing.client.post(
        "/v1/checkins", headers=STUDENT, json={"instrument": "who5", "answers": [4, 4, 3, 3, 3]}
    )
    assert newest.json()["severity"] == "none"
    assert (declined.json()["severity"], declined.json()["reasons"]) == ("elevated", ["who5_decline"])
    assert (await wellbeing.repo.latest_scores.find_one({"_id": pointer["_id"]}))["percentage"] == 68


async def test_a_flag_pending_after_a_crash_is_raised_by_the_sweep(wellbeing):
    from medsupport_shared.events import utcnow

    now = utcnow()
    await wellbeing.repo.checkins.insert_one(
        {
            "_id": "crashed-1",
            "student_id": "s9",
            "cohort": "2027",
            "instrument": "phq9",
            "severity": "urgent",
            "reasons": ["phq9_item9_positive"],
            "priority": 10,
            "recorded_at": now,
            "created_at": now,
            "stored": False,
            "flag_pending": True,
            "outbox": [],
        }
    )
    raised = await wellbeing.reader.wait_for(lambda e: e.type == "flag.raised" and e.subject == "s9")
    await eventually(lambda: wellbeing.repo.checkins.find_one({"_id": "crashed-1", "flag_pending": False}))
    assert len([e for e in wellbeing.reader.events if e.type == "flag.raised"]) == 1
    assert raised[0].data["severity"] == "urgent"


async def test_resolving_a_flag_emits_flag_resolved_and_a_new_checkin_opens_a_new_flag(wellbeing):
    first = await wellbeing.client.post("/v1/checkins", headers=STUDENT, json={"instrument": "phq9", "answers": ITEM9})
    raised = await wellbeing.reader.wait_for(lambda e: e.type == "flag.raised")
    flag_id = raised[0].data["flag_id"]
    assert first.status_code == 201
    resolved = await wellbeing.client.post(
        f"/v1/flags/{flag_id}/resolve",
        headers=auth("c1", "counsellor"),
        json={"outcome": "contacted", "note": "called"},
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert (resolved.json()["resolution_note"], resolved.json()["resolved_by"]) == ("called", "c1")
    read_back = await wellbeing.client.get(f"/v1/flags/{flag_id}", headers=auth("c2", "counsellor"))
    assert read_back.json()["resolution_note"] == "called"  # readable back by counselling roles
    stored = await wellbeing.repo.flags.find_one({"_id": flag_id})
    assert stored["resolution_note"] and "called" not in stored["resolution_note"]  # encrypted at rest
    again = await wellbeing.client.post(
        f"/v1/flags/{flag_id}/resolve", headers=auth("c1", "counsellor"), json={"outcome": "contacted"}
    )
    assert again.status_code == 409
    event = (await wellbeing.reader.wait_for(lambda e: e.type == "flag.resolved"))[0]
    assert event.data["outcome"] == "contacted" and "called" not in json.dumps(event.data)
    await wellbeing.client.post("/v1/checkins", headers=STUDENT, json={"instrument": "phq9", "answers": ITEM9})
    raised = await wellbeing.reader.wait_for(lambda e: e.type == "flag.raised", count=2)
    assert raised[1].data["flag_id"] != flag_id


async def test_idempotency_key_replays_the_first_checkin(wellbeing):
    headers = {**STUDENT, "Idempotency-Key": "retry-1"}
    body = {"instrument": "burnout", "answers": [2]}
    first = await wellbeing.client.post("/v1/checkins", json=body, headers=headers)
    second = await wellbeing.client.post("/v1/checkins", json=body, headers=headers)
    assert first.json() == second.json() and second.headers.get("Idempotent-Replayed") == "true"
    assert await wellbeing.repo.checkins.count_documents({}) == 1
    conflict = await wellbeing.client.post(
        "/v1/checkins", json={"instrument": "burnout", "answers": [3]}, headers=headers
    )
    assert conflict.status_code == 409


async def test_phq9_rise_of_five_between_consecutive_checkins_raises_an_elevated_flag(wellbeing):
    """docs/DOMAIN.md: PHQ-9 rise ≥ 5 between consecutive check-ins is elevated (``phq9_rise``), even when
    the new total is below the screening cut-off of 10; a rise of 4 is not."""
    await consent(wellbeing.client)

    async def phq9(answers):
        response = await wellbeing.client.post(
            "/v1/checkins", headers=STUDENT, json={"instrument": "phq9", "answers": answers}
        )
        assert response.status_code == 201, response.text
        return response.json()

    base = await phq9([0] * 9)
    risen_by_four = await phq9([1, 1, 1, 1, 0, 0, 0, 0, 0])
    risen_by_five = await phq9([2, 2, 1, 1, 1, 1, 1, 0, 0])
    assert [c["score"] for c in (base, risen_by_four, risen_by_five)] == [0, 4, 9]
    assert (base["severity"], risen_by_four["severity"]) == ("none", "none")
    assert (risen_by_five["severity"], risen_by_five["reasons"], risen_by_five["band"]) == (
        "elevated",
        ["phq9_rise"],
        "mild",
    )
    assert risen_by_five["crisis_resources"] is None
    raised = await wellbeing.reader.wait_for(lambda e: e.type == "flag.raised")
    assert (raised[0].data["severity"], raised[0].data["reasons"]) == ("elevated", ["phq9_rise"])
    assert raised[0].data["instrument"] == "phq9" and raised[0].subject == "s1"
    queue = await wellbeing.client.get("/v1/flags", headers=auth("c1", "counsellor"))
    assert [(f["student_id"], f["reasons"]) for f in queue.json()["items"]] == [("s1", ["phq9_rise"])]
    await eventually(lambda: len([e for e in wellbeing.reader.events if e.type == "checkin.recorded"]) == 3)
    assert len([e for e in wellbeing.reader.events if e.type.startswith("flag.")]) == 1
