"""The live inbox: a cap on open streams per user, the stream ends when its token expires, browsers
authenticate with single-use tickets (never the token in the URL), and resumption from a last event id."""

import asyncio
import json
from contextlib import asynccontextmanager

import httpx
import pytest

from medsupport_shared.testing import auth, eventually, serving

from .conftest import wait_for_consumer

pytestmark = pytest.mark.integration
C1 = auth("c1", "counsellor")


@asynccontextmanager
async def stream(client: httpx.AsyncClient, path: str = "/v1/inbox/stream", headers=None, params=None):
    async with client.stream("GET", path, headers=headers or {}, params=params) as response:
        yield response


async def events_of(response: httpx.Response, into: list[tuple[str, dict]]) -> None:
    kind = None
    async for line in response.aiter_lines():
        if line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            into.append((kind or "message", json.loads(line[6:])))


async def test_a_user_holds_at_most_three_streams(make_stack):
    stack = make_stack(sse_max_streams_per_user=3)
    async with serving(stack.app()) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        async with stream(client, headers=C1) as one, stream(client, headers=C1) as two:
            assert (one.status_code, two.status_code) == (200, 200)
            async with stream(client, headers=C1) as three:
                assert three.status_code == 200
                async with stream(client, headers=C1) as four:
                    assert four.status_code == 429
                    assert four.headers["content-type"] == "application/problem+json"
                async with stream(client, headers=auth("c2", "counsellor")) as someone_else:
                    assert someone_else.status_code == 200

        async def a_fourth_is_allowed_once_one_closed():
            async with stream(client, headers=C1) as again:
                return again.status_code == 200

        async with stream(client, headers=C1), stream(client, headers=C1):
            assert await eventually(a_fourth_is_allowed_once_one_closed, timeout=10)


async def test_the_stream_ends_when_its_token_expires(make_stack):
    stack = make_stack()
    async with serving(stack.app()) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        short = auth("c1", "counsellor", exp=_now() + 2)
        received: list[tuple[str, dict]] = []
        async with stream(client, headers=short) as response:
            assert response.status_code == 200
            await asyncio.wait_for(events_of(response, received), timeout=8)  # ends by itself
        assert received[-1][0] == "expired"


async def test_a_browser_opens_the_stream_with_a_single_use_ticket(make_stack):
    stack = make_stack()
    app = stack.app()
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        issued = await client.post("/v1/inbox/stream-tickets", headers=C1)
        assert issued.status_code == 200, issued.text
        ticket = issued.json()["ticket"]
        assert issued.json()["stream"] == f"/v1/inbox/stream?ticket={ticket}"
        assert ticket not in json.dumps(await app.state.services.repo.stream_tickets.find_one({}, {"_id": 1}))
        received: list[tuple[str, dict]] = []
        async with stream(client, params={"ticket": ticket}) as response:
            assert response.status_code == 200
            follower = asyncio.create_task(events_of(response, received))
            await stack.flag(severity="urgent")
            await eventually(lambda: received, timeout=30)
            follower.cancel()
        assert received[0][0] == "alert" and received[0][1]["recipient_id"] == "c1"

        async with stream(client, params={"ticket": ticket}) as reused:
            assert reused.status_code == 401  # single use
        async with stream(client, params={"ticket": "made-up"}) as unknown:
            assert unknown.status_code == 401
        token = C1["Authorization"].split()[1]
        async with stream(client, params={"access_token": token}) as token_in_url:
            assert token_in_url.status_code == 401  # a token in the URL is never accepted
        assert (await client.post("/v1/inbox/stream-tickets")).status_code == 401


async def test_an_expired_ticket_is_refused(make_stack):
    stack = make_stack(stream_ticket_seconds=0.001)
    async with serving(stack.app()) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        ticket = (await client.post("/v1/inbox/stream-tickets", headers=C1)).json()["ticket"]
        async with stream(client, params={"ticket": ticket}) as response:
            assert response.status_code == 401


async def test_a_stream_resumes_after_the_last_event_id_also_given_in_the_query(make_stack):
    stack = make_stack()
    app = stack.app()
    async with serving(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        await stack.flag(student="s1", severity="urgent", flag_id="f1")
        first = (await eventually(lambda: _inbox(client)))[0]
        await stack.flag(student="s2", severity="urgent", flag_id="f2")
        await eventually(lambda: _inbox(client, size=2))
        received: list[tuple[str, dict]] = []
        async with stream(client, headers=C1, params={"last_event_id": first["updated_at"]}) as response:
            follower = asyncio.create_task(events_of(response, received))
            await eventually(lambda: received, timeout=10)
            follower.cancel()
        assert [data["subject_id"] for _, data in received] == ["s2"]


async def _inbox(client, size=1):
    items = (await client.get("/v1/inbox", headers=C1)).json()["items"]
    return items if len(items) >= size else None


def _now() -> int:
    import time

    return int(time.time())
