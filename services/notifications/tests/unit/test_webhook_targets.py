"""Where webhooks may go (pure, plus resolution through a stand-in resolver)."""

import asyncio
import socket

import pytest

from notifications.webhook_targets import WebhookPolicy, WebhookTargetRefused

STRICT = WebhookPolicy.of([])


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://api.localhost/hook",
        "http://10.0.0.5:2375/containers",
        "http://172.16.3.4/",
        "http://192.168.1.1/",
        "http://100.64.0.1/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://127.1/",
        "https://user:secret@hooks.example.edu/x",
        "https://token@hooks.example.edu/x",
        "ftp://hooks.example.edu/x",
    ],
)
def test_internal_targets_and_credentials_are_refused(url):
    with pytest.raises(WebhookTargetRefused):
        STRICT.check_url(url)


def test_public_hosts_pass_and_an_allow_list_names_internal_ones():
    STRICT.check_url("https://hooks.example.edu/counselling")
    STRICT.check_url("https://93.184.215.14/hook")
    allowing = WebhookPolicy.of(["127.0.0.1", "chat.internal", "10.20.0.0/16"])
    allowing.check_url("http://127.0.0.1:9000/hook")
    allowing.check_url("http://chat.internal/hook")
    allowing.check_url("http://10.20.3.4/hook")
    with pytest.raises(WebhookTargetRefused):
        allowing.check_url("http://10.21.0.1/hook")
    with pytest.raises(WebhookTargetRefused):
        allowing.check_url("http://user:pw@127.0.0.1/hook")  # credentials never


def test_private_networks_for_development_still_exclude_link_local():
    development = WebhookPolicy.of([], allow_private_networks=True)
    development.check_url("http://127.0.0.1:9000/hook")
    development.check_url("http://10.0.0.5/hook")
    with pytest.raises(WebhookTargetRefused):
        development.check_url("http://169.254.169.254/latest/meta-data/")


async def test_a_name_is_checked_on_what_it_resolves_to_and_the_send_is_pinned_to_that_address(monkeypatch):
    answers = {"hooks.example.edu": "93.184.215.14", "rebound.example.edu": "169.254.169.254"}

    async def resolver(host, port, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host], port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", resolver)
    target = await STRICT.resolve("https://hooks.example.edu/counselling?x=1")
    assert target.pinned_url() == "https://93.184.215.14/counselling?x=1"
    assert (target.host, target.host_header()) == ("hooks.example.edu", "hooks.example.edu")
    with pytest.raises(WebhookTargetRefused, match=r"169\.254\.169\.254"):
        await STRICT.resolve("https://rebound.example.edu/hook")


def test_the_allow_list_setting_reads_a_comma_separated_list_or_json(monkeypatch):
    from notifications.settings import NotificationsSettings

    monkeypatch.setenv("WEBHOOK_ALLOWED_HOSTS", "127.0.0.1, chat.internal")
    assert NotificationsSettings().webhook_allowed_hosts == ["127.0.0.1", "chat.internal"]
    monkeypatch.setenv("WEBHOOK_ALLOWED_HOSTS", '["10.0.0.0/8"]')
    assert NotificationsSettings().webhook_allowed_hosts == ["10.0.0.0/8"]
