"""Transactional outbox without multi-document transactions.

The event is written *inside the state document* in the same single-document write as the state
change (``outbox`` array field). Right after the write the service publishes it and removes it from
the document; a relay loop publishes whatever a crash or a Kafka outage left behind. Consumers
dedupe on the event id, so the rare republish after a crash between publish and removal has no
second effect.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from pymongo import IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from medsupport_shared import correlation
from medsupport_shared.events import CloudEvent, EventData, new_event, utcnow
from medsupport_shared.kafka import EventPublisher, PublishFailed
from medsupport_shared.metrics import OUTBOX_BACKLOG
from medsupport_shared.mongo import ensure_indexes
from medsupport_shared.supervision import TaskSupervisor

OUTBOX_FIELD = "outbox"
log = logging.getLogger(__name__)
Document = dict[str, Any]


def outbox_entry(event: CloudEvent, *, at: datetime | None = None, unlinked: bool = False) -> Document:
    """The stored form of one pending event (the envelope as JSON text, plus its correlation). ``at`` dates the
    entry (an anonymous report's rounded time, never the moment); ``unlinked`` keeps no correlation or trace id
    (they would come from an anonymous reporter's browser)."""
    return {
        "id": event.id,
        "type": event.type,
        "event": event.model_dump_json(),
        "created_at": at or utcnow(),
        "correlation_id": None if unlinked else correlation.current_correlation_id(),
        "traceparent": None if unlinked else correlation.current_traceparent(),
    }


def with_outbox(document: Document, *entries: Document) -> Document:
    """``document`` with the entries in its outbox: for ``insert_one`` / ``replace_one``."""
    return {**document, OUTBOX_FIELD: [*document.get(OUTBOX_FIELD, []), *entries]}


def push_outbox(update: Document, *entries: Document) -> Document:
    """``update`` plus a ``$push`` of the entries: for ``update_one`` / ``find_one_and_update``."""
    return {**update, "$push": {OUTBOX_FIELD: {"$each": list(entries)}}}


PENDING: Document = {f"{OUTBOX_FIELD}.id": {"$exists": True}}
"""Documents with unpublished entries; answered from a sparse index, so the relay never scans a collection
(a document whose outbox is empty has no ``outbox.id`` and is not in the index)."""
PENDING_INDEX = IndexModel(f"{OUTBOX_FIELD}.id", sparse=True, name="outbox_pending")


class Outbox:
    """Publishes outbox entries right after the write and relays the ones left behind."""

    def __init__(
        self,
        *,
        db: AsyncDatabase[Document],
        publisher: EventPublisher,
        service: str,
        tasks: TaskSupervisor,
        grace_seconds: float = 5.0,
    ) -> None:
        self._db = db
        self._publisher = publisher
        self._service = service
        self._tasks = tasks
        self._grace = timedelta(seconds=grace_seconds)
        self._collections: set[str] = set()
        self._in_flight: set[str] = set()
        """Event ids this process is publishing right now; the relay leaves them alone."""
        self._indexed: set[str] = set()

    def register(self, *collections: str) -> None:
        """Collections whose documents may carry outbox entries (the relay scans them)."""
        self._collections.update(collections)

    def dispatch(self, collection: str, document_id: Any, entries: Iterable[Document]) -> asyncio.Task[bool]:
        """Publish freshly written entries in the background (the service's supervised task group, which
        shutdown drains); the HTTP answer does not wait on Kafka. The task answers whether all left."""
        self._collections.add(collection)
        entries = list(entries)
        self._in_flight.update(e["id"] for e in entries)
        return self._tasks.spawn(
            self._publish_entries(collection, document_id, entries),
            name="outbox-publish",
            collection=collection,
            event_ids=[e["id"] for e in entries],
        )

    async def flush(self, collection: str, document_id: Any, entries: Iterable[Document]) -> bool:
        """Publish now and wait (for callers that must know the event left, e.g. sweeps)."""
        entries = list(entries)
        self._in_flight.update(e["id"] for e in entries)
        return await self._publish_entries(collection, document_id, entries)

    async def _publish_entries(self, collection: str, document_id: Any, entries: list[Document]) -> bool:
        try:
            return await self._publish_in_order(collection, document_id, entries)
        finally:
            self._in_flight.difference_update(e["id"] for e in entries)

    async def _publish_in_order(self, collection: str, document_id: Any, entries: list[Document]) -> bool:
        for entry in entries:
            event = CloudEvent.model_validate_json(entry["event"])
            headers = _headers(entry)
            try:
                await self._publisher.publish(event, headers=headers)
            except PublishFailed as exc:
                log.warning(
                    "event left in the outbox for the relay",
                    extra={"event_id": event.id, "event_type": event.type, "error": str(exc)},
                )
                return False
            try:
                await self._db[collection].update_one({"_id": document_id}, {"$pull": {OUTBOX_FIELD: entry}})
            except PyMongoError as exc:
                # Published, but the database went away before the entry was removed: the relay
                # publishes it again once the database answers, and consumers drop the repeat by its id.
                log.warning(
                    "event published; its outbox entry stays for the relay",
                    extra={"event_id": event.id, "event_type": event.type, "error": type(exc).__name__},
                )
                return False
        return True

    async def relay_once(self) -> int:
        """Publish every entry older than the grace period; returns how many were published. A database
        outage ends the pass quietly (it is expected, not a task failure): the next pass finds the same
        entries in MongoDB once it answers again."""
        try:
            return await self._relay_pass()
        except PyMongoError as exc:
            log.warning("outbox relay: the database does not answer; retrying next pass", extra={"error": repr(exc)})
            return 0

    async def _relay_pass(self) -> int:
        published = 0
        cutoff = utcnow() - self._grace
        for name in sorted(self._collections):
            collection = self._db[name]
            if name not in self._indexed:
                await ensure_indexes(collection, [PENDING_INDEX])
                self._indexed.add(name)
            backlog = 0
            async for document in collection.find(PENDING, {OUTBOX_FIELD: 1}):
                entries = document.get(OUTBOX_FIELD, [])
                backlog += len(entries)
                due = [
                    e
                    for e in entries
                    if e["id"] not in self._in_flight and (e.get("created_at") is None or e["created_at"] <= cutoff)
                ]
                if not due:
                    continue
                if not await self._publish_entries(name, document["_id"], due):
                    # Kafka (or the database) is down: one timeout per pass is enough, the next pass retries.
                    OUTBOX_BACKLOG.labels(self._service, name).set(backlog)
                    return published
                published += len(due)
                backlog -= len(due)
            OUTBOX_BACKLOG.labels(self._service, name).set(backlog)
        return published


def _headers(entry: Document) -> list[tuple[str, bytes]]:
    headers = []
    if entry.get("correlation_id"):
        headers.append((correlation.KAFKA_CORRELATION_HEADER, str(entry["correlation_id"]).encode()))
    if entry.get("traceparent"):
        headers.append((correlation.KAFKA_TRACEPARENT_HEADER, str(entry["traceparent"]).encode()))
    return headers


def parse_entry(entry: Document) -> CloudEvent:
    return CloudEvent.model_validate(json.loads(entry["event"]))


Write = Callable[[list[Document]], Awaitable[object]]
"""Stores the change with the given outbox entries in one write; answers falsy when nothing was written
(a conflict, a duplicate), so that no event leaves for a change that did not happen."""


class ChangeRecorder:
    """The one way a use case records a change with its events: build the outbox entries, write them inside
    the changed document, then publish them (a crash in between is covered by the relay)."""

    def __init__(self, outbox: Outbox, *, source: str) -> None:
        self.outbox = outbox
        self.source = source

    def entry(self, event: EventData | CloudEvent, *, at: datetime | None = None, unlinked: bool = False) -> Document:
        """The outbox entry of a payload (enveloped from this service, at ``at`` or now) or of a ready envelope."""
        envelope = event if isinstance(event, CloudEvent) else new_event(event, source=self.source, time=at)
        return outbox_entry(envelope, at=at, unlinked=unlinked)

    async def record(
        self,
        collection: str,
        document_id: Any,
        write: Write,
        *events: EventData | CloudEvent,
        wait: bool | float = False,
        on_published: Callable[[bool], None] | None = None,
        at: datetime | None = None,
        unlinked: bool = False,
    ) -> bool:
        """Write the change with its events, then publish them: in the background (``wait=False``), waiting
        up to ``wait`` seconds for Kafka, or until they left (``wait=True``, for sweeps that must know).
        Answers whether the write wrote; ``on_published`` hears whether every event left. About an anonymous
        report, ``at`` dates its events and their entries (a rounded time) and ``unlinked`` drops the request's
        correlation and trace ids."""
        entries = [self.entry(e, at=at, unlinked=unlinked) for e in events]
        if not await write(entries):
            return False
        if not entries:
            return True
        if wait is True:
            published = await self.outbox.flush(collection, document_id, entries)
            if on_published is not None:
                on_published(published)
            return True
        task = self.outbox.dispatch(collection, document_id, entries)
        if on_published is not None:
            task.add_done_callback(lambda t: on_published(not t.cancelled() and not t.exception() and t.result()))
        if wait:
            await asyncio.wait({task}, timeout=float(wait))
        return True
