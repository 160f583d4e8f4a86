"""Erasure requests (GDPR Art. 17): ``POST /v1/erasure-requests`` publishes
``student.erasure.requested`` on ``platform.events.v1``; every service consumes it and deletes
what it holds about the student. Mounted by one service (wellbeing); the record kept here is only
the fact of the request."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from medsupport_shared.app_factory import RuntimeDep
from medsupport_shared.auth import CurrentPrincipal, Role
from medsupport_shared.errors import AUTH_ERRORS, Forbidden, problem_responses
from medsupport_shared.event_types import PLATFORM_TOPIC, StudentErasureRequested
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.idempotency import ERASURE_SCOPE, IdempotencyKey
from medsupport_shared.outbox import outbox_entry, with_outbox
from medsupport_shared.runtime import ServiceRuntime

COLLECTION = "erasure_requests"


class ErasureRequestIn(BaseModel):
    student_id: str = Field(min_length=1, max_length=200, examples=["student-42"])


class ErasureRequestOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "9b2d4f6a8c0e4a1b8c5d7e9f1a2b4c6d",
                    "student_id": "student-42",
                    "status": "accepted",
                    "requested_at": "2026-11-25T09:30:00Z",
                }
            ]
        }
    )
    id: str
    student_id: str
    status: str = Field(examples=["accepted"])
    requested_at: str


def enable_erasure_requests(runtime: ServiceRuntime) -> None:
    """Call from the mounting service's compose."""
    runtime.outbox.register(COLLECTION)
    runtime.publishes_to(PLATFORM_TOPIC)


router = APIRouter(prefix="/v1", tags=["privacy"])


@router.post(
    "/erasure-requests",
    status_code=202,
    response_model=ErasureRequestOut,
    summary="Erase a student's data across every service",
    description="An admin, or the student for themselves. Accepted at once; each service deletes the "
    "student's records when it consumes `student.erasure.requested`.",
    responses=problem_responses(*AUTH_ERRORS, 409),
)
async def request_erasure(
    body: ErasureRequestIn, principal: CurrentPrincipal, runtime: RuntimeDep, idempotency_key: IdempotencyKey = None
) -> Any:
    is_self = Role.STUDENT in principal.roles and principal.sub == body.student_id
    if not (is_self or Role.ADMIN in principal.roles):
        raise Forbidden("only an admin, or the student for themselves, may request erasure")

    async def create() -> dict[str, Any]:
        request_id, now = uuid.uuid4().hex, utcnow()
        event = new_event(
            StudentErasureRequested(student_id=body.student_id, requested_at=now, requested_by=principal.sub),
            source=runtime.settings.source,
        )
        entry = outbox_entry(event)
        await runtime.db[COLLECTION].insert_one(
            with_outbox({"_id": request_id, "student_id": body.student_id, "requested_at": now}, entry)
        )
        runtime.outbox.dispatch(COLLECTION, request_id, [entry])
        return {"id": request_id, "student_id": body.student_id, "status": "accepted", "requested_at": now}

    return await runtime.idempotency.run(
        key=idempotency_key, scope=ERASURE_SCOPE, owner=principal.sub, payload=body, create=create, status_code=202
    )
