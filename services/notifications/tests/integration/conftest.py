"""A real SMTP server (aiosmtpd), a real HTTP webhook receiver and the service on real Kafka/FerretDB."""

import asyncio
from datetime import timedelta
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request, Response

from medsupport_shared.event_types import FlagRaised
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.kafka import EventPublisher
from medsupport_shared.testing import TopicReader, auth, free_port, serving
from notifications.app import create_app
from notifications.domain.delivery_policy import verify
from notifications.settings import NotificationsSettings

SECRET = "test-webhook-secret"
ADMIN = auth("admin-1", "admin")
LEAD = auth("lead-1", "wellbeing_lead")  # grants health-data roles (counsellor, wellbeing_lead) in the directory
DIRECTORY = auth("lead-1", "wellbeing_lead", "admin")  # writes any directory entry


class Mailbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


class WebhookReceiver:
    """Answers per path: /ok always 204, /flaky 500 twice then 204, /dead always 500."""

    def __init__(self):
        self.received: list[tuple[str, dict, bool]] = []
        self.hosts: list[str] = []
        self.calls: dict[str, int] = {}
        self.app = FastAPI()

        @self.app.post("/{name}")
        async def receive(name: str, request: Request) -> Response:
            body = await request.body()
            self.calls[name] = self.calls.get(name, 0) + 1
            if name == "dead" or (name == "flaky" and self.calls[name] <= 2):
                return Response(status_code=500)
            signed = verify(body, SECRET, request.headers.get("X-Signature", ""))
            self.received.append((name, await request.json(), signed))
            self.hosts.append(request.headers["host"])
            return Response(status_code=204)


@pytest.fixture
async def smtp():
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, mailbox
    controller.stop()


@pytest.fixture
async def webhooks():
    receiver = WebhookReceiver()
    async with serving(receiver.app) as url:
        receiver.url = url
        yield receiver


class Stack:
    def __init__(self, isolation, smtp, webhooks, **overrides):
        controller, self.mailbox = smtp
        self.webhooks = webhooks
        self.isolation = isolation
        defaults = {
            "smtp_host": "127.0.0.1",
            "smtp_port": controller.port,
            "smtp_starttls": False,  # aiosmtpd's controller speaks plain SMTP
            "webhook_allowed_hosts": ["127.0.0.1"],  # the local receivers
            "webhook_signing_secret": SECRET,
            "delivery_sweep_interval_seconds": 0.1,
            "escalation_sweep_interval_seconds": 0.2,
            "delivery_backoff_base_seconds": 0.05,
            "delivery_max_attempts": 3,
            "sse_poll_seconds": 0.2,
        }
        self.settings = isolation.settings(NotificationsSettings, **{**defaults, **overrides})
        self.publisher = EventPublisher(
            bootstrap_servers=self.settings.kafka_bootstrap_servers, topic_prefix=isolation.topic_prefix, service="test"
        )

    def app(self):
        return create_app(self.settings)

    async def setup_staff(self, client, webhook="ok"):
        people = {
            "c1": {
                "roles": ["counsellor"],
                "email": "c1@med.example.edu",
                "webhook_url": f"{self.webhooks.url}/{webhook}",
            },
            "c2": {"roles": ["counsellor"], "email": "c2@med.example.edu"},
            "lead-1": {"roles": ["wellbeing_lead"], "email": "lead@med.example.edu"},
            "admin-1": {"roles": ["admin"], "email": "admin@med.example.edu"},
        }
        for staff_id, body in people.items():
            response = await client.put(f"/v1/staff/{staff_id}", json=body, headers=DIRECTORY)
            assert response.status_code == 200, response.text
        now = utcnow()
        rota = {
            "lead_id": "lead-1",
            "shifts": [
                {
                    "staff_id": "c1",
                    "start": (now - timedelta(hours=1)).isoformat(),
                    "end": (now + timedelta(hours=8)).isoformat(),
                }
            ],
        }
        response = await client.put("/v1/rotas/counselling", json=rota, headers=ADMIN)
        assert response.status_code == 200 and response.json()["on_call_now"] == "c1"

    async def short_escalation(self, client, minutes=(0.02, 0.04)):
        rules = (await client.get("/v1/routes", headers=ADMIN)).json()["items"]
        urgent = next(r for r in rules if r["id"] == "wellbeing-urgent")
        urgent["escalation"][0]["after_minutes"], urgent["escalation"][1]["after_minutes"] = minutes
        response = await client.put("/v1/routes/wellbeing-urgent", json=urgent, headers=ADMIN)
        assert response.status_code == 200, response.text

    async def flag(self, student="s1", severity="urgent", flag_id="f1", event_type=FlagRaised, event_id=None):
        event = new_event(
            event_type(
                flag_id=flag_id,
                student_id=student,
                severity=severity,
                reasons=["phq9_item9_positive"] if severity == "urgent" else ["who5_low"],
                instrument="phq9",
                cohort="2027",
                **{("raised_at" if event_type is FlagRaised else "updated_at"): utcnow()},
            ),
            source="/services/wellbeing",
            event_id=event_id,
        )
        await self.publisher.publish(event)
        return event

    def reader(self):
        return TopicReader(self.settings.kafka_bootstrap_servers, self.isolation.topic("notifications.events.v1"))


@pytest.fixture
async def make_stack(isolation, smtp, webhooks):
    """A stack with settings of the test's own (``make_stack(webhook_timeout_seconds=2)``)."""
    made: list[Stack] = []

    def make(**overrides) -> Stack:
        made.append(Stack(isolation, smtp, webhooks, **overrides))
        return made[-1]

    yield make
    for s in made:
        await s.publisher.stop()


@pytest.fixture
async def stack(isolation, smtp, webhooks):
    s = Stack(isolation, smtp, webhooks)
    yield s
    await s.publisher.stop()


async def wait_for_consumer(app):
    from medsupport_shared.testing import eventually

    runtime = app.state.runtime
    await eventually(lambda: all(c.assigned.is_set() for c in runtime.consumers), timeout=30)
    await asyncio.sleep(0)
