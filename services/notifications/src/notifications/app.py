"""Composition of the notifications service: `uvicorn notifications.app:create_app --factory --port 8004`."""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack

import httpx
from fastapi import FastAPI

from medsupport_shared.app_factory import create_service_app
from medsupport_shared.event_types import NOTIFICATIONS_TOPIC, WELLBEING_TOPIC
from medsupport_shared.runtime import ServiceRuntime
from notifications import (
    api_alert_reads,
    api_directory,
    api_imports,
    api_inbox,
    api_reports,
    api_routes,
    consumers,
    deliveries,
    escalation,
    retention,
)
from notifications.channels import channel_registry
from notifications.context import NotificationsContext
from notifications.repository import OUTBOX_COLLECTIONS, NotificationsRepository
from notifications.safety import SAFETY_FLOOR_CONTACT_ID, urgent_flag_route_problems
from notifications.settings import NotificationsSettings

log = logging.getLogger(__name__)
DESCRIPTION = """Consumes every service's events and routes alerts to the right people (on-call counsellor,
wellbeing lead, mentor, concerns officer, the student) by in-app inbox (live over SSE), email and signed webhooks,
retrying failed channels, until a human acknowledges; unacknowledged urgent alerts escalate.

Alerts carry ids, event types, severities, reasons, the subject id and a link path, never answers, notes or
concern text; what leaves by e-mail or webhook is a severity, a title and a link to the alert's page. Default
routing rules are seeded at first start."""


def safety_floor_contact(settings: NotificationsSettings) -> dict[str, dict[str, object]]:
    """The settings-level last-resort contact as a recipient (empty when neither address is set)."""
    if settings.safety_floor_email is None and settings.safety_floor_webhook_url is None:
        return {}
    webhook = str(settings.safety_floor_webhook_url) if settings.safety_floor_webhook_url else None
    contact: dict[str, object] = {
        "kind": "safety_floor",
        "roles": [],
        "email": settings.safety_floor_email,
        "webhook_url": webhook,
    }
    return {SAFETY_FLOOR_CONTACT_ID: {"_id": SAFETY_FLOOR_CONTACT_ID, "name": "Safety floor contact", **contact}}


def create_app(settings: NotificationsSettings | None = None) -> FastAPI:
    settings = settings or NotificationsSettings()
    resources = AsyncExitStack()

    async def compose(runtime: ServiceRuntime) -> NotificationsContext:
        repo = NotificationsRepository(runtime.db, fixed_people=safety_floor_contact(settings))
        await repo.ensure_indexes()
        await repo.seed_default_rules()
        if problems := urgent_flag_route_problems(await repo.rules()):  # stored by an older version or by hand
            log.error(
                "the routing rules break the safety invariant; the safety floor covers urgent flags",
                extra={"problems": problems},
            )
        client = await resources.enter_async_context(httpx.AsyncClient(follow_redirects=False))
        runtime.on_stop(resources.aclose)
        ctx = NotificationsContext(
            repo=repo,
            outbox=runtime.outbox,
            settings=settings,
            channels=channel_registry(settings, client),
            idempotency=runtime.idempotency,
            source=settings.source,
            tasks=runtime.tasks,
        )
        runtime.outbox.register(*OUTBOX_COLLECTIONS)
        runtime.publishes_to(NOTIFICATIONS_TOPIC)
        runtime.add_consumer(name="notifications", topics=consumers.TOPICS, handlers=consumers.handlers(ctx))
        runtime.add_consumer(
            name="notifications-flags", topics=[WELLBEING_TOPIC], handlers=consumers.flag_handlers(ctx), lane="flags"
        )
        runtime.every(settings.delivery_sweep_interval_seconds, "deliveries", lambda: deliveries.deliver_due(ctx=ctx))
        runtime.every(
            settings.escalation_sweep_interval_seconds, "escalations", lambda: escalation.escalate_due(ctx=ctx)
        )
        runtime.every(15, "open-urgent-gauge", lambda: escalation.refresh_open_urgent_gauge(ctx=ctx))
        runtime.every(retention.SWEEP_SECONDS, "retention", lambda: retention.expire_old(ctx=ctx))
        return ctx

    return create_service_app(
        settings=settings,
        title="medsupport notifications",
        description=DESCRIPTION,
        compose=compose,
        # api_reports before api_inbox: /alerts/acknowledgement-times is not an alert id
        routers=[
            api_directory.router,
            api_imports.router,
            api_routes.router,
            api_reports.router,
            api_inbox.router,
            api_alert_reads.router,
        ],
        # A rota of up to 2000 shifts, bulk imports of up to 5000 staff / 20 000 students (admin routes).
        body_limits={"/v1/rotas": 512 * 1024, "/v1/staff": 4 * 1024 * 1024, "/v1/students": 8 * 1024 * 1024},
        openapi_tags=[
            {"name": "inbox", "description": "Each user's alerts"},
            {"name": "alerts", "description": "Alert details, deliveries, acknowledgement"},
            {"name": "directory", "description": "Staff, preferences and on-call rotas"},
            {"name": "routing", "description": "Routing rules (admin)"},
        ],
    )
