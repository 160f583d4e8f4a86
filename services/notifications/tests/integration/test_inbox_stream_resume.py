"""A Last-Event-ID that is no instant of the calendar resumes from now: the stream stays up and brings
the next alert (0001-01-01T00:00+14:00 made the first store query overflow and killed the stream after
its 200, found by probing beyond the fuzz test)."""

import asyncio
import json

import httpx
import pytest

from medsupport_shared.testing import auth, eventually, serving

from .conftest import wait_for_consumer

pytestmark = pytest.mark.integration


async def follow(base_url, headers, into):
    async with (
        httpx.AsyncClient(timeout=None) as client,
        client.stream("GET", f"{base_url}/v1/inbox/stream", headers=headers) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                into.append(json.loads(line[6:]))


@pytest.mark.parametrize("last_event_id", ["0001-01-01T00:00:00+14:00", "not a time"])
async def test_a_stream_resumed_from_an_impossible_id_still_brings_the_next_alert(stack, last_event_id):
    app = stack.app()
    async with serving(app) as url, httpx.AsyncClient(base_url=url) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        streamed: list[dict] = []
        headers = {**auth("c1", "counsellor"), "Last-Event-ID": last_event_id}
        sse = asyncio.create_task(follow(url, headers, streamed))
        try:
            await stack.flag()
            await eventually(lambda: streamed or sse.done(), timeout=30)
            assert not sse.done() or sse.exception() is None
            assert streamed and streamed[0]["severity"] == "urgent"
        finally:
            sse.cancel()
