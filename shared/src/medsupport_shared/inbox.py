"""The consumer-side inbox: one document per (consumer, event id), so a redelivery has no second effect."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from medsupport_shared.events import CloudEvent, utcnow
from medsupport_shared.mongo import ensure_indexes

Document = dict[str, Any]


class Inbox:
    """Handlers should also be idempotent by construction (ids derived from the event id); the inbox
    makes the common redelivery case a cheap no-op."""

    collection_name = "inbox"

    def __init__(self, db: AsyncDatabase[Document], *, retention: timedelta = timedelta(days=30)) -> None:
        self._collection = db[self.collection_name]
        self._retention = retention

    async def ensure_indexes(self) -> None:
        await ensure_indexes(self._collection, [IndexModel("processed_at")])

    async def seen(self, *, consumer: str, event_id: str) -> bool:
        return await self._collection.find_one({"_id": f"{consumer}:{event_id}"}, {"_id": 1}) is not None

    async def record(self, *, consumer: str, event: CloudEvent) -> None:
        try:
            await self._collection.insert_one(
                {
                    "_id": f"{consumer}:{event.id}",
                    "consumer": consumer,
                    "event_id": event.id,
                    "type": event.type,
                    "processed_at": utcnow(),
                }
            )
        except DuplicateKeyError:
            pass

    async def forget_older_than_retention(self) -> int:
        result = await self._collection.delete_many({"processed_at": {"$lt": utcnow() - self._retention}})
        return result.deleted_count
