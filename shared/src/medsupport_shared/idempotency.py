"""``Idempotency-Key`` for creating POSTs: a retry with the same key and body returns the first result
and creates nothing new; the same key with another body is 409."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic_core import to_jsonable_python
from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from medsupport_shared.crypto import FieldCipher
from medsupport_shared.errors import Conflict
from medsupport_shared.events import utcnow
from medsupport_shared.mongo import ensure_indexes

Document = dict[str, Any]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Makes a retry safe: the same key and body return the first result.",
    ),
]
REPLAY_HEADER = "Idempotent-Replayed"
ERASURE_SCOPE = "erasure.create"


def keyed_digest(secret: bytes, *parts: str) -> str:
    """HMAC-SHA256 under a server secret: a reader of the database or a backup cannot test guesses
    (4^9 PHQ-9 answer sets, a list of student ids) against it, as they could against a plain hash."""
    return hmac.new(secret, "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


class IdempotencyStore:
    """The first reply is kept (encrypted: it may hold health data) for replays within the retention,
    under a digest of its owner so that a student's erasure can forget their replies too."""

    collection_name = "idempotency_keys"

    def __init__(
        self,
        db: AsyncDatabase[Document],
        *,
        cipher: FieldCipher,
        secret: bytes,
        retention: timedelta = timedelta(hours=24),
    ) -> None:
        self._collection = db[self.collection_name]
        self._cipher = cipher
        self._secret = secret
        self._retention = retention

    def _digest(self, label: str, *parts: str) -> str:
        return keyed_digest(self._secret, label, *parts)

    def _owner_digest(self, owner: str) -> str:
        return self._digest("owner", owner)

    async def ensure_indexes(self) -> None:
        await ensure_indexes(
            self._collection, [IndexModel("expires_at", expireAfterSeconds=0), IndexModel("owner", sparse=True)]
        )

    async def run(
        self,
        *,
        key: str | None,
        scope: str,
        owner: str,
        payload: Any,
        create: Callable[[], Awaitable[Any]],
        status_code: int = 201,
    ) -> JSONResponse:
        """Run ``create`` once per (scope, owner, key). ``owner`` and the body are kept only as keyed digests;
        pass a constant for anonymous callers."""
        if key is None:
            return JSONResponse(to_jsonable_python(await create()), status_code=status_code)
        record_id = self._digest("record", scope, owner, key)
        request_hash = self._digest("request", json.dumps(to_jsonable_python(payload), sort_keys=True))
        try:
            await self._collection.insert_one(
                {
                    "_id": record_id,
                    "owner": self._owner_digest(owner),
                    "scope": scope,
                    "request_hash": request_hash,
                    "state": "pending",
                    "expires_at": utcnow() + self._retention,
                }
            )
        except DuplicateKeyError:
            return await self._replay(record_id, request_hash)
        try:
            body = to_jsonable_python(await create())
        except BaseException:
            await self._collection.delete_one({"_id": record_id, "state": "pending"})
            raise
        await self._collection.update_one(
            {"_id": record_id},
            {"$set": {"state": "done", "status_code": status_code, "body": self._cipher.encrypt(json.dumps(body))}},
        )
        return JSONResponse(body, status_code=status_code)

    async def _replay(self, record_id: str, request_hash: str) -> JSONResponse:
        record = await self._collection.find_one({"_id": record_id})
        if record is None:
            raise Conflict("a request with this Idempotency-Key has just failed; retry")
        if record["request_hash"] != request_hash:
            raise Conflict("the Idempotency-Key was already used with another request body")
        if record["state"] != "done":
            raise Conflict("a request with this Idempotency-Key is still in progress")
        return JSONResponse(
            json.loads(self._cipher.decrypt(record["body"]) or "null"),
            status_code=record["status_code"],
            headers={REPLAY_HEADER: "true"},
        )

    async def forget_owner(self, owner: str) -> int:
        """Forget every kept reply of ``owner`` (a student's erasure) but that to the erasure request
        itself (no health data: so that its retry still returns the first result); returns how many."""
        result = await self._collection.delete_many(
            {"owner": self._owner_digest(owner), "scope": {"$ne": ERASURE_SCOPE}}
        )
        return result.deleted_count

    async def forget_expired(self) -> int:
        result = await self._collection.delete_many({"expires_at": {"$lt": utcnow()}})
        return result.deleted_count
