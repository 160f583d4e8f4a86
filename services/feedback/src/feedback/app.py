"""Composition of the feedback service: `uvicorn feedback.app:create_app --factory --port 8001`."""

from __future__ import annotations

from fastapi import FastAPI

from feedback import (
    api_climate,
    api_concerns,
    api_feedback,
    api_reflections,
    api_voice,
    climate_results,
    concern_escalation,
    consumers,
    feedback_requests,
    rotations,
)
from feedback.climate_repository import CLIMATE_OUTBOX_COLLECTIONS, ClimateRepository
from feedback.concern_repository import CONCERNS, ConcernRepository
from feedback.context import FeedbackContext
from feedback.repository import OUTBOX_COLLECTIONS, FeedbackRepository
from feedback.settings import FeedbackSettings
from feedback.voice_repository import SUGGESTIONS, VoiceRepository
from medsupport_shared.app_factory import create_service_app
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.event_types import FEEDBACK_TOPIC
from medsupport_shared.events import utcnow
from medsupport_shared.rate_limits import COLLECTION as RATE_COUNTERS
from medsupport_shared.rate_limits import WindowCounters
from medsupport_shared.runtime import ServiceRuntime

DESCRIPTION = """Timely feedback for medical students, and safe reporting of mistreatment.

* **Feedback** from faculty (or peers, where the context allows) about a student, in a rotation, course or
  encounter: strengths, areas for growth, next steps, an optional rating on a stated scale. The student reads all
  their feedback, an author what they wrote; nobody else.
* **Feedback requests** with a due time; an overdue request emits `feedback.overdue` exactly once.
* **Reflections and self-assessments**, private unless shared with a named mentor or faculty member.
* **Concern reports**, anonymous or named. Anonymous means anonymous: no identity is stored anywhere, and the
  reporter follows up with a code. Only the concerns officer reads and triages concerns.
* **Cohort view** for faculty and admins: aggregates per context, small groups suppressed.
* **Climate pulse** at the end of each rotation: anonymous answers (one per student, by a keyed token),
  results for clerkship directors only once grades are final, whole rotations of enough answers only.
* **Student voice**: suggestions (named or anonymous), one vote each, staff responses and status, and a
  published "you said, we did" board per programme.

Free text is encrypted at rest. Events carry ids, categories and times, never text."""


def create_app(settings: FeedbackSettings | None = None) -> FastAPI:
    settings = settings or FeedbackSettings()
    cipher = FieldCipher(settings.text_encryption_key)

    async def compose(runtime: ServiceRuntime) -> FeedbackContext:
        repo, concern_repo = FeedbackRepository(runtime.db), ConcernRepository(runtime.db)
        await repo.ensure_indexes()
        await concern_repo.ensure_indexes()
        climate, voice = ClimateRepository(runtime.db), VoiceRepository(runtime.db)
        await climate.ensure_indexes()
        await voice.ensure_indexes()
        counters = WindowCounters(
            runtime.db[RATE_COUNTERS], secret=settings.data_encryption_key.get_secret_value().encode()
        )
        await counters.ensure_indexes()
        ctx = FeedbackContext(
            settings=settings,
            repo=repo,
            concerns=concern_repo,
            outbox=runtime.outbox,
            idempotency=runtime.idempotency,
            cipher=cipher,
            counters=counters,
            climate=climate,
            voice=voice,
        )
        runtime.outbox.register(*OUTBOX_COLLECTIONS, CONCERNS, *CLIMATE_OUTBOX_COLLECTIONS, SUGGESTIONS)
        runtime.publishes_to(FEEDBACK_TOPIC)
        runtime.add_consumer(name="feedback", topics=consumers.TOPICS, handlers=consumers.handlers(ctx))
        runtime.every(
            settings.overdue_sweep_interval_seconds,
            "overdue-requests",
            lambda: feedback_requests.sweep_overdue(ctx=ctx),
        )
        runtime.every(settings.climate_sweep_interval_seconds, "climate-invitations", lambda: rotations.invite_due(ctx))
        runtime.every(
            settings.climate_sweep_interval_seconds, "climate-alerts", lambda: climate_results.sweep_alerts(ctx)
        )
        runtime.every(
            settings.overdue_sweep_interval_seconds, "concern-triage", lambda: concern_escalation.sweep_untriaged(ctx)
        )
        runtime.every(60, "rate-counters", counters.sweep)
        runtime.every(3600, "concern-idempotency", lambda: concern_repo.forget_expired_idempotency(now=utcnow()))
        return ctx

    return create_service_app(
        settings=settings,
        title="medsupport feedback",
        description=DESCRIPTION,
        compose=compose,
        routers=[
            api_feedback.requests_router,
            api_feedback.router,
            api_reflections.router,
            api_concerns.router,
            api_climate.router,
            api_voice.router,
        ],
        # The longest valid bodies (20 000 characters of free text, JSON-escaped) need more than the default.
        # An instrument (60 items of 1000 characters, 110 option labels) and a roster of 2000 ids likewise.
        body_limits={
            "/v1/feedback": 256 * 1024,
            "/v1/reflections": 256 * 1024,
            "/v1/concerns": 128 * 1024,
            "/v1/climate/instruments": 768 * 1024,
            "/v1/rotations": 512 * 1024,
        },
        openapi_tags=[
            {"name": "feedback", "description": "Feedback about students"},
            {"name": "feedback requests", "description": "Students ask assessors for feedback"},
            {"name": "reflections", "description": "Private reflections and self-assessments"},
            {"name": "concerns", "description": "Concern reports, anonymous or named, and their triage"},
            {"name": "cohort", "description": "Aggregates for faculty and admins"},
            {"name": "climate", "description": "Rotation climate pulse: anonymous answers, released results"},
            {"name": "student voice", "description": "Suggestions, votes, staff responses, you said, we did"},
        ],
    )
