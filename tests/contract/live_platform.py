"""The four services on the real Kafka and MongoDB-protocol server, served over loopback HTTP from an event
loop of their own thread, so synchronous callers (schemathesis, Hypothesis) can drive them while their
consumers, outbox relays and delivery sweeps keep running; plus a local SMTP server and webhook receiver."""

from __future__ import annotations

import asyncio
import threading
from contextlib import AsyncExitStack
from email import message_from_bytes
from typing import Any

from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request, Response

from feedback.app import create_app as feedback_app
from feedback.settings import FeedbackSettings
from medsupport_shared.testing import free_port, serving
from mentorship.app import create_app as mentorship_app
from mentorship.settings import MentorshipSettings
from notifications.app import create_app as notifications_app
from notifications.settings import NotificationsSettings
from wellbeing.app import create_app as wellbeing_app
from wellbeing.settings import WellbeingSettings


class Mailbox:
    def __init__(self) -> None:
        self.recipients: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message_from_bytes(envelope.content)  # a well-formed message, or the test sees the exception
        self.recipients.extend(envelope.rcpt_tos)
        return "250 OK"


class WebhookReceiver:
    """Records every POST by path (always answers 204)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.app = FastAPI()

        @self.app.post("/{name}")
        async def receive(name: str, request: Request) -> Response:
            self.received.append((name, await request.json()))
            return Response(status_code=204)


class LivePlatform:
    """``with LivePlatform(isolation, safety_floor=...) as platform: platform.urls["wellbeing"]``."""

    def __init__(self, isolation: Any) -> None:
        self.isolation = isolation
        self.mailbox = Mailbox()
        self.webhooks = WebhookReceiver()
        self.urls: dict[str, str] = {}
        self.apps: dict[str, FastAPI] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-platform", daemon=True)
        self._stack = AsyncExitStack()
        self._smtp = Controller(self.mailbox, hostname="127.0.0.1", port=free_port())
        self.smtp_port = self._smtp.port
        self.webhook_port = free_port()

    @property
    def webhook_base(self) -> str:
        return f"http://127.0.0.1:{self.webhook_port}"

    def _build(self) -> dict[str, FastAPI]:
        iso = self.isolation
        return {
            "feedback": feedback_app(iso.settings(FeedbackSettings)),
            "wellbeing": wellbeing_app(iso.settings(WellbeingSettings)),
            "mentorship": mentorship_app(iso.settings(MentorshipSettings)),
            "notifications": notifications_app(
                iso.settings(
                    NotificationsSettings,
                    smtp_port=self.smtp_port,
                    delivery_sweep_interval_seconds=0.2,
                    escalation_sweep_interval_seconds=0.5,
                    delivery_backoff_base_seconds=0.05,
                    delivery_max_attempts=2,
                    webhook_timeout_seconds=2.0,
                    webhook_allowed_hosts=["127.0.0.1"],  # the local receiver; anything else stays refused
                )
            ),
        }

    async def _start(self) -> None:
        await self._stack.enter_async_context(serving(self.webhooks.app, port=self.webhook_port))
        for name, app in self.apps.items():
            self.urls[name] = await self._stack.enter_async_context(serving(app))

    def run(self, coroutine: Any, timeout: float = 60.0) -> Any:
        """Run a coroutine in the platform's loop (e.g. a repository read) and return its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def __enter__(self) -> LivePlatform:
        self._smtp.start()
        self.apps = self._build()
        self._thread.start()
        self.run(self._start(), timeout=120)
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.run(self._stack.aclose(), timeout=120)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(30)
            self._loop.close()
            self._smtp.stop()
