"""Composition of the mentorship service: `uvicorn mentorship.app:create_app --factory --port 8003`."""

from __future__ import annotations

from fastapi import FastAPI

from medsupport_shared.app_factory import create_service_app
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.event_types import MENTORSHIP_TOPIC
from medsupport_shared.outbox import ChangeRecorder
from medsupport_shared.rate_limits import COLLECTION as RATE_COUNTERS
from medsupport_shared.rate_limits import WindowCounters
from medsupport_shared.runtime import ServiceRuntime
from mentorship import (
    api_assignments,
    api_matching,
    api_meetings,
    api_peer_groups,
    api_profiles,
    consumers,
)
from mentorship.context import MentorshipContext
from mentorship.meeting_reminders import send_meeting_reminders
from mentorship.repository import OUTBOX_COLLECTIONS, MentorshipRepository
from mentorship.settings import MentorshipSettings

DESCRIPTION = """Mentor profiles, students' preferences, fair and optimal matching under capacity, assignments,
meetings with private notes, and peer-support groups. Students with an open wellbeing flag are matched first
(learned from `flag.raised`, without any wellbeing detail)."""


def create_app(settings: MentorshipSettings | None = None) -> FastAPI:
    settings = settings or MentorshipSettings()
    cipher = FieldCipher(settings.notes_encryption_key)

    async def compose(runtime: ServiceRuntime) -> MentorshipContext:
        repo = MentorshipRepository(runtime.db)
        await repo.ensure_indexes()
        secret = settings.data_encryption_key.get_secret_value().encode()
        counters = WindowCounters(runtime.db[RATE_COUNTERS], secret=secret)
        await counters.ensure_indexes()
        runtime.every(60, "rate-counters", counters.sweep)
        ctx = MentorshipContext(
            counters=counters,
            repo=repo,
            changes=ChangeRecorder(runtime.outbox, source=settings.source),
            settings=settings,
            cipher=cipher,
            idempotency=runtime.idempotency,
        )
        runtime.outbox.register(*OUTBOX_COLLECTIONS)
        runtime.publishes_to(MENTORSHIP_TOPIC)
        runtime.add_consumer(name="mentorship", topics=consumers.TOPICS, handlers=consumers.handlers(ctx))
        runtime.every(
            settings.reminder_sweep_interval_seconds,
            "meeting-reminders",
            lambda: send_meeting_reminders(ctx=ctx),
        )
        return ctx

    return create_service_app(
        settings=settings,
        title="medsupport mentorship",
        description=DESCRIPTION,
        compose=compose,
        # in this order: it is the order of the paths in the OpenAPI document
        routers=[
            api_profiles.router,
            api_matching.router,
            api_assignments.router,
            api_meetings.router,
            api_peer_groups.router,
        ],
        body_limits={"/v1/peer-groups/matching": 256 * 1024},  # up to 500 student ids
        openapi_tags=[
            {"name": "mentorship", "description": "Profiles, preferences, assignments, meetings"},
            {"name": "matching", "description": "Optimal matching runs"},
            {"name": "peer groups", "description": "Peer-support groups"},
        ],
    )
