"""The hour-rounding of anonymous reports holds wherever the platform keeps a time: the idempotency
record's expiry, and the Kafka record's own timestamp (not only the event's `time` field)."""

import pytest

from .test_concerns import concern

pytestmark = pytest.mark.integration
HOUR_MS = 3_600_000


async def test_no_exact_time_of_an_anonymous_report_is_kept(stack):
    created = await stack.client.post(
        "/v1/concerns", json=concern(), headers={"Idempotency-Key": "k-times-1-5b8e0c7a94d2"}
    )
    assert created.status_code == 201
    concern_id = created.json()["id"]
    (record,) = [r for r in await _records(stack, concern_id)]
    assert record.timestamp % HOUR_MS == 0, "the Kafka record keeps the exact submit time"
    (kept,) = await stack.db["concern_idempotency"].find({}).to_list(None)
    expires = kept["expires_at"]
    assert (expires.minute, expires.second, expires.microsecond) == (0, 0, 0)


async def _records(stack, concern_id):
    await stack.reader.wait_for(lambda e: e.data.get("concern_id") == concern_id)
    return [r for r in stack.reader.records if concern_id.encode() in r.value]
