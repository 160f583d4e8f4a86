"""A minimal service built on the shared library, used by the library's own tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from pydantic import BaseModel, Field

from medsupport_shared.app_factory import RuntimeDep, create_service_app
from medsupport_shared.auth import Principal, require_roles
from medsupport_shared.errors import AUTH_ERRORS, problem_responses
from medsupport_shared.event_types import WELLBEING_TOPIC, CheckinRecorded, owner_source
from medsupport_shared.events import CloudEvent, utcnow
from medsupport_shared.idempotency import IdempotencyKey
from medsupport_shared.outbox import ChangeRecorder, with_outbox
from medsupport_shared.runtime import ServiceRuntime
from medsupport_shared.settings import ServiceSettings


class DemoSettings(ServiceSettings):
    service_name: str = "demo"


class NoteIn(BaseModel):
    text: str = Field(min_length=1, max_length=100, examples=["hello"])


@dataclass
class DemoServices:
    runtime: ServiceRuntime
    handled: list[str] = field(default_factory=list)


router = APIRouter(prefix="/v1", tags=["demo"])
Student = Annotated[Principal, Depends(require_roles("student"))]


@router.post("/notes", status_code=201, responses=problem_responses(*AUTH_ERRORS, 409))
async def create_note(
    body: NoteIn, principal: Student, runtime: RuntimeDep, idempotency_key: IdempotencyKey = None
) -> Any:
    async def create() -> dict[str, Any]:
        note_id = uuid.uuid4().hex
        recorded = CheckinRecorded(
            checkin_id=note_id, student_id=principal.sub, instrument="who5", severity="none", recorded_at=utcnow()
        )
        # the demo stands in for wellbeing, the owner of the event
        changes = ChangeRecorder(runtime.outbox, source=owner_source(CheckinRecorded.event_type))

        async def insert(entries: list[dict[str, Any]]) -> object:
            note = {"_id": note_id, "text": body.text, "created_at": utcnow()}
            return await runtime.db["notes"].insert_one(with_outbox(note, *entries))

        await changes.record("notes", note_id, insert, recorded)
        return {"id": note_id, "text": body.text}

    return await runtime.idempotency.run(
        key=idempotency_key, scope="notes.create", owner=principal.sub, payload=body, create=create
    )


@router.get("/whoami", responses=problem_responses(*AUTH_ERRORS))
async def whoami(principal: Annotated[Principal, Depends(require_roles("counsellor"))]) -> dict[str, str]:
    return {"sub": principal.sub}


def create_app(settings: DemoSettings | None = None, *, consume: bool = True) -> FastAPI:
    settings = settings or DemoSettings()

    async def compose(runtime: ServiceRuntime) -> DemoServices:
        services = DemoServices(runtime=runtime)
        runtime.outbox.register("notes")
        runtime.publishes_to(WELLBEING_TOPIC)

        async def on_checkin(event: CloudEvent, payload: CheckinRecorded) -> None:
            services.handled.append(event.id)

        if consume:
            runtime.add_consumer(name="demo", topics=[WELLBEING_TOPIC], handlers={CheckinRecorded: on_checkin})
        return services

    return create_service_app(
        settings=settings,
        title="Demo",
        description="demo",
        routers=[router],
        compose=compose,
        configure_logs=False,
    )


def services_of(app: FastAPI | Request) -> DemoServices:
    target = app.app if isinstance(app, Request) else app
    services: DemoServices = target.state.services
    return services
