"""Concurrent writes to one document through runtime.db lose nothing, on the real server."""

import asyncio

import pytest

from medsupport_shared.mongo import create_client
from medsupport_shared.serialized import serialized

pytestmark = pytest.mark.integration


async def test_concurrent_set_and_pull_on_one_document_both_apply(isolation):
    client = create_client(isolation.infra.mongo_url)
    name = f"serialized_{isolation.run_id}"
    isolation.databases.append(name)
    try:
        col = serialized(client[name])["docs"]
        for i in range(60):
            entry = {"id": f"e{i}"}
            await col.insert_one({"_id": i, "status": "open", "outbox": [entry]})
            await asyncio.gather(
                col.update_one({"_id": i}, {"$set": {"status": "acked"}}),
                col.update_one({"_id": i}, {"$pull": {"outbox": entry}}),
            )
        docs = await col.find({}).to_list(None)
        assert [d["status"] for d in docs] == ["acked"] * 60 and all(d["outbox"] == [] for d in docs)
        # ...and conditional updates now exclude each other within the process.
        await col.insert_one({"_id": "claim", "status": "pending"})
        results = await asyncio.gather(
            *[col.update_one({"_id": "claim", "status": "pending"}, {"$set": {"status": f"w{k}"}}) for k in range(5)]
        )
        assert sum(r.modified_count for r in results) == 1
    finally:
        await client.close()
