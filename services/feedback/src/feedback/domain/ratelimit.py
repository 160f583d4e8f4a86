"""A rate limiter for anonymous submissions that remembers nobody.

Clients are counted under a salted hash of their address, in memory only; the salt is random and
replaced at the start of every window, and the counts are dropped with it. Nothing outlives one
short window, nothing is written anywhere, and a hash cannot be linked to the next window's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable


class AnonymousRateLimiter:
    def __init__(
        self,
        *,
        limit: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        if limit < 1 or window_seconds <= 0:
            raise ValueError("limit must be at least 1 and the window positive")
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._max_clients = max_clients
        self._window_start = clock()
        self._salt = secrets.token_bytes(32)
        self._counts: dict[bytes, int] = {}

    def _rotate_if_due(self) -> None:
        now = self._clock()
        if now - self._window_start >= self._window:
            self._window_start = now
            self._salt = secrets.token_bytes(32)
            self._counts = {}

    def _key(self, client: str) -> bytes:
        return hmac.new(self._salt, client.encode(), hashlib.sha256).digest()[:16]

    def allow(self, client: str) -> bool:
        """Count one attempt by ``client``; False when it has used up the window's allowance."""
        self._rotate_if_due()
        key = self._key(client)
        count = self._counts.get(key, 0)
        if count >= self._limit:
            return False
        if key not in self._counts and len(self._counts) >= self._max_clients:
            return False  # under a flood of distinct addresses, fail closed until the window turns
        self._counts[key] = count + 1
        return True

    @property
    def tracked_clients(self) -> int:
        return len(self._counts)

    def seconds_until_reset(self) -> int:
        return max(1, int(self._window - (self._clock() - self._window_start)) + 1)
