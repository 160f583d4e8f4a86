"""Keyset pagination on the real MongoDB-protocol server."""

from datetime import UTC, datetime, timedelta

import pytest

from medsupport_shared.errors import BadRequest
from medsupport_shared.mongo import clamp_limit, create_client, decode_cursor, encode_cursor, paginate

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_limits_and_cursor_round_trip():
    assert (clamp_limit(None), clamp_limit(0), clamp_limit(500), clamp_limit(20)) == (50, 1, 200, 20)
    assert decode_cursor(encode_cursor(T0, "abc")) == (T0, "abc")
    with pytest.raises(BadRequest):
        decode_cursor("not-a-cursor")


def _raw_cursor(*parts) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(list(parts)).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "parts",
    [
        ["raw", {"$regex": ".*"}, "x"],
        ["raw", "a", {"$gt": ""}],
        ["raw", ["a"], "x"],
        ["raw", True, "x"],
        ["dt", 5, "x"],
        ["raw", "a", None],
        ["other", "a", "x"],
    ],
)
def test_cursor_values_other_than_strings_numbers_and_times_are_refused(parts):
    with pytest.raises(BadRequest):
        decode_cursor(_raw_cursor(*parts))
    assert decode_cursor(_raw_cursor("raw", "q-1", 7)) == ("q-1", 7)
    assert decode_cursor(encode_cursor(None, "rule-1")) == (None, "rule-1")


@pytest.mark.integration
async def test_pages_cover_every_document_once_in_order_including_ties(isolation):
    client = create_client(isolation.infra.mongo_url)
    db = client[f"page_{isolation.run_id}"]
    isolation.databases.append(db.name)
    try:
        docs = [{"_id": f"d{n:02}", "owner": "s1", "created_at": T0 + timedelta(minutes=n // 2)} for n in range(11)]
        await db["things"].insert_many([*docs, {"_id": "other", "owner": "s2", "created_at": T0}])
        seen, cursor, pages = [], None, 0
        while True:
            items, cursor = await paginate(db["things"], {"owner": "s1"}, limit=3, cursor=cursor)
            seen += [d["_id"] for d in items]
            pages += 1
            if cursor is None:
                break
        expected = [d["_id"] for d in sorted(docs, key=lambda d: (d["created_at"], d["_id"]), reverse=True)]
        assert seen == expected and pages == 4
    finally:
        await client.close()
