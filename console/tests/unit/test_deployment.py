"""The console as compose and the image build it: every setting it is given is one it reads."""

import os
import re
from pathlib import Path

import yaml

from console.settings import ConsoleSettings

REPO = Path(__file__).resolve().parents[3]


def test_compose_runs_the_console_image_with_settings_it_reads_after_the_services_are_healthy():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    console = compose["services"]["console"]
    assert console["build"]["target"] == "console" and console["ports"] == [
        "127.0.0.1:8080:8080"
    ]  # loopback: a proxy with TLS in front
    assert set(console["environment"]) <= {name.upper() for name in ConsoleSettings.model_fields}
    assert set(console["depends_on"]) == {"feedback", "wellbeing", "mentorship", "notifications"}
    assert all(
        url.startswith(f"http://{name.split('_')[0].lower()}:")
        for name, url in console["environment"].items()
        if name.endswith("_URL")
    )


def test_the_image_installs_only_the_console_package_and_the_build_context_has_it():
    dockerfile = (REPO / "deploy" / "docker" / "Dockerfile").read_text()
    assert "uv sync --frozen --no-dev --no-editable --package medsupport-console" in dockerfile
    assert re.search(r'^CMD \["uvicorn", "console\.app:create_app", "--factory", .*"8080"', dockerfile, re.MULTILINE)
    allowed = (REPO / ".dockerignore").read_text().splitlines()
    assert {"!console/pyproject.toml", "!console/src/**"} <= set(allowed)


def test_the_kubernetes_console_starts_in_production_with_the_settings_it_is_given(monkeypatch):
    docs = list(yaml.safe_load_all((REPO / "deploy" / "k8s" / "base" / "console.yaml").read_text()))
    [config] = [d for d in docs if d["kind"] == "ConfigMap"]
    [deployment] = [d for d in docs if d["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == 1  # sessions live in the process
    assert set(config["data"]) <= {name.upper() for name in ConsoleSettings.model_fields}
    for name in list(os.environ):
        if name.lower() in ConsoleSettings.model_fields:
            monkeypatch.delenv(name)
    for name, value in {**config["data"], "OIDC_CLIENT_SECRET": "from-the-secret"}.items():
        monkeypatch.setenv(name, value)
    settings = ConsoleSettings()
    assert settings.app_env == "production" and settings.oidc_enabled and settings.secure_cookies
