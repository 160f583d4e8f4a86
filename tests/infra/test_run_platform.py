"""What `make up` (deploy/local/run_platform.py) hands the services: the servers infra.py started for it,
on the ports it was given, unless the environment names others."""

from __future__ import annotations

from medsupport_shared.testing.local_scripts import local_module

run_platform = local_module("run_platform")


def test_the_services_reach_the_local_servers_on_the_ports_infra_was_given():
    env = run_platform.service_environment({"MEDSUPPORT_KAFKA_PORT": "19092", "MEDSUPPORT_MONGO_PORT": "27117"})

    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "127.0.0.1:19092"
    assert env["MONGO_URL"] == "mongodb://127.0.0.1:27117"


def test_servers_the_environment_names_win():
    env = run_platform.service_environment(
        {"KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092", "MONGO_URL": "mongodb+srv://db.example.org/", "SMTP_HOST": "mx"}
    )

    assert env["KAFKA_BOOTSTRAP_SERVERS"] == "k1:9092,k2:9092"
    assert env["MONGO_URL"] == "mongodb+srv://db.example.org/"
    assert env["SMTP_HOST"] == "mx"


def test_make_up_speaks_plain_smtp_to_its_own_catcher_only_and_allows_local_webhook_receivers():
    local = run_platform.service_environment({})
    assert local["SMTP_STARTTLS"] == "false" and local["WEBHOOK_ALLOWED_HOSTS"] == "127.0.0.1,localhost"
    assert "SMTP_STARTTLS" not in run_platform.service_environment({"SMTP_HOST": "mx.example.org"})


def test_make_up_runs_the_services_in_development_mode_even_if_the_shell_says_production():
    """The services default to production, which refuses the development secrets make up runs with."""
    assert run_platform.service_environment({})["APP_ENV"] == "development"
    assert run_platform.service_environment({"APP_ENV": "production"})["APP_ENV"] == "development"


def test_every_service_starts_with_the_settings_make_up_gives_it(monkeypatch):
    """Each value make up sets must pass the service's own validation, or `make up` stops at start-up."""
    from feedback.settings import FeedbackSettings
    from mentorship.settings import MentorshipSettings
    from notifications.settings import NotificationsSettings
    from wellbeing.settings import WellbeingSettings

    for name, value in run_platform.service_environment({}).items():
        monkeypatch.setenv(name, value)
    for settings_class in (FeedbackSettings, WellbeingSettings, MentorshipSettings, NotificationsSettings):
        settings_class()


def test_a_local_caller_cannot_choose_its_client_address_with_x_forwarded_for(tmp_path):
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 unless told not to: the anonymous-report rate limit
    would then key on whatever a local caller writes there."""
    import socket
    import subprocess
    import time

    import httpx

    (tmp_path / "echo_app.py").write_text(
        "from fastapi import FastAPI, Request\n"
        "def create_app():\n"
        "    app = FastAPI()\n"
        "    @app.get('/peer')\n"
        "    async def peer(request: Request):\n"
        "        return {'host': request.client.host}\n"
        "    return app\n"
    )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(run_platform.uvicorn_command("echo_app:create_app", port), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/peer", headers={"X-Forwarded-For": "203.0.113.7"})
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the app did not start"
                time.sleep(0.1)
        assert answer.json() == {"host": "127.0.0.1"}
    finally:
        server.terminate()
        server.wait(timeout=20)
