"""A webhook endpoint that drip-feeds its reply is cut at the total deadline, and meanwhile every other
delivery (first attempts and retries alike, all through the sweep here) goes out at once."""

import asyncio
import time

import pytest

from medsupport_shared.events import utcnow
from medsupport_shared.testing import eventually, running
from notifications.domain.deliveries import plan_deliveries

pytestmark = pytest.mark.integration
DEADLINE = 2.5


class DripServer:
    """Reads a request, then sends one reply header line every 0.2 s for 20 s: no single read ever waits
    long, so only a total deadline ends the exchange. Records how long each connection was held."""

    def __init__(self) -> None:
        self.held: list[float] = []

    async def __aenter__(self) -> "DripServer":
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        started = time.monotonic()
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.lower().split(b"\r\n")
        await reader.readexactly(next(int(h.split(b":")[1]) for h in lines if h.startswith(b"content-length")))
        writer.write(b"HTTP/1.1 200 OK\r\n")
        try:
            for _ in range(100):
                if reader.at_eof():  # the client gave up and closed
                    break
                writer.write(b"X-Drip: a\r\n")
                await writer.drain()
                await asyncio.sleep(0.2)
        except ConnectionError:
            pass
        self.held.append(time.monotonic() - started)
        writer.close()


class SlowSmtp:
    """An SMTP server that answers every command, each just within the client's per-read timeout: only a
    total deadline stops the conversation from taking many times that."""

    def __init__(self, pause: float) -> None:
        self.pause = pause

    async def __aenter__(self) -> "SlowSmtp":
        self.server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = int(self.server.sockets[0].getsockname()[1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()

    async def reply(self, writer: asyncio.StreamWriter, line: bytes) -> None:
        await asyncio.sleep(self.pause)
        writer.write(line)
        await writer.drain()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self.reply(writer, b"220 slow.example ESMTP\r\n")
            while command := (await reader.readline()).upper():
                if command.startswith(b"DATA"):
                    await self.reply(writer, b"354 go on\r\n")
                    await reader.readuntil(b"\r\n.\r\n")
                await self.reply(writer, b"221 bye\r\n" if command.startswith(b"QUIT") else b"250 ok\r\n")
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        writer.close()


def urgent_alert(alert_id: str, recipient: str, severity: str = "urgent") -> dict:
    now = utcnow()
    return {
        "_id": alert_id,
        "recipient_id": recipient,
        "subject_id": "s1",
        "event_type": "flag.raised",
        "family": "flag",
        "severity": severity,
        "urgent": severity == "urgent",
        "title": "Urgent wellbeing flag",
        "link": f"/alerts/{alert_id}",
        "status": "open",
        "reasons": [],
        "created_at": now,
        "updated_at": now,
    }


async def test_a_drip_feeding_webhook_is_cut_at_the_deadline_and_never_delays_another(make_stack, webhooks):
    stack = make_stack(webhook_timeout_seconds=DEADLINE, delivery_max_attempts=1)
    app = stack.app()
    async with DripServer() as drip, running(app) as client:
        await stack.setup_staff(client)
        ctx = app.state.services
        await ctx.repo.save_person(person_id="c1", fields={"webhook_url": drip.url})
        await ctx.repo.save_person(person_id="c2", fields={"webhook_url": f"{webhooks.url}/ok"})
        planned = []
        for alert_id, recipient in (("slow-alert", "c1"), ("fast-alert", "c2")):  # the slow one is due first
            alert = urgent_alert(alert_id, recipient)
            await ctx.repo.insert_alert(alert=alert, entries=[])
            person = await ctx.repo.person(person_id=recipient)
            planned += plan_deliveries(
                alert=alert, channels=["webhook"], person=person, registry=ctx.channels, now=utcnow()
            )
        started = time.monotonic()
        await ctx.repo.insert_deliveries(deliveries=planned)  # due now: the sweep sends both

        await eventually(lambda: webhooks.received, timeout=DEADLINE * 0.75, message="the fast webhook called")
        assert time.monotonic() - started < DEADLINE
        await eventually(lambda: drip.held, timeout=DEADLINE + 3, message="the slow exchange cut")
        assert drip.held[0] < DEADLINE * 1.6  # without a total deadline: 20 s
        slow = await eventually(lambda: ctx.repo.deliveries.find_one({"_id": "slow-alert:webhook", "status": "failed"}))
        assert slow["attempts"][0]["error"] == f"webhook: no reply within {DEADLINE:g}s"
        fast = await ctx.repo.deliveries.find_one({"_id": "fast-alert:webhook"})
        assert fast["status"] == "delivered" and len(webhooks.received) == 1


async def test_a_drip_feeding_mail_server_is_cut_at_the_deadline(make_stack):
    async with SlowSmtp(pause=DEADLINE * 0.6) as slow:
        stack = make_stack(smtp_port=slow.port, smtp_timeout_seconds=DEADLINE, delivery_max_attempts=1)
        app = stack.app()
        async with running(app) as client:
            await stack.setup_staff(client)
            ctx = app.state.services
            alert = urgent_alert("mail-alert", "c2")
            await ctx.repo.insert_alert(alert=alert, entries=[])
            person = await ctx.repo.person(person_id="c2")
            planned = plan_deliveries(
                alert=alert, channels=["email"], person=person, registry=ctx.channels, now=utcnow()
            )
            started = time.monotonic()
            await ctx.repo.insert_deliveries(deliveries=planned)

            failed = await eventually(
                lambda: ctx.repo.deliveries.find_one({"_id": "mail-alert:email", "status": "failed"}),
                timeout=DEADLINE + 3,
                message="the slow conversation cut",
            )
            # without a total deadline the conversation takes 6 replies x 1.5 s = 9 s
            assert time.monotonic() - started < DEADLINE * 2
            assert failed["attempts"][0]["error"] == f"smtp: no answer within {DEADLINE:g}s"


async def test_routine_sends_that_fill_every_slot_never_hold_up_an_urgent_one(make_stack, webhooks):
    stack = make_stack(webhook_timeout_seconds=DEADLINE, delivery_max_attempts=1, delivery_concurrency=1)
    app = stack.app()
    async with DripServer() as drip, running(app) as client:
        await stack.setup_staff(client)
        ctx = app.state.services
        await ctx.repo.save_person(person_id="c1", fields={"webhook_url": drip.url})
        await ctx.repo.save_person(person_id="c2", fields={"webhook_url": f"{webhooks.url}/ok"})
        routine = urgent_alert("routine-alert", "c1", severity="routine")
        await ctx.repo.insert_alert(alert=routine, entries=[])
        person = await ctx.repo.person(person_id="c1")
        await ctx.repo.insert_deliveries(
            deliveries=plan_deliveries(
                alert=routine, channels=["webhook"], person=person, registry=ctx.channels, now=utcnow()
            )
        )
        await eventually(lambda: ctx.repo.deliveries.find_one({"_id": "routine-alert:webhook", "status": "sending"}))

        urgent = urgent_alert("urgent-alert", "c2")
        await ctx.repo.insert_alert(alert=urgent, entries=[])
        person = await ctx.repo.person(person_id="c2")
        started = time.monotonic()
        await ctx.repo.insert_deliveries(
            deliveries=plan_deliveries(
                alert=urgent, channels=["webhook"], person=person, registry=ctx.channels, now=utcnow()
            )
        )
        await eventually(lambda: webhooks.received, timeout=DEADLINE, message="the urgent webhook called")
        assert time.monotonic() - started < DEADLINE * 0.75
        assert drip.held == []  # the routine send still held its only slot meanwhile
