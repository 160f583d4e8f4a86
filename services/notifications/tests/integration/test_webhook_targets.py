"""Webhook URLs that point inward are refused on write (422) and, after DNS, at send time."""

import asyncio
import socket

import pytest

from medsupport_shared.testing import eventually, running

from .conftest import ADMIN, wait_for_consumer

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5:2375/containers/json",
        "http://[::1]:8080/",
        "http://167772165:2375/containers/json",  # 10.0.0.5 in a resolver's legacy form
        "https://user:secret@hooks.example.edu/x",
    ],
)
async def test_an_inward_or_credentialed_webhook_url_is_refused(stack, url):
    async with running(stack.app()) as client:
        body = {"roles": ["counsellor"], "email": "c9@med.example.edu", "webhook_url": url}
        response = await client.put("/v1/staff/c9", json=body, headers=ADMIN)
        assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
        assert (await client.get("/v1/staff/c9", headers=ADMIN)).status_code == 404


async def test_a_name_that_resolves_inward_at_send_time_is_refused_and_an_allowed_one_is_pinned(stack, monkeypatch):
    receiver_port = int(stack.webhooks.url.rsplit(":", 1)[1])
    answers = {"rebound.example.edu": "169.254.169.254", "hooks.example.edu": "127.0.0.1"}
    resolve = asyncio.get_running_loop().getaddrinfo

    async def dns(host, port, **kwargs):  # stands in for a resolver whose answer changed after the write
        if host in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]
        return await resolve(host, port, **kwargs)

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", dns)
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client, webhook="ok")
        repo = app.state.services.repo
        await repo.save_person(person_id="c1", fields={"webhook_url": "http://rebound.example.edu/hook"})
        await wait_for_consumer(app)
        await stack.flag(student="s1", severity="urgent", flag_id="f1")
        refused = await eventually(lambda: repo.deliveries.find_one({"channel": "webhook", "status": "failed"}))
        assert "169.254.169.254" in refused["reason"] and len(refused["attempts"]) == 1

        url = f"http://hooks.example.edu:{receiver_port}/ok"
        await repo.save_person(person_id="c1", fields={"webhook_url": url})
        await stack.flag(student="s2", severity="urgent", flag_id="f2")
        await eventually(lambda: stack.webhooks.received)
        assert stack.webhooks.hosts == [f"hooks.example.edu:{receiver_port}"]


async def test_a_name_that_already_resolves_inward_is_refused_on_write(stack, monkeypatch):
    resolve = asyncio.get_running_loop().getaddrinfo

    async def dns(host, port, **kwargs):
        if host == "metadata.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", port))]
        return await resolve(host, port, **kwargs)

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", dns)
    async with running(stack.app()) as client:
        body = {"roles": ["counsellor"], "email": "c9@med.example.edu", "webhook_url": "http://metadata.example/x"}
        response = await client.put("/v1/staff/c9", json=body, headers=ADMIN)
        assert response.status_code == 422 and "169.254.169.254" in response.json()["detail"]
