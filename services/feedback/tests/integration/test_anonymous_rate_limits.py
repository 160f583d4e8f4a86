"""The anonymous channel cannot be shut: behind a shared proxy each reporter has their own allowance,
the counters are shared by every replica, and a flood of addresses never refuses a new reporter."""

import pytest
from prometheus_client import generate_latest

from medsupport_shared.rate_limits import COLLECTION, WindowCounters
from medsupport_shared.testing import auth

from .test_concerns import concern

pytestmark = pytest.mark.integration
OFFICER = auth("officer-1", "concerns_officer")


def via(address):
    return {"X-Forwarded-For": f"{address}, 10.0.0.7"}  # the client, then our own ingress


async def test_reporters_behind_a_trusted_ingress_each_have_their_own_allowance(make_stack):
    async with make_stack(anonymous_rate_limit=2, trusted_proxies=["127.0.0.1/32", "10.0.0.0/8"]) as stack:
        for reporter in ("203.0.113.1", "203.0.113.2", "2001:db8:1:2::1"):
            for _ in range(2):
                created = await stack.client.post("/v1/concerns", json=concern(), headers=via(reporter))
                assert created.status_code == 201, created.text
        again = await stack.client.post("/v1/concerns", json=concern(), headers=via("2001:db8:1:2:ffff::9"))
        assert again.status_code == 429  # the same /64
        spoofed = {"X-Forwarded-For": "198.51.100.99, 203.0.113.1, 10.0.0.7"}  # a client's own claim is ignored
        assert (await stack.client.post("/v1/concerns", json=concern(), headers=spoofed)).status_code == 429
        stored = repr(await stack.db[COLLECTION].find({}).to_list(None))
        assert "203.0.113" not in stored and "2001:db8" not in stored


async def test_forwarded_addresses_from_an_untrusted_peer_do_not_buy_allowance(make_stack):
    async with make_stack(anonymous_rate_limit=2) as stack:
        for n in range(2):
            assert (
                await stack.client.post("/v1/concerns", json=concern(), headers=via(f"203.0.113.{n}"))
            ).status_code == 201
        assert (await stack.client.post("/v1/concerns", json=concern(), headers=via("203.0.113.9"))).status_code == 429


async def test_replicas_share_one_allowance(make_stack):
    async with make_stack(anonymous_rate_limit=2) as one, make_stack(anonymous_rate_limit=2) as two:
        assert (await one.client.post("/v1/concerns", json=concern())).status_code == 201
        assert (await two.client.post("/v1/concerns", json=concern())).status_code == 201
        assert (await one.client.post("/v1/concerns", json=concern())).status_code == 429
        assert (await two.client.post("/v1/concerns", json=concern())).status_code == 429


async def test_a_flood_of_addresses_never_refuses_a_reporter_and_marks_the_surge(make_stack):
    settings = {"anonymous_rate_limit": 1, "anonymous_surge_threshold": 5, "trusted_proxies": ["127.0.0.1/32"]}
    async with make_stack(**settings) as stack:
        answers = [
            await stack.client.post("/v1/concerns", json=concern(), headers={"X-Forwarded-For": f"2001:db8:{n:x}::1"})
            for n in range(25)
        ]
        assert [a.status_code for a in answers] == [201] * 25
        listed = await stack.client.get("/v1/concerns?limit=100", headers=OFFICER)
        surges = [c["surge"] for c in listed.json()["items"]]
        assert surges.count(True) == 20 and surges.count(False) == 5
        assert "medsupport_feedback_anonymous_surge_total" in generate_latest().decode()


async def test_expired_counters_are_swept(stack):
    clock = [1_000_000.0]
    counters = WindowCounters(stack.db["sweep_counters"], secret=b"k" * 32, clock=lambda: clock[0])
    assert (await counters.hit("s", "a", window_seconds=60)).count == 1
    assert (await counters.hit("s", "a", window_seconds=60)).count == 2
    assert await counters.sweep() == 0
    clock[0] += 60
    assert (await counters.hit("s", "a", window_seconds=60)).count == 1  # a new window, a new key
    assert await counters.sweep() == 1 and await stack.db["sweep_counters"].count_documents({}) == 1
