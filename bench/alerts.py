"""Alert latency: from the `POST /v1/checkins` that raises an urgent flag to (a) the signed webhook
arriving at a local receiver and (b) the alert on the counsellor's SSE inbox stream.

Each urgent check-in comes from a fresh student, so every one raises a new flag and a new alert
(no grouping). Urgent check-ins are fired open loop; under "sustained" load, routine check-ins
from a pool of students run open loop in the background at the same time."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request, Response

from bench.http_bench import URGENT_ANSWERS, Profile, routine_checkin_operation, student_headers
from bench.loadgen import HttpClient, open_loop, poll
from bench.stats import Recorder, histogram_quantiles, median_of
from medsupport_shared.events import utcnow
from medsupport_shared.testing import free_port, serving, token_for
from notifications.domain.delivery_policy import verify

COUNSELLOR = "bench-c1"
WEBHOOK_SECRET = "bench-webhook-secret"


class _SmtpSink:
    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return "250 OK"


class SmtpSink:
    """Accepts the email channel's messages so email deliveries succeed instead of retrying."""

    def __init__(self) -> None:
        self.port = free_port()
        self._controller = Controller(_SmtpSink(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpSink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


class AlertProbe:
    """The local webhook receiver (verifies X-Signature) and the SSE follower, timing each student."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.webhook: dict[str, float] = {}
        self.sse: dict[str, float] = {}
        self.bad_signatures = 0
        self.app = FastAPI()

        @self.app.post("/hook")
        async def hook(request: Request) -> Response:
            body = await request.body()
            arrived = time.perf_counter()
            if not verify(body, WEBHOOK_SECRET, request.headers.get("X-Signature", "")):
                self.bad_signatures += 1
                return Response(status_code=401)
            self.webhook.setdefault(json.loads(body)["subject_id"], arrived)
            return Response(status_code=204)

    async def follow(self, base_url: str, ready: asyncio.Event) -> None:
        headers = {"Authorization": f"Bearer {token_for(COUNSELLOR, 'counsellor', expires_in=4 * 3600)}"}
        async with (
            httpx.AsyncClient(timeout=None) as client,
            client.stream("GET", f"{base_url}/v1/inbox/stream", headers=headers) as response,
        ):
            async for line in response.aiter_lines():
                ready.set()
                if line.startswith("data: "):
                    arrived = time.perf_counter()
                    self.sse.setdefault(json.loads(line[6:])["subject_id"], arrived)

    def collect(self, students: list[str]) -> dict[str, Recorder]:
        webhook, sse = Recorder(), Recorder()
        for student in students:
            started = self.sent.get(student)
            if started is None:
                continue
            for recorder, seen in ((webhook, self.webhook), (sse, self.sse)):
                if student in seen:
                    recorder.record((seen[student] - started) * 1000)
                else:
                    recorder.fail("missing")
        return {"webhook": webhook, "sse": sse}


FLAG_PUBLISHED = "medsupport_wellbeing_checkin_to_flag_published_seconds"
FIRST_DELIVERY = "medsupport_notifications_event_to_first_delivery_seconds"


async def _scrape(client: HttpClient) -> str:
    """The service's own view: its histograms are timed inside the server, free of the load generator's delays."""
    response = await client.get("/metrics")
    return response.body.decode() if response.status == 200 else ""


async def set_up_routing(notifications: HttpClient, webhook_url: str) -> None:
    admin = {"Authorization": f"Bearer {token_for('bench-admin', 'admin', 'wellbeing_lead')}"}  # grants counsellor
    staff = {"name": "Bench Counsellor", "roles": ["counsellor"], "email": "c1@bench.example.edu"}
    response = await notifications.put(f"/v1/staff/{COUNSELLOR}", {**staff, "webhook_url": webhook_url}, admin)
    if response.status != 200:
        raise RuntimeError(f"PUT /v1/staff: {response.status} {response.body[:300]!r}")
    now = utcnow()
    shift = {"staff_id": COUNSELLOR, "start": (now - timedelta(hours=1)).isoformat(), "end": (now + timedelta(hours=12)).isoformat()}  # fmt: skip
    response = await notifications.put("/v1/rotas/counselling", {"lead_id": COUNSELLOR, "shifts": [shift]}, admin)
    if response.status != 200 or response.json()["on_call_now"] != COUNSELLOR:
        raise RuntimeError(f"PUT /v1/rotas/counselling: {response.status} {response.body[:300]!r}")


def heavier_phase(rate: float) -> str:
    """The report key of a phase with ``rate`` routine check-ins/s in the background (beyond "sustained")."""
    return f"background {rate:g}/s"


def alert_phases(alerts: dict[str, Any]) -> list[str]:
    """The phases a report holds, lightest background first."""
    phases = [k for k, v in alerts.items() if isinstance(v, dict) and "background_rate" in v]
    return sorted(phases, key=lambda k: alerts[k]["background_rate"])


async def alert_latency(
    *,
    wellbeing_url: str,
    notifications_url: str,
    profile: Profile,
    background_rate: float,
    run: str,
    heavier_rates: tuple[float, ...] = (),
    reset: Callable[[], Awaitable[None]],
) -> dict[str, Any]:
    probe = AlertProbe()
    wellbeing = HttpClient(wellbeing_url, max_connections=64)
    notifications = HttpClient(notifications_url, max_connections=4)
    background_students = student_headers(f"bg{run}-", 200)
    routine = routine_checkin_operation(wellbeing, background_students)
    per_run = profile.urgent_per_run
    urgent_rate = 4.0
    post = Recorder()

    async def urgent(name: str, seq: int) -> bool:
        student = f"u{run}-{name}-{seq}"
        headers = {"Authorization": f"Bearer {token_for(student, 'student', cohort='2027')}"}
        probe.sent[student] = started = time.perf_counter()
        try:
            response = await wellbeing.post("/v1/checkins", {"instrument": "phq9", "answers": URGENT_ANSWERS}, headers)
        except Exception as exc:  # never accepted, so no alert can be expected: not "missing" but a failed post
            probe.sent.pop(student, None)
            post.fail(type(exc).__name__)
            raise
        post.record((time.perf_counter() - started) * 1000)
        return response.status == 201 and response.json()["severity"] == "urgent"

    async def wait_for(students: list[str], timeout: float) -> None:
        expected = [s for s in students if s in probe.sent]  # a post that failed is not waited for
        await poll(lambda: all(s in probe.webhook and s in probe.sse for s in expected), timeout)

    async with serving(probe.app) as receiver_url:
        await set_up_routing(notifications, f"{receiver_url}/hook")
        ready = asyncio.Event()
        follower = asyncio.create_task(probe.follow(notifications_url, ready))
        try:
            await asyncio.wait_for(ready.wait(), 30)
            # Warm-up: the first urgent alert also waits for the consumer group to settle.
            await urgent("warmup", 0)
            await wait_for([f"u{run}-warmup-0"], 90)
            if f"u{run}-warmup-0" not in probe.webhook:
                raise RuntimeError("the warm-up urgent check-in never reached the webhook receiver")
            phases: dict[str, Any] = {}
            loads = [("light", 0.0), ("sustained", background_rate)]
            loads += [(heavier_phase(rate), rate) for rate in heavier_rates if rate != background_rate]
            for phase, rate in loads:
                scraped = {"wellbeing": await _scrape(wellbeing), "notifications": await _scrape(notifications)}
                runs: dict[str, list[dict[str, Any]]] = {"webhook": [], "sse": []}
                pooled: dict[str, Recorder] = {"webhook": Recorder(), "sse": Recorder()}
                post.samples.clear()
                for index in range(profile.latency_runs):
                    name = f"{phase}{index}"
                    await reset()
                    seconds = per_run / urgent_rate
                    background = asyncio.create_task(open_loop(rate, seconds + 2.0, routine)) if rate > 0 else None
                    if background is not None:
                        await asyncio.sleep(1.0)
                    result = await open_loop(urgent_rate, seconds, functools.partial(urgent, name))
                    students = [f"u{run}-{name}-{seq}" for seq in range(result.sent)]
                    await wait_for(students, 30)
                    bg = (await background).summary() if background is not None else None
                    for kind, recorder in probe.collect(students).items():
                        runs[kind].append(recorder.summary())
                        pooled[kind].samples += recorder.samples
                        pooled[kind].errors += recorder.errors
                    runs.setdefault("background", []).append(bg)  # type: ignore[arg-type]
                    await asyncio.sleep(1.0)
                phases[phase] = {
                    "background_rate": rate,
                    "urgent_rate": urgent_rate,
                    "webhook": {**median_of(runs["webhook"]), "pooled": pooled["webhook"].summary()},
                    "sse": {**median_of(runs["sse"]), "pooled": pooled["sse"].summary()},
                    "checkin_post": post.summary(),
                    "background": runs.get("background"),
                    "per_run": {k: runs[k] for k in ("webhook", "sse")},
                    "server_side": {
                        "checkin_to_flag_in_kafka": histogram_quantiles(
                            scraped["wellbeing"], await _scrape(wellbeing), FLAG_PUBLISHED, {"severity": "urgent"}
                        ),
                        "event_to_first_delivery": histogram_quantiles(
                            scraped["notifications"],
                            await _scrape(notifications),
                            FIRST_DELIVERY,
                            {"severity": "urgent"},
                        ),
                    },
                }
            phases["bad_signatures"] = probe.bad_signatures
        finally:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await follower
            await wellbeing.aclose()
            await notifications.aclose()
    return phases
