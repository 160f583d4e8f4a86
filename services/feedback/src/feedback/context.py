"""The feedback service's context: what the use cases need, built once in the app's lifespan (app.py), and its
FastAPI dependency ``Context``, the one home for the routes' dependencies."""

from __future__ import annotations

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
from medsupport_shared.events import CloudEvent, EventData
from medsupport_shared.idempotency import IdempotencyStore
from medsupport_shared.outbox import ChangeRecorder, Outbox, Write
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

    changes: ChangeRecorder = field(init=False)

    def __post_init__(self) -> None:
        self.changes = ChangeRecorder(self.outbox, source=self.settings.source)

    async def record(
        self, collection: str, document_id: Any, write: Write, *events: EventData | CloudEvent, anonymous: bool = False
    ) -> bool:
        """Record a change with its events (one write), then publish them, waiting a little for Kafka before
        answering; answers whether the write wrote.

        Waiting matters on FerretDB, where updates are read-modify-write: an outbox ``$pull`` still in
        flight could overwrite the caller's next change to the same document. If Kafka is slow or down
        the answer does not wait longer; the publish goes on in the background and the relay retries.
        ``anonymous``: the entries keep no correlation or trace id (they would come from the reporter's browser)."""
        return await self.changes.record(
            collection, document_id, write, *events, wait=self.publish_wait_seconds, unlinked=anonymous
        )

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
