"""After a key rotation every stored value is re-encrypted under the new key, so the old one can go
(on the real MongoDB-protocol server; also through the per-service command)."""

import asyncio
import json
import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from medsupport_shared.crypto import FieldCipher
from medsupport_shared.key_rotation import rotate_database
from medsupport_shared.mongo import create_client

pytestmark = pytest.mark.integration
OLD, NEW, OTHER = (Fernet.generate_key().decode() for _ in range(3))


async def _seed(db) -> None:
    old = FieldCipher(OLD)
    await db["checkins"].insert_one(
        {"_id": "c1", "note": old.encrypt("felt low"), "score": 12, "label": "plain text", "outbox": []}
    )
    await db["concerns"].insert_one(
        {
            "_id": "k1",
            "messages": [{"from": "officer", "body": old.encrypt("we are looking into it")}],
            "notes": {"m1": old.encrypt("met on monday")},
            "foreign": FieldCipher(OTHER).encrypt("another service's key"),
        }
    )


async def test_every_value_is_rewritten_under_the_new_key_and_nothing_else_changes(isolation):
    client = create_client(isolation.infra.mongo_url)
    db = client[f"rotation_{isolation.run_id}"]
    isolation.databases.append(db.name)
    try:
        await _seed(db)
        report = await rotate_database(db, [FieldCipher(f"{NEW},{OLD}")])
        new_only = FieldCipher(NEW)
        checkin = await db["checkins"].find_one({"_id": "c1"})
        concern = await db["concerns"].find_one({"_id": "k1"})
    finally:
        await client.close()
    assert report.values_rotated == 3 and report.documents == 2
    assert new_only.decrypt(checkin["note"]) == "felt low"
    assert (checkin["score"], checkin["label"], checkin["outbox"]) == (12, "plain text", [])
    assert new_only.decrypt(concern["messages"][0]["body"]) == "we are looking into it"
    assert new_only.decrypt(concern["notes"]["m1"]) == "met on monday"
    assert FieldCipher(OTHER).decrypt(concern["foreign"]) == "another service's key"  # not this cipher's: kept
    with pytest.raises(ValueError):
        FieldCipher(OLD).decrypt(checkin["note"])  # the old key opens nothing any more


async def test_the_rotate_command_runs_per_service(isolation):
    settings_db = f"wellbeing_rot_{isolation.run_id}"
    isolation.databases.append(settings_db)
    client = create_client(isolation.infra.mongo_url)
    try:
        await _seed(client[settings_db])
        env = {
            **os.environ,
            "APP_ENV": "development",
            "MONGO_URL": isolation.infra.mongo_url,
            "MONGO_DB": settings_db,
            "NOTES_ENCRYPTION_KEY": f"{NEW},{OLD}",
        }
        command = [sys.executable, "-m", "medsupport_shared.key_rotation", "wellbeing"]
        done = await asyncio.to_thread(subprocess.run, command, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout.strip().splitlines()[-1])
        assert report["service"] == "wellbeing" and report["values_rotated"] == 3
        checkin = await client[settings_db]["checkins"].find_one({"_id": "c1"})
    finally:
        await client.close()
    assert FieldCipher(NEW).decrypt(checkin["note"]) == "felt low"
