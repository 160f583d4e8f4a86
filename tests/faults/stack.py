"""The services as real processes on a disposable Kafka and MongoDB-protocol server, a signed-webhook
receiver, and a stream of check-ins that keeps a ledger of what each request got back."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request, Response
from pydantic import SecretStr
from pydantic_core import to_jsonable_python

from medsupport_shared.testing import auth, free_port
from notifications.domain.delivery_policy import verify

ROOT = Path(__file__).resolve().parents[2]
SECRET = "faults-webhook-secret"
URGENT = {"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 1]}
ROUTINE = {"instrument": "who5", "answers": [3, 3, 3, 3, 3]}


def settings_env(settings: Any) -> dict[str, str]:
    """A settings object as the environment of a service process."""
    env = dict(os.environ)
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is not None:
            env[name.upper()] = value if isinstance(value, str) else json.dumps(to_jsonable_python(value))
    return env


@dataclass
class Service:
    """One uvicorn process of a service, restarted on the same port after a SIGKILL."""

    module: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        argv = [sys.executable, "-m", "uvicorn", f"{self.module}.app:create_app", "--factory", "--no-access-log"]
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [*argv, "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def kill(self) -> None:
        """SIGKILL: no shutdown, no drain, no final commit."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    async def ready(self) -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(f"{self.url}/readyz")).status_code == 200
        except httpx.HTTPError:
            return False

    def tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return f"--- {self.log_path.name} (tail)\n" + "\n".join(text.splitlines()[-lines:])


class WebhookReceiver:
    """The on-call counsellor's webhook: records each signed POST with its arrival time."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.app = FastAPI()

        @self.app.post("/hook")
        async def receive(request: Request) -> Response:
            body = await request.body()
            payload = json.loads(body)
            self.received.append(
                {
                    "alert_id": payload["alert_id"],
                    "delivery_id": request.headers.get("X-Delivery-ID"),
                    "signed": verify(body, SECRET, request.headers.get("X-Signature", "")),
                    "at": time.monotonic(),
                }
            )
            return Response(status_code=204)


@dataclass
class Sent:
    """One check-in as its student saw it."""

    student: str
    urgent: bool
    outcome: str = "pending"
    """``accepted`` (2xx), ``refused`` (an error status), ``unknown`` (the connection broke mid-request)."""
    status: int | None = None
    recorded: bool | None = None
    at: float | None = None


async def post_checkin(url: str, sent: Sent, *, give_up_after: float = 120.0) -> None:
    """POST once the service accepts connections (a refused connection never reached it, so trying
    again cannot double anything); whatever happens after the request left is the outcome."""
    deadline = time.monotonic() + give_up_after
    body = URGENT if sent.urgent else ROUTINE
    headers = auth(sent.student, "student", cohort="2027")
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while True:
            try:
                response = await client.post("/v1/checkins", json=body, headers=headers)
            except httpx.ConnectError:
                if time.monotonic() > deadline:
                    sent.outcome = "refused"
                    return
                await asyncio.sleep(0.2)
                continue
            except httpx.HTTPError:
                sent.outcome = "unknown"
                return
            sent.status, sent.at = response.status_code, time.monotonic()
            if response.is_success:
                sent.outcome, sent.recorded = "accepted", response.json()["recorded"]
                if sent.urgent:
                    assert response.json()["crisis_resources"], "an urgent reply always has the crisis resources"
            else:
                sent.outcome = "refused"
                if sent.urgent:
                    assert response.json().get("crisis_resources"), response.text
            return
