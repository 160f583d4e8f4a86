"""In-memory stand-ins for the feedback service's ports, for use-case unit tests.

They implement the same methods as ``FeedbackRepository`` (feedback and requests), ``ConcernRepository``,
``WindowCounters`` and the ``Outbox`` on plain dicts and lists, with the same conditions (a request closes only
while open, the overdue mark and a triage only once or against the status read), and parse what they return
into the same entities. They ADD to the integration tests on the real Kafka and database, never replace them:
what MongoDB or FerretDB do (indexes, read-modify-write, pagination cursors across pages) is tested there."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime
from typing import Any

from feedback.context import FeedbackContext
from feedback.domain.entities import Concern, FeedbackItem, FeedbackRequest
from feedback.settings import FeedbackSettings
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.events import CloudEvent
from medsupport_shared.outbox import OUTBOX_FIELD, parse_entry
from medsupport_shared.rate_limits import Hit

Document = dict[str, Any]


def _stored(document: Document, entries: list[Document]) -> Document:
    return {**copy.deepcopy(document), OUTBOX_FIELD: [*document.get(OUTBOX_FIELD, []), *entries]}


def _page(docs: list[Document], limit: int | None) -> tuple[list[Document], str | None]:
    """Newest first, one page (the fake never needs a second: cursors are the real repository's business)."""
    ordered = sorted(docs, key=lambda d: (d["created_at"], d["_id"]), reverse=True)
    size = limit or 50
    return ordered[:size], None


def _matches(doc: Document, **fields: Any) -> bool:
    return all(value is None or doc.get(name) == value for name, value in fields.items())


class FakeFeedbackRepository:
    def __init__(self) -> None:
        self.feedback: dict[str, Document] = {}
        self.requests: dict[str, Document] = {}

    async def insert_feedback(self, *, document: Document, entries: list[Document]) -> bool:
        assert document["_id"] not in self.feedback, "duplicate key"
        self.feedback[document["_id"]] = _stored(document, entries)
        return True

    async def get_feedback(self, *, feedback_id: str) -> FeedbackItem | None:
        found = self.feedback.get(feedback_id)
        return None if found is None else FeedbackItem.model_validate(found)

    async def feedback_for_request(self, *, request_id: str) -> FeedbackItem | None:
        found = next((d for d in self.feedback.values() if d.get("request_id") == request_id), None)
        return None if found is None else FeedbackItem.model_validate(found)

    async def list_feedback(
        self,
        *,
        student_id: str | None = None,
        author_id: str | None = None,
        context_kind: str | None = None,
        limit: int | None,
        cursor: str | None,
    ) -> tuple[list[FeedbackItem], str | None]:
        docs = [
            d
            for d in self.feedback.values()
            if _matches(d, student_id=student_id, author_id=author_id, context_kind=context_kind)
        ]
        page, next_cursor = _page(docs, limit)
        return [FeedbackItem.model_validate(d) for d in page], next_cursor

    async def set_response(self, *, feedback_id: str, student_id: str, changes: Document) -> FeedbackItem | None:
        found = self.feedback.get(feedback_id)
        if found is None or found["student_id"] != student_id:
            return None
        found.update(changes)
        return FeedbackItem.model_validate(found)

    async def insert_request(self, *, document: Document, entries: list[Document]) -> bool:
        assert document["_id"] not in self.requests, "duplicate key"
        self.requests[document["_id"]] = _stored(document, entries)
        return True

    async def get_request(self, *, request_id: str) -> FeedbackRequest | None:
        found = self.requests.get(request_id)
        return None if found is None else FeedbackRequest.model_validate(found)

    async def list_requests(
        self,
        *,
        student_id: str | None = None,
        assessor_id: str | None = None,
        status: str | None = None,
        limit: int | None,
        cursor: str | None,
    ) -> tuple[list[FeedbackRequest], str | None]:
        docs = [
            d
            for d in self.requests.values()
            if _matches(d, student_id=student_id, assessor_id=assessor_id, status=status)
        ]
        page, next_cursor = _page(docs, limit)
        return [FeedbackRequest.model_validate(d) for d in page], next_cursor

    async def close_request(self, *, request_id: str, changes: Document) -> bool:
        found = self.requests.get(request_id)
        if found is None or found["status"] != "open":
            return False
        found.update(changes)
        return True

    async def due_requests(self, *, now: datetime, batch: int = 200) -> list[FeedbackRequest]:
        due = [
            d
            for d in self.requests.values()
            if d["status"] == "open" and not d["overdue_emitted"] and d["due_at"] <= now
        ]
        return [FeedbackRequest.model_validate(d) for d in due[:batch]]

    async def mark_overdue(self, *, request_id: str, overdue_at: datetime, entries: list[Document]) -> bool:
        found = self.requests.get(request_id)
        if found is None or found["status"] != "open" or found["overdue_emitted"]:
            return False
        found.update(overdue_emitted=True, overdue_at=overdue_at)
        found[OUTBOX_FIELD] = [*found.get(OUTBOX_FIELD, []), *entries]
        return True

    async def count_open_overdue(self, *, now: datetime) -> int:
        return sum(1 for d in self.requests.values() if d["status"] == "open" and d["due_at"] <= now)


class FakeConcernRepository:
    def __init__(self) -> None:
        self.concerns: dict[str, Document] = {}
        self.idempotency: dict[str, Document] = {}

    def _concern(self, doc: Document | None) -> Concern | None:
        return None if doc is None else Concern.model_validate(doc)

    async def insert(self, *, document: Document, entries: list[Document]) -> bool:
        assert document["_id"] not in self.concerns, "duplicate key"
        self.concerns[document["_id"]] = _stored(document, entries)
        return True

    async def get(self, *, concern_id: str) -> Concern | None:
        return self._concern(self.concerns.get(concern_id))

    async def by_code_hash(self, *, code_hash: str) -> Concern | None:
        found = (d for d in self.concerns.values() if d.get("code_hash") == code_hash and d["anonymous"])
        return self._concern(next(found, None))

    async def list_concerns(
        self, *, status: str | None, category: str | None, limit: int | None, cursor: str | None
    ) -> tuple[list[Concern], str | None]:
        docs = [d for d in self.concerns.values() if _matches(d, status=status, category=category)]
        page, next_cursor = _page(docs, limit)
        return [Concern.model_validate(d) for d in page], next_cursor

    async def named_by(
        self, *, reporter_id: str, limit: int | None, cursor: str | None
    ) -> tuple[list[Concern], str | None]:
        docs = [d for d in self.concerns.values() if d.get("reporter_id") == reporter_id and not d["anonymous"]]
        page, next_cursor = _page(docs, limit)
        return [Concern.model_validate(d) for d in page], next_cursor

    async def append_message(self, *, concern_id: str, message: Document, at: datetime) -> Concern | None:
        found = self.concerns.get(concern_id)
        if found is None:
            return None
        found["messages"] = [*found.get("messages", []), message]
        found["updated_at"] = at
        return self._concern(found)

    async def triage(
        self,
        *,
        concern_id: str,
        expected_status: str,
        changes: Document,
        history: Document | None,
        entries: list[Document],
    ) -> Concern | None:
        found = self.concerns.get(concern_id)
        if found is None or found["status"] != expected_status:
            return None
        found.update(changes)
        if history is not None:
            found["history"] = [*found.get("history", []), history]
        found[OUTBOX_FIELD] = [*found.get(OUTBOX_FIELD, []), *entries]
        return self._concern(found)

    async def claim_idempotency(
        self, *, key_hash: str, body_hash: str, concern_id: str, expires_at: datetime
    ) -> Document | None:
        if key_hash in self.idempotency:
            return self.idempotency[key_hash]
        self.idempotency[key_hash] = {
            "_id": key_hash,
            "body_hash": body_hash,
            "concern_id": concern_id,
            "expires_at": expires_at,
        }
        return None

    async def release_idempotency(self, *, key_hash: str) -> None:
        self.idempotency.pop(key_hash, None)

    async def untriaged_before(self, *, before: datetime, limit: int = 100) -> list[Document]:
        docs = [
            d
            for d in self.concerns.values()
            if d["status"] == "received" and not d.get("triage_overdue") and d["created_at"] <= before
        ]
        keep = ("_id", "category", "anonymous", "created_at")
        return [{k: d[k] for k in keep} for d in sorted(docs, key=lambda d: d["created_at"])[:limit]]

    async def mark_triage_overdue(self, *, concern_id: str, entries: list[Document]) -> bool:
        found = self.concerns.get(concern_id)
        if found is None or found["status"] != "received" or found.get("triage_overdue"):
            return False
        found["triage_overdue"] = True
        found[OUTBOX_FIELD] = [*found.get(OUTBOX_FIELD, []), *entries]
        return True


class FakeCounters:
    """Window counters without windows: every hit counts (a unit test runs well inside one window)."""

    def __init__(self) -> None:
        self.hits: dict[tuple[str, str], int] = {}

    async def hit(self, scope: str, subject: str, *, window_seconds: float) -> Hit:
        key = (scope, subject)
        self.hits[key] = self.hits.get(key, 0) + 1
        return Hit(count=self.hits[key], retry_after=int(window_seconds))


class FakeOutbox:
    """Publishes at once: what a use case recorded is in ``published`` (and stays in the document's outbox,
    where the fake repositories keep it, so a test can read the stored entries too)."""

    def __init__(self) -> None:
        self.published: list[CloudEvent] = []

    def _publish(self, entries: list[Document]) -> bool:
        self.published.extend(parse_entry(e) for e in entries)
        return True

    def dispatch(self, collection: str, document_id: Any, entries: list[Document]) -> asyncio.Task[bool]:
        async def publish() -> bool:
            return self._publish(list(entries))

        return asyncio.ensure_future(publish())

    async def flush(self, collection: str, document_id: Any, entries: list[Document]) -> bool:
        return self._publish(list(entries))

    def of_type(self, event_type: str) -> list[CloudEvent]:
        return [e for e in self.published if e.type == event_type]


def fake_context(**settings: Any) -> FeedbackContext:
    """The feedback context over the fakes (climate and voice are not faked: their use cases are not tested here)."""
    values = FeedbackSettings(**settings)
    return FeedbackContext(
        settings=values,
        repo=FakeFeedbackRepository(),  # type: ignore[arg-type]
        concerns=FakeConcernRepository(),  # type: ignore[arg-type]
        outbox=FakeOutbox(),  # type: ignore[arg-type]
        idempotency=None,  # type: ignore[arg-type]  (the routes' business, not the use cases')
        cipher=FieldCipher(values.text_encryption_key),
        counters=FakeCounters(),  # type: ignore[arg-type]
        climate=None,  # type: ignore[arg-type]
        voice=None,  # type: ignore[arg-type]
    )
