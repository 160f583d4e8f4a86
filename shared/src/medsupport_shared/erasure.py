"""Erasure requests (GDPR Art. 17): ``POST /v1/erasure-requests`` publishes
``student.erasure.requested`` on ``platform.events.v1``; every service consumes it and deletes
what it holds about the student. Mounted by one service (wellbeing); the record kept here is only
the fact of the request.

A student's own request is published at once. A request made by staff (an admin) waits
``ERASURE_DELAY_DAYS`` (a setting of the mounting service) and can be cancelled meanwhile by another
admin or by the student, so one mistaken or malicious call cannot erase a student. Each service
also remembers erased students under a keyed hash (``ErasedStudents``) so that an event from before
the erasure, replayed later, re-creates nothing."""

from __future__ import annotations

import hashlib
import hmac
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from medsupport_shared.app_factory import RuntimeDep
from medsupport_shared.auth import CurrentPrincipal, Role
from medsupport_shared.errors import AUTH_ERRORS, Conflict, Forbidden, NotFound, problem_responses
from medsupport_shared.event_types import PLATFORM_TOPIC, StudentErasureRequested
from medsupport_shared.events import CloudEvent, new_event, utcnow
from medsupport_shared.idempotency import ERASURE_SCOPE, IdempotencyKey
from medsupport_shared.kafka import EventHandler
from medsupport_shared.outbox import OUTBOX_FIELD, outbox_entry, with_outbox
from medsupport_shared.runtime import ServiceRuntime

COLLECTION = "erasure_requests"
ERASED_COLLECTION = "erased_students"
DEFAULT_STAFF_DELAY_DAYS = 7.0
log = logging.getLogger(__name__)
Document = dict[str, Any]


class ErasureRequestIn(BaseModel):
    student_id: str = Field(min_length=1, max_length=200, examples=["student-42"])


class ErasureRequestOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9b2d4f6a8c0e4a1b8c5d7e9f1a2b4c6d",
                    "student_id": "student-42",
                    "status": "scheduled",
                    "requested_at": "2026-11-25T09:30:00Z",
                    "due_at": "2026-12-02T09:30:00Z",
                }
            ]
        }
    )
    id: str
    student_id: str
    status: Literal["accepted", "scheduled", "cancelled"] = Field(
        description="accepted: published to every service; scheduled: waits until due_at and can be cancelled"
    )
    requested_at: datetime
    due_at: datetime | None = None


class ErasureRequestPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"items": ErasureRequestOut.model_config["json_schema_extra"]["examples"]}]}  # type: ignore[index]
    )
    items: list[ErasureRequestOut]


class ErasedStudents:
    """Keyed hashes of erased students' ids, each with the time its erasure took effect (no clear id)."""

    def __init__(self, db: AsyncDatabase[Document], *, secret: bytes) -> None:
        self._collection = db[ERASED_COLLECTION]
        self._secret = secret

    def ref(self, student_id: str) -> str:
        return hmac.new(self._secret, f"erased-student\x1f{student_id}".encode(), hashlib.sha256).hexdigest()

    async def remember(self, student_id: str, *, at: datetime) -> None:
        await self._collection.update_one({"_id": self.ref(student_id)}, {"$max": {"erased_at": at}}, upsert=True)

    async def erased_at(self, student_id: str) -> datetime | None:
        found = await self._collection.find_one({"_id": self.ref(student_id)})
        return found["erased_at"] if found else None

    async def is_replay(self, student_id: str, event: CloudEvent) -> bool:
        """True for an event about an erased student that was produced before the erasure took effect."""
        erased_at = await self.erased_at(student_id)
        return erased_at is not None and event.time <= erased_at


def unless_erased(
    erased: ErasedStudents,
    handler: EventHandler,
    student_of: Callable[[Any], str | None],
    *,
    erase_again: Callable[[str], Awaitable[object]] | None = None,
    always_handle: Callable[[Any], bool] = lambda _: False,
) -> EventHandler:
    """Wrap a consumer handler that would (re-)create records about a student: an event from before that
    student's erasure (a replay, a new consumer group) is dropped, unless ``always_handle`` says it must be
    handled whatever (an urgent flag). The erasure may also arrive while the event is being handled, on
    another topic or consumer group: ``erase_again`` then removes what the handler made."""

    async def handle(event: CloudEvent, payload: Any) -> None:
        student_id = student_of(payload)
        if student_id is None:
            await handler(event, payload)
            return
        if not always_handle(payload) and await erased.is_replay(student_id, event):
            log.info("event about an erased student dropped", extra={"event_id": event.id, "event_type": event.type})
            return
        await handler(event, payload)
        if erase_again is not None and await erased.is_replay(student_id, event):
            log.info("student erased while an event about them was handled; erased again", extra={"event_id": event.id})
            await erase_again(student_id)

    return handle


def enable_erasure_requests(runtime: ServiceRuntime, *, sweep_seconds: float = 60.0) -> None:
    """Call from the mounting service's compose."""
    runtime.outbox.register(COLLECTION)
    runtime.publishes_to(PLATFORM_TOPIC)
    runtime.every(sweep_seconds, "erasure-requests", lambda: publish_due_erasures(runtime))


def _staff_delay(runtime: ServiceRuntime) -> timedelta:
    # The mounting service declares ERASURE_DELAY_DAYS; the shared settings do not know it.
    return timedelta(days=float(getattr(runtime.settings, "erasure_delay_days", DEFAULT_STAFF_DELAY_DAYS)))


def _view(doc: Document) -> dict[str, Any]:
    return {k: doc.get(k) for k in ("student_id", "status", "requested_at", "due_at")} | {"id": doc["_id"]}


def _event_entry(runtime: ServiceRuntime, doc: Document) -> Document:
    payload = StudentErasureRequested(
        student_id=doc["student_id"], requested_at=doc["requested_at"], requested_by=doc["requested_by"]
    )
    return outbox_entry(new_event(payload, source=runtime.settings.source))


async def publish_due_erasures(runtime: ServiceRuntime) -> int:
    """Sweep: staff requests whose delay has passed uncancelled are published now."""
    published = 0
    requests = runtime.db[COLLECTION]
    for doc in await requests.find({"status": "scheduled", "due_at": {"$lte": utcnow()}}).to_list(None):
        entry = _event_entry(runtime, doc)
        done = await requests.update_one(
            {"_id": doc["_id"], "status": "scheduled"},
            {"$set": {"status": "accepted", "published_at": utcnow()}, "$push": {OUTBOX_FIELD: entry}},
        )
        if done.modified_count:
            runtime.outbox.dispatch(COLLECTION, doc["_id"], [entry])
            published += 1
    return published


router = APIRouter(prefix="/v1", tags=["privacy"])


@router.post(
    "/erasure-requests",
    status_code=202,
    response_model=ErasureRequestOut,
    summary="Erase a student's data across every service",
    description="The student for themselves: accepted and published at once. An admin: `scheduled`, published "
    "after `ERASURE_DELAY_DAYS` unless another admin or the student cancels it "
    "(`POST /v1/erasure-requests/{id}/cancel`). Each service deletes the student's records when it consumes "
    "`student.erasure.requested`; an open urgent flag is kept for its safety follow-up until a counsellor "
    "resolves it, and staff reads stay in the audit trail under a keyed pseudonym.",
    responses=problem_responses(*AUTH_ERRORS, 409),
)
async def request_erasure(
    body: ErasureRequestIn, principal: CurrentPrincipal, runtime: RuntimeDep, idempotency_key: IdempotencyKey = None
) -> Any:
    is_self = Role.STUDENT in principal.roles and principal.sub == body.student_id
    if not (is_self or Role.ADMIN in principal.roles):
        raise Forbidden("only an admin, or the student for themselves, may request erasure")

    async def create() -> dict[str, Any]:
        now = utcnow()
        doc: Document = {
            "_id": uuid.uuid4().hex,
            "student_id": body.student_id,
            "requested_at": now,
            "requested_by": principal.sub,
            "status": "accepted" if is_self else "scheduled",
            "due_at": None if is_self else now + _staff_delay(runtime),
        }
        if not is_self:
            await runtime.db[COLLECTION].insert_one(doc)
            return _view(doc)
        entry = _event_entry(runtime, doc)
        await runtime.db[COLLECTION].insert_one(with_outbox(doc, entry))
        runtime.outbox.dispatch(COLLECTION, doc["_id"], [entry])
        return _view(doc)

    return await runtime.idempotency.run(
        key=idempotency_key, scope=ERASURE_SCOPE, owner=principal.sub, payload=body, create=create, status_code=202
    )


@router.get(
    "/erasure-requests",
    response_model=ErasureRequestPage,
    summary="Staff erasure requests still waiting (admin), so that another admin can check or cancel them",
    responses=problem_responses(*AUTH_ERRORS),
)
async def scheduled_erasures(principal: CurrentPrincipal, runtime: RuntimeDep) -> Any:
    if Role.ADMIN not in principal.roles:
        raise Forbidden("only an admin lists erasure requests")
    docs = await runtime.db[COLLECTION].find({"status": "scheduled"}, {OUTBOX_FIELD: 0}).to_list(200)
    return {"items": [_view(d) for d in sorted(docs, key=lambda d: d["due_at"])]}


@router.post(
    "/erasure-requests/{request_id}/cancel",
    response_model=ErasureRequestOut,
    summary="Cancel a scheduled erasure (an admin, or the student concerned)",
    responses=problem_responses(*AUTH_ERRORS, 404, 409),
)
async def cancel_erasure(request_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Any:
    requests = runtime.db[COLLECTION]
    doc = await requests.find_one({"_id": request_id}, {OUTBOX_FIELD: 0})
    is_student = doc is not None and Role.STUDENT in principal.roles and doc["student_id"] == principal.sub
    if doc is None or not (is_student or Role.ADMIN in principal.roles):
        raise NotFound("no erasure request with that id for you")
    cancelled = await requests.find_one_and_update(
        {"_id": request_id, "status": "scheduled"},
        {"$set": {"status": "cancelled", "cancelled_by": principal.sub, "cancelled_at": utcnow()}},
        return_document=ReturnDocument.AFTER,
    )
    if cancelled is None:
        raise Conflict(f"the request is {doc.get('status', 'accepted')}: only a scheduled request can be cancelled")
    return _view(cancelled)
