"""``Idempotency-Key`` for creating POSTs: a retry with the same key and body returns the first result
and creates nothing new; the same key with another body is 409."""

from __future__ import annotations

import hashlib
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


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _owner_digest(owner: str) -> str:
    return _digest("owner", owner)


class IdempotencyStore:
    """The first reply is kept (encrypted: it may hold health data) for replays within the retention,
    under a digest of its owner so that a student's erasure can forget their replies too."""

    collection_name = "idempotency_keys"

    def __init__(
        self, db: AsyncDatabase[Document], *, cipher: FieldCipher, retention: timedelta = timedelta(hours=24)
    ) -> None:
        self._collection = db[self.collection_name]
        self._cipher = cipher
        self._retention = retention

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
        """Run ``create`` once per (scope, owner, key). ``owner`` is hashed, never stored in clear;
        pass a constant for anonymous callers."""
        if key is None:
            return JSONResponse(to_jsonable_python(await create()), status_code=status_code)
        record_id = _digest(scope, owner, key)
        request_hash = _digest(json.dumps(to_jsonable_python(payload), sort_keys=True))
        try:
            await self._collection.insert_one(
                {
                    "_id": record_id,
                    "owner": _owner_digest(owner),
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
        result = await self._collection.delete_many({"owner": _owner_digest(owner), "scope": {"$ne": ERASURE_SCOPE}})
        return result.deleted_count

    async def forget_expired(self) -> int:
        result = await self._collection.delete_many({"expires_at": {"$lt": utcnow()}})
        return result.deleted_count
