"""Composition of the wellbeing service: `uvicorn wellbeing.app:create_app --factory --port 8002`."""

from __future__ import annotations

from fastapi import FastAPI

from medsupport_shared.app_factory import create_service_app
from medsupport_shared.crypto import FieldCipher
from medsupport_shared.erasure import enable_erasure_requests
from medsupport_shared.erasure import router as erasure_router
from medsupport_shared.event_types import WELLBEING_TOPIC
from medsupport_shared.rate_limits import COLLECTION as RATE_COUNTERS
from medsupport_shared.rate_limits import WindowCounters
from medsupport_shared.runtime import ServiceRuntime
from wellbeing import (
    api_referrals,
    api_resources,
    api_staff,
    api_student,
    api_workshops,
    consumers,
    flags,
    privacy,
    referrals,
    urgent_flags,
    workshops,
)
from wellbeing.context import WellbeingContext
from wellbeing.referral_repository import REFERRALS, ReferralRepository
from wellbeing.repository import OUTBOX_COLLECTIONS, WellbeingRepository
from wellbeing.resource_repository import ResourceRepository
from wellbeing.settings import WellbeingSettings
from wellbeing.urgent_spool import UrgentSpool
from wellbeing.workshop_repository import SEATS, WorkshopRepository

DESCRIPTION = """Wellbeing check-ins with validated questionnaires (WHO-5, PHQ-2, PHQ-9, GAD-2, GAD-7, PSS-10,
single-item burnout), scored exactly as published, raising flags that reach a counsellor within seconds.

Health data: answers, scores and notes are visible to the student and to `counsellor` / `wellbeing_lead` only;
every staff read is audited; notes are encrypted at rest; faculty and admins see cohort aggregates with groups
under 5 students suppressed. Events carry ids, severities and reason codes, never answers or notes."""


def create_app(settings: WellbeingSettings | None = None) -> FastAPI:
    settings = settings or WellbeingSettings()
    cipher = FieldCipher(settings.notes_encryption_key)

    async def compose(runtime: ServiceRuntime) -> WellbeingContext:
        repo = WellbeingRepository(runtime.db)
        await repo.ensure_indexes()
        await repo.backfill_queue_keys()
        referral_repo = ReferralRepository(runtime.db)
        await referral_repo.ensure_indexes()
        resource_repo = ResourceRepository(runtime.db)
        await resource_repo.ensure_indexes()
        workshop_repo = WorkshopRepository(runtime.db)
        await workshop_repo.ensure_indexes()
        counters = WindowCounters(
            runtime.db[RATE_COUNTERS], secret=settings.data_encryption_key.get_secret_value().encode()
        )
        await counters.ensure_indexes()
        ctx = WellbeingContext(
            repo=repo,
            outbox=runtime.outbox,
            settings=settings,
            cipher=cipher,
            source=settings.source,
            idempotency=runtime.idempotency,
            publisher=runtime.publisher,
            tasks=runtime.tasks,
            spool=UrgentSpool(settings.urgent_spool_path, cipher),
            referrals=referral_repo,
            resources=resource_repo,
            workshops=workshop_repo,
            counters=counters,
        )
        runtime.outbox.register(*OUTBOX_COLLECTIONS, REFERRALS, SEATS)
        runtime.publishes_to(WELLBEING_TOPIC)
        enable_erasure_requests(runtime, sweep_seconds=settings.erasure_sweep_interval_seconds)
        runtime.add_consumer(name="wellbeing", topics=consumers.TOPICS, handlers=consumers.handlers(ctx))
        runtime.every(
            settings.flag_sweep_interval_seconds, "pending-flags", lambda: flags.finish_pending_flags(ctx=ctx)
        )
        runtime.every(settings.urgent_spool_replay_seconds, "urgent-spool", lambda: urgent_flags.replay_spool(ctx=ctx))
        runtime.every(30, "open-flags-gauge", lambda: flags.refresh_open_flag_gauge(ctx=ctx))
        runtime.every(
            settings.reminder_sweep_interval_seconds, "reminders", lambda: privacy.send_due_reminders(ctx=ctx)
        )
        runtime.every(settings.erasure_sweep_interval_seconds, "kept-flags", lambda: privacy.erase_kept_flags(ctx=ctx))
        runtime.every(
            settings.retention_sweep_interval_seconds, "retention", lambda: privacy.enforce_retention(ctx=ctx)
        )
        runtime.every(
            settings.referral_sweep_interval_seconds,
            "referral-deadlines",
            lambda: referrals.escalate_missed_deadlines(ctx=ctx),
        )
        runtime.every(
            settings.workshop_sweep_interval_seconds,
            "workshop-reminders",
            lambda: workshops.send_workshop_reminders(ctx=ctx),
        )
        runtime.every(60, "rate-counters", counters.sweep)
        return ctx

    return create_service_app(
        settings=settings,
        title="medsupport wellbeing",
        description=DESCRIPTION,
        compose=compose,
        routers=[
            api_student.router,
            api_staff.router,
            api_referrals.router,
            api_resources.router,
            api_workshops.router,
            erasure_router,
        ],
        openapi_tags=[
            {"name": "check-ins", "description": "Questionnaires and the student's own data"},
            {"name": "counselling", "description": "Flags and individual data for counselling staff"},
            {"name": "referrals", "description": "Appointment requests, concerns about a student, triage"},
            {"name": "resources", "description": "The institution's catalogue of help"},
            {"name": "aggregates", "description": "Cohort views for faculty and admins"},
            {"name": "privacy", "description": "Erasure requests"},
        ],
    )
