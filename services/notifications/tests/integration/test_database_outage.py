"""The notifications database dies (SIGKILL of our own MongoDB-protocol server, never the shared one)
while an urgent webhook is in flight: once it is back the delivery is recorded, exactly once."""

import asyncio
import os
import signal

import pytest
from fastapi import FastAPI, Response

from medsupport_shared.testing import eventually, running, serving
from medsupport_shared.testing.pytest_plugin import DisposableInfrastructure
from notifications.metrics import OUTCOME_WRITE_RETRIES

from .conftest import wait_for_consumer

pytestmark = pytest.mark.integration


class HeldWebhook:
    """Receives the urgent webhook and answers only when told to (so the database can die meanwhile)."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.release = asyncio.Event()
        self.app = FastAPI()

        @self.app.post("/hold")
        async def hold() -> Response:
            self.calls.append("hold")
            await self.release.wait()
            return Response(status_code=204)


@pytest.fixture
async def own_database(tmp_path):
    infra = DisposableInfrastructure(tmp_path)
    await infra.start(only="mongo")
    yield infra
    await infra.remove()


def sigkill(infra: DisposableInfrastructure) -> None:
    pid = int((infra.state_dir / "mongo.pid").read_text())
    os.killpg(pid, signal.SIGKILL)


async def test_an_urgent_webhook_sent_while_the_database_died_is_recorded_once_it_is_back(make_stack, own_database):
    held = HeldWebhook()
    stack = make_stack(mongo_url=own_database.infra.mongo_url)
    app = stack.app()
    async with serving(held.app) as hook_url, running(app) as client:
        await stack.setup_staff(client)
        await app.state.services.repo.save_person(person_id="c1", fields={"webhook_url": f"{hook_url}/hold"})
        await wait_for_consumer(app)
        await stack.flag(severity="urgent")
        await eventually(lambda: held.calls, timeout=30, message="the urgent webhook sent")

        sigkill(own_database)
        held.release.set()  # the endpoint answers 204 now: the send succeeded, the database is gone
        retries = OUTCOME_WRITE_RETRIES._value.get()
        await eventually(lambda: OUTCOME_WRITE_RETRIES._value.get() > retries, timeout=30, message="the outage noticed")
        await own_database.start(only="mongo")

        repo = app.state.services.repo
        delivered = await eventually(
            lambda: repo.deliveries.find_one({"channel": "webhook", "status": "delivered"}),
            timeout=30,
            message="the webhook delivery recorded after the database came back",
        )
        assert [a["outcome"] for a in delivered["attempts"]] == ["delivered"]
        assert held.calls == ["hold"]
        assert await repo.deliveries.count_documents({"channel": "webhook"}) == 1
