"""The resource catalogue over HTTP and the real database, and the resources a worrying check-in answers with."""

import pytest

from medsupport_shared.testing import auth

pytestmark = pytest.mark.integration
LEAD, STUDENT = auth("l1", "wellbeing_lead"), auth("s1", "student", cohort="2027")
GAD7_MODERATE = [2, 2, 2, 2, 1, 1, 1]
ITEM9 = [0, 0, 0, 0, 0, 0, 0, 0, 1]


def resource(name, kind, needs, audiences=("all",)):
    return {"name": name, "kind": kind, "needs": list(needs), "audiences": list(audiences)}


async def test_keepers_write_everyone_reads_and_check_ins_are_answered_from_the_catalogue(wellbeing):
    client = wellbeing.client
    body = resource("Anxiety workshop", "workshop", ["anxiety"], ["student"])
    assert (await client.post("/v1/resources", headers=STUDENT, json=body)).status_code == 403
    workshop = await client.post("/v1/resources", headers={**LEAD, "Idempotency-Key": "k1"}, json=body)
    again = await client.post("/v1/resources", headers={**LEAD, "Idempotency-Key": "k1"}, json=body)
    assert workshop.status_code == 201 and again.json()["id"] == workshop.json()["id"]
    crisis = await client.post("/v1/resources", headers=LEAD, json=resource("Night line", "crisis_line", ["crisis"]))
    await client.post("/v1/resources", headers=LEAD, json=resource("Sleep guide", "self_help", ["sleep"]))
    listed = (await client.get("/v1/resources?need=anxiety", headers=STUDENT)).json()["items"]
    assert [r["name"] for r in listed] == ["Anxiety workshop"]

    elevated = await client.post("/v1/checkins", headers=STUDENT, json={"instrument": "gad7", "answers": GAD7_MODERATE})
    assert elevated.status_code == 201, elevated.text
    assert [r["name"] for r in elevated.json()["resources"]] == ["Anxiety workshop"]
    assert elevated.json()["crisis_resources"] is None

    urgent = await client.post("/v1/checkins", headers=STUDENT, json={"instrument": "phq9", "answers": ITEM9})
    assert urgent.json()["resources"][0]["id"] == crisis.json()["id"]
    assert urgent.json()["crisis_resources"]  # the settings' crisis lines, as before

    calm = await client.post("/v1/checkins", headers=STUDENT, json={"instrument": "phq9", "answers": [0] * 9})
    assert calm.json()["resources"] is None

    rid = workshop.json()["id"]
    renamed = await client.put(f"/v1/resources/{rid}", headers=LEAD, json={**body, "name": "Managing anxiety"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "Managing anxiety"
    assert (await client.delete(f"/v1/resources/{rid}", headers=LEAD)).status_code == 204
    assert (await client.get(f"/v1/resources/{rid}", headers=STUDENT)).status_code == 404
    assert (await client.delete(f"/v1/resources/{rid}", headers=LEAD)).status_code == 404
