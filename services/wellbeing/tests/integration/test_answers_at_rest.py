"""Check-in answers (PHQ-9 item 9 among them) are encrypted at rest like notes, read back for the student and
counselling staff, and re-encrypted by the key-rotation tool; answers stored in clear before still read."""

import json

import pytest
from cryptography.fernet import Fernet

from medsupport_shared.crypto import FieldCipher
from medsupport_shared.key_rotation import rotate_database
from medsupport_shared.mongo import create_client
from medsupport_shared.testing import auth

pytestmark = pytest.mark.integration
ANSWERS = [1, 2, 0, 1, 3, 0, 2, 1, 0]
STUDENT = auth("s1", "student", cohort="2027")
COUNSELLOR = auth("c1", "counsellor")


async def _answers_read(client):
    mine = (await client.get("/v1/checkins", headers=STUDENT)).json()["items"]
    staff = await client.get("/v1/students/s1/checkins?purpose=follow-up", headers=COUNSELLOR)
    return [c["answers"] for c in mine], [c["answers"] for c in staff.json()["items"]]


async def test_answers_are_sealed_at_rest_and_read_back_by_the_student_and_counsellor(wellbeing):
    client = wellbeing.client
    assert (await client.put("/v1/me/consent", json={"store_checkins": True}, headers=STUDENT)).status_code == 200
    created = await client.post("/v1/checkins", json={"instrument": "phq9", "answers": ANSWERS}, headers=STUDENT)
    assert created.status_code == 201, created.text

    mongo = create_client(wellbeing.settings.mongo_url)
    try:
        db = mongo[wellbeing.settings.database_name]
        raw = await db["checkins"].find_one({"_id": created.json()["id"]}, {"outbox": 0})
        assert isinstance(raw["answers"], str) and "[" not in raw["answers"]
        assert json.dumps(ANSWERS, separators=(",", ":")) not in json.dumps(raw, default=str)
        assert (raw["score"], raw["severity"]) == (10, created.json()["severity"])  # in clear for queue/trends
        assert await _answers_read(client) == ([ANSWERS], [ANSWERS])

        # stored in clear by an older version: still read
        await db["checkins"].insert_one({**raw, "_id": "legacy-1", "answers": [0] * 9})
        mine, staff = await _answers_read(client)
        assert sorted(mine) == sorted(staff) == sorted([ANSWERS, [0] * 9])

        # the rotation tool re-encrypts the sealed answers under the new key
        current, new = wellbeing.settings.notes_encryption_key.get_secret_value(), Fernet.generate_key().decode()
        await rotate_database(db, [FieldCipher(f"{new},{current}")])
        rotated = await db["checkins"].find_one({"_id": raw["_id"]})
    finally:
        await mongo.close()
    assert json.loads(FieldCipher(new).decrypt(rotated["answers"]) or "") == ANSWERS
    with pytest.raises(ValueError):
        FieldCipher(current.split(",")[0]).decrypt(rotated["answers"])
