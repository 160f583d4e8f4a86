"""MongoDB access for concern reports. An anonymous report's document has no reporter field at all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from feedback.domain.entities import Concern
from medsupport_shared.documents import parse_document, parse_documents
from medsupport_shared.mongo import ensure_indexes, paginate
from medsupport_shared.outbox import OUTBOX_FIELD, with_outbox

Document = dict[str, Any]
CONCERNS = "concerns"
ANONYMOUS_IDEMPOTENCY = "concern_idempotency"
"""Keyed hashes of anonymous submissions' Idempotency-Keys (no raw key, no identity)."""


def _concern(doc: Document | None) -> Concern | None:
    return None if doc is None else parse_document(doc, Concern, collection=CONCERNS)


class ConcernRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.concerns = db[CONCERNS]
        self.idempotency = db[ANONYMOUS_IDEMPOTENCY]

    async def ensure_indexes(self) -> None:
        await ensure_indexes(
            self.concerns,
            [
                IndexModel("code_hash"),
                IndexModel([("reporter_id", 1), ("created_at", -1)]),
                IndexModel([("status", 1), ("created_at", -1)]),
                IndexModel([("status", 1), ("triage_overdue", 1), ("created_at", 1)]),
            ],
        )

    async def insert(self, *, document: Document, entries: list[Document]) -> bool:
        await self.concerns.insert_one(with_outbox(document, *entries))
        return True

    async def get(self, *, concern_id: str) -> Concern | None:
        return _concern(await self.concerns.find_one({"_id": concern_id}, {"outbox": 0}))

    async def by_code_hash(self, *, code_hash: str) -> Concern | None:
        return _concern(await self.concerns.find_one({"code_hash": code_hash, "anonymous": True}, {"outbox": 0}))

    async def list_concerns(
        self, *, status: str | None, category: str | None, limit: int | None, cursor: str | None
    ) -> tuple[list[Concern], str | None]:
        """Every concern, newest first, optionally of one status and category (for the concerns officer)."""
        query = {name: value for name, value in (("status", status), ("category", category)) if value is not None}
        found, next_cursor = await paginate(self.concerns, query, limit=limit, cursor=cursor, projection={"outbox": 0})
        return parse_documents(found, Concern, collection=CONCERNS), next_cursor

    async def named_by(
        self, *, reporter_id: str, limit: int | None, cursor: str | None
    ) -> tuple[list[Concern], str | None]:
        """The reports this person made by name (an anonymous report is never theirs to list)."""
        query = {"reporter_id": reporter_id, "anonymous": False}
        found, next_cursor = await paginate(self.concerns, query, limit=limit, cursor=cursor, projection={"outbox": 0})
        return parse_documents(found, Concern, collection=CONCERNS), next_cursor

    async def append_message(self, *, concern_id: str, message: Document, at: datetime) -> Concern | None:
        return _concern(
            await self.concerns.find_one_and_update(
                {"_id": concern_id},
                {"$push": {"messages": message}, "$set": {"updated_at": at}},
                return_document=ReturnDocument.AFTER,
            )
        )

    async def triage(
        self,
        *,
        concern_id: str,
        expected_status: str,
        changes: Document,
        history: Document | None,
        entries: list[Document],
    ) -> Concern | None:
        """Set ``changes`` (and append the status move to ``history``) with the events, if the concern is still
        in ``expected_status`` (an optimistic check: two officers never both move it)."""
        push: Document = {}
        if history is not None:
            push["history"] = history
        if entries:
            push[OUTBOX_FIELD] = {"$each": entries}
        update: Document = {"$set": changes, **({"$push": push} if push else {})}
        return _concern(
            await self.concerns.find_one_and_update(
                {"_id": concern_id, "status": expected_status}, update, return_document=ReturnDocument.AFTER
            )
        )

    async def claim_idempotency(
        self, *, key_hash: str, body_hash: str, concern_id: str, expires_at: datetime
    ) -> Document | None:
        """Record an anonymous submission's key; returns the earlier record when the key was used."""
        try:
            await self.idempotency.insert_one(
                {"_id": key_hash, "body_hash": body_hash, "concern_id": concern_id, "expires_at": expires_at}
            )
        except DuplicateKeyError:
            return await self.idempotency.find_one({"_id": key_hash})
        return None

    async def release_idempotency(self, *, key_hash: str) -> None:
        await self.idempotency.delete_one({"_id": key_hash})

    async def forget_expired_idempotency(self, *, now: datetime) -> int:
        result = await self.idempotency.delete_many({"expires_at": {"$lt": now}})
        return result.deleted_count

    async def forget_reporter(self, *, reporter_id: str) -> int:
        """Erasure: a named report stays on record for the institution, without its reporter."""
        result = await self.concerns.update_many(
            {"reporter_id": reporter_id}, {"$unset": {"reporter_id": ""}, "$set": {"reporter_erased": True}}
        )
        return result.modified_count

    async def untriaged_before(self, *, before: datetime, limit: int = 100) -> list[Document]:
        cursor = self.concerns.find(
            {"status": "received", "triage_overdue": {"$ne": True}, "created_at": {"$lte": before}},
            {"_id": 1, "category": 1, "anonymous": 1, "created_at": 1},
        )
        return [doc async for doc in cursor.sort("created_at", 1).limit(limit)]

    async def mark_triage_overdue(self, *, concern_id: str, entries: list[Document]) -> bool:
        """Once: the mark and the escalation event in one write, only while still untriaged."""
        result = await self.concerns.update_one(
            {"_id": concern_id, "status": "received", "triage_overdue": {"$ne": True}},
            {"$set": {"triage_overdue": True}, "$push": {OUTBOX_FIELD: {"$each": entries}}},
        )
        return result.modified_count == 1
