"""A suggestion from posted to done with students seeing it: named and anonymous, one vote each, staff
responses and status, the published board, and what the database and the events hold."""

import pytest

from medsupport_shared.testing import auth

pytestmark = pytest.mark.integration

ADMIN, DIRECTOR = auth("a1", "admin"), auth("d1", "clerkship_director")
S1, S2, S3 = auth("s1", "student"), auth("s2", "student"), auth("s3", "student")
PROGRAMME = "MBBS 2027"
BOARD = "/v1/programmes/MBBS%202027/you-said-we-did"


def idea(anonymous, title="Protected teaching time"):
    return {"programme": PROGRAMME, "title": title, "body": "Keep one session a week.", "anonymous": anonymous}


async def test_a_suggestion_goes_from_posted_to_done_and_students_see_it(stack):
    c = stack.client
    named = await c.post("/v1/suggestions", json=idea(False), headers={**S1, "Idempotency-Key": "suggest-0001-abcd"})
    assert named.status_code == 201, named.text
    again = await c.post("/v1/suggestions", json=idea(False), headers={**S1, "Idempotency-Key": "suggest-0001-abcd"})
    assert again.json()["id"] == named.json()["id"]
    anon = await c.post("/v1/suggestions", json=idea(True, "Quiet room on ward 7"), headers=S2)
    assert anon.status_code == 201 and anon.json()["author_id"] is None
    sid, aid = named.json()["id"], anon.json()["id"]

    stored = await stack.db["suggestions"].find_one({"_id": aid})
    assert "author_id" not in stored and stored["created_at"].minute == 0
    assert "s2" not in stored.values() and stored["history"][0]["by"] is None  # (ciphertext may hold "s2" by chance)
    assert await stack.db["idempotency_keys"].count_documents({}) == 1  # the named one only

    for who in (S1, S2, S3):
        assert (await c.post(f"/v1/suggestions/{sid}/votes", headers=who)).status_code == 200
    twice = await c.post(f"/v1/suggestions/{sid}/votes", headers=S2)
    assert twice.status_code == 409
    assert [set(v) for v in await stack.db["suggestion_votes"].find({}).to_list(None)] == [{"_id"}] * 3

    assert (await c.patch(f"/v1/suggestions/{sid}", json={"status": "planned"}, headers=S1)).status_code == 403
    skip = await c.patch(f"/v1/suggestions/{sid}", json={"status": "done"}, headers=ADMIN)
    assert skip.status_code == 409
    planned = await c.patch(
        f"/v1/suggestions/{sid}", json={"status": "planned", "response": "From block 4."}, headers=DIRECTOR
    )
    assert planned.status_code == 200, planned.text
    done = await c.patch(
        f"/v1/suggestions/{sid}", json={"status": "done", "response": "Done: Thursdays."}, headers=ADMIN
    )
    assert done.json()["status"] == "done"
    no_reason = await c.patch(f"/v1/suggestions/{aid}", json={"status": "declined"}, headers=ADMIN)
    assert no_reason.status_code == 422
    declined = await c.patch(
        f"/v1/suggestions/{aid}", json={"status": "declined", "reason": "The ward has no free room."}, headers=ADMIN
    )
    assert declined.status_code == 200

    board = (await c.get(BOARD, headers=S3)).json()["items"]
    assert {(i["id"], i["status"]) for i in board} == {(sid, "done"), (aid, "declined")}
    shown = next(i for i in board if i["id"] == sid)
    assert shown["response"] == "Done: Thursdays." and shown["votes"] == 3
    assert next(i for i in board if i["id"] == aid)["decline_reason"] == "The ward has no free room."

    updates = await stack.reader.wait_for(lambda e: e.type == "suggestion.updated", count=3)
    named_updates = [e for e in updates if e.data["suggestion_id"] == sid]
    assert [e.data["status"] for e in named_updates] == ["planned", "done"]
    assert all(e.data["author_id"] == "s1" and e.subject == "s1" for e in named_updates)
    (anon_update,) = [e for e in updates if e.data["suggestion_id"] == aid]
    assert "author_id" not in anon_update.data and anon_update.subject == aid and anon_update.time.minute == 0
