"""Idempotency records keep the body and the owner only as keyed digests (HMAC under a server secret)."""

import hashlib
import json

import pytest

from medsupport_shared.testing import auth, running

from .demo_service import DemoSettings, create_app, services_of

pytestmark = pytest.mark.integration


def _plain_hashes(*texts: str) -> set[str]:
    return {hashlib.sha256(t.encode()).hexdigest() for t in texts}


async def test_stored_fingerprints_cannot_be_recomputed_without_the_server_secret(isolation):
    app = create_app(isolation.settings(DemoSettings), consume=False)
    body = {"text": "three"}
    async with running(app) as client:
        headers = {**auth("student-7", "student"), "Idempotency-Key": "k1"}
        assert (await client.post("/v1/notes", json=body, headers=headers)).status_code == 201
        record = await services_of(app).runtime.db["idempotency_keys"].find_one({})
        replay = await client.post("/v1/notes", json=body, headers=headers)
        assert replay.headers["Idempotent-Replayed"] == "true"
        other = await client.post("/v1/notes", json={"text": "four"}, headers=headers)
        assert other.status_code == 409
    canonical = json.dumps(body, sort_keys=True)
    guesses = _plain_hashes(canonical, "request\x1f" + canonical, "student-7", "owner\x1fstudent-7")
    assert record["request_hash"] not in guesses and record["owner"] not in guesses
    assert "student-7" not in json.dumps(record, default=str) and "three" not in json.dumps(record, default=str)
    other_secret = isolation.settings(DemoSettings, idempotency_hmac_key="another-secret-for-the-test")
    assert other_secret.idempotency_secret != isolation.settings(DemoSettings).idempotency_secret
