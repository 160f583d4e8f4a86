"""The feedback service's context: what the use cases need, built once in the app's lifespan (app.py), and its
FastAPI dependency ``Context``, the one home for the routes' dependencies."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request

from feedback.climate_repository import ClimateRepository
from feedback.concern_repository import ConcernRepository
from feedback.domain.ratelimit import Network, parse_networks
from feedback.repository import FeedbackRepository
from feedback.settings import FeedbackSettings
from feedback.voice_repository import VoiceRepository
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.idempotency import IdempotencyStore
from medsupport_shared.outbox import Outbox
from medsupport_shared.rate_limits import WindowCounters


@dataclass
class FeedbackContext:
    settings: FeedbackSettings
    repo: FeedbackRepository
    concerns: ConcernRepository
    outbox: Outbox
    idempotency: IdempotencyStore
    cipher: FieldCipher
    counters: WindowCounters
    """Rate-limit counters shared by every replica (keyed hashes, one window long)."""
    climate: ClimateRepository
    voice: VoiceRepository
    sweeps: dict[str, int] = field(default_factory=dict)
    """How many times each sweep has completed (observability and tests)."""
    publish_wait_seconds: float = 1.0

    async def publish(self, collection: str, document_id: Any, entries: Iterable[dict[str, Any]]) -> None:
        """Publish fresh outbox entries, waiting a little for Kafka before answering.

        Waiting matters on FerretDB, where updates are read-modify-write: an outbox ``$pull`` still in
        flight could overwrite the caller's next change to the same document. If Kafka is slow or down
        the answer does not wait longer; the publish goes on in the background and the relay retries."""
        task = self.outbox.dispatch(collection, document_id, entries)  # supervised, drained at shutdown
        await asyncio.wait({task}, timeout=self.publish_wait_seconds)

    @property
    def trusted_proxies(self) -> list[Network]:
        return parse_networks(self.settings.trusted_proxies)

    @property
    def source(self) -> str:
        return self.settings.source

    @property
    def code_secret(self) -> bytes:
        return self.settings.follow_up_code_secret.get_secret_value().encode()

    def encrypt(self, text: str | None) -> str | None:
        return self.cipher.encrypt(text)

    def decrypt(self, token: Any) -> str | None:
        return self.cipher.decrypt(token) if isinstance(token, str) else None


def get_context(request: Request) -> FeedbackContext:
    ctx: FeedbackContext = request.app.state.services  # whatever compose() returned (app_factory)
    return ctx


Context = Annotated[FeedbackContext, Depends(get_context)]
