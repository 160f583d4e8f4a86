"""Fixed-window counters in MongoDB, shared by every replica of a service.

A counter's id is an HMAC of (scope, subject) under a key derived from a server secret and the
window's number, so a database or backup reader cannot tell which address or user a counter belongs
to, nor link one window's counters to the next. Each counter carries its window's end and a sweep
deletes the expired ones (FerretDB has no TTL index)."""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import IndexModel, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from medsupport_shared.errors import TooManyRequests
from medsupport_shared.mongo import ensure_indexes

Document = dict[str, Any]
COLLECTION = "rate_counters"


@dataclass(frozen=True)
class Hit:
    count: int
    """Hits on this counter in the current window, this one included."""
    retry_after: int
    """Whole seconds until the window turns."""


class WindowCounters:
    def __init__(
        self, collection: AsyncCollection[Document], *, secret: bytes, clock: Callable[[], float] = time.time
    ) -> None:
        self._collection = collection
        self._secret = secret
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await ensure_indexes(self._collection, [IndexModel("expires_at")])

    def _counter_id(self, scope: str, subject: str, window_seconds: float, number: int) -> str:
        window_key = hmac.new(self._secret, f"rate-window\x1f{window_seconds}\x1f{number}".encode(), hashlib.sha256)
        return hmac.new(window_key.digest(), f"{scope}\x1f{subject}".encode(), hashlib.sha256).hexdigest()[:32]

    async def hit(self, scope: str, subject: str, *, window_seconds: float) -> Hit:
        """Count one hit by ``subject`` under ``scope`` and return the window's count so far."""
        now = self._clock()
        number = math.floor(now / window_seconds)
        ends = (number + 1) * window_seconds
        counter_id = self._counter_id(scope, subject, window_seconds, number)
        for _ in range(3):  # two replicas creating the same counter at once: one insert loses, then $inc
            try:
                after = await self._collection.find_one_and_update(
                    {"_id": counter_id},
                    {"$inc": {"count": 1}, "$setOnInsert": {"expires_at": datetime.fromtimestamp(ends, UTC)}},
                    upsert=True,
                    return_document=ReturnDocument.AFTER,
                )
                count = int(after["count"]) if after else 1
                return Hit(count=count, retry_after=max(1, math.ceil(ends - now)))
            except DuplicateKeyError:
                continue
        raise RuntimeError("rate counter could not be updated")  # pragma: no cover - needs a pathological race

    async def sweep(self) -> int:
        """Delete the counters of windows that have ended."""
        result = await self._collection.delete_many({"expires_at": {"$lt": datetime.fromtimestamp(self._clock(), UTC)}})
        return result.deleted_count


async def limit_per_user(
    counters: WindowCounters, *, scope: str, user: str, limit: int, window_seconds: float, what: str
) -> None:
    """Raise 429 (with Retry-After) once ``user`` has made ``limit`` ``scope`` calls in the window."""
    hit = await counters.hit(scope, user, window_seconds=window_seconds)
    if hit.count > limit:
        raise TooManyRequests(
            f"at most {limit} {what} per {int(window_seconds)} seconds; try again later",
            retry_after=hit.retry_after,
        )
