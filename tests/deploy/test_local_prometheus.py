"""The Prometheus `make up` runs (deploy/local/local_prometheus.py): its generated configuration passes
`promtool check config` (which also checks the alert rules it loads), mirrors the compose scrape config, and
a real Prometheus scrapes a target that wants the METRICS_BEARER_TOKEN; without the binary or with its port
taken, one line says so and the platform goes on."""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from medsupport_shared.testing import free_port
from medsupport_shared.testing.local_scripts import local_module
from tests.deploy.conftest import REPO, SERVICES, Tool

local_prometheus = local_module("local_prometheus")
TOKEN = "scrape-token-for-tests"


@pytest.mark.parametrize("token", [None, TOKEN])
def test_the_generated_config_passes_promtool_check_config(tmp_path, monkeypatch, promtool: Tool, report, token):
    if token:
        monkeypatch.setenv("METRICS_BEARER_TOKEN", token)
    else:
        monkeypatch.delenv("METRICS_BEARER_TOKEN", raising=False)
    config = local_prometheus.write_config(tmp_path, SERVICES, 9090)

    loaded = yaml.safe_load(config.read_text())
    assert loaded == json.loads(config.read_text())  # JSON written, read as the YAML it also is
    if token:
        token_file = Path(loaded["scrape_configs"][0]["authorization"]["credentials_file"])
        assert token_file.read_text() == TOKEN and token_file.stat().st_mode & 0o077 == 0
        assert TOKEN not in config.read_text()
    if promtool.path is None:
        report.append(f"promtool check config not run: {promtool.how}")
        return
    done = subprocess.run([str(promtool.path), "check", "config", str(config)], capture_output=True, text=True)
    report.append(f"promtool check config: {promtool.how}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout and done.stdout.count("rule files found") == 1, done.stdout


def test_the_local_config_scrapes_what_compose_scrapes():
    compose = yaml.safe_load((REPO / "deploy" / "prometheus" / "prometheus.yml").read_text())
    local = local_prometheus.scrape_config(SERVICES, 9090)

    def job(config: dict, name: str) -> dict:
        return next(j for j in config["scrape_configs"] if j["job_name"] == name)

    assert job(local, "medsupport")["honor_labels"] is job(compose, "medsupport")["honor_labels"] is True
    labels = lambda config: [s["labels"] for s in job(config, "medsupport")["static_configs"]]  # noqa: E731
    assert labels(local) == labels(compose)
    ports = [s["targets"][0].rsplit(":", 1)[1] for s in job(local, "medsupport")["static_configs"]]
    assert ports == [str(p) for p in SERVICES.values()]
    (rules,) = local["rule_files"]
    assert sorted(Path(rules).parent.glob("*.yml")) == sorted((REPO / "deploy" / "prometheus" / "rules").glob("*.yml"))


@pytest.fixture
def metrics_target() -> Iterator[int]:
    """A /metrics endpoint that answers only with `Authorization: Bearer TOKEN`, as a service with
    METRICS_BEARER_TOKEN set does."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.send_response(401)
                self.end_headers()
                return
            body = b'medsupport_dependency_up{service="feedback",dependency="mongo"} 1\n'
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def _api(port: int, path: str) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/{path}", timeout=5) as response:
        return json.load(response)["data"]


def test_prometheus_scrapes_a_target_that_wants_the_token_and_loads_the_rules(tmp_path, monkeypatch, metrics_target):
    monkeypatch.setenv("METRICS_BEARER_TOKEN", TOKEN)
    said: list[str] = []
    listen = free_port()

    proc = local_prometheus.start(tmp_path, {"feedback": metrics_target}, said.append, listen_port=listen)

    if proc is None:  # this machine has no Prometheus: the platform must say so and go on
        assert said == ["Prometheus is not installed (sudo apt-get install prometheus); going on without it"]
        return
    try:
        deadline = time.monotonic() + 45
        health = None
        while time.monotonic() < deadline:
            targets = _api(listen, "targets")["activeTargets"]
            health = next((t["health"] for t in targets if t["labels"]["job"] == "medsupport"), None)
            if health == "up":
                break
            time.sleep(0.5)
        assert health == "up", targets
        groups = [group["name"] for group in _api(listen, "rules")["groups"]]
        expected = [
            g["name"] for f in local_prometheus.RULES.glob("*.yml") for g in yaml.safe_load(f.read_text())["groups"]
        ]
        assert sorted(groups) == sorted(expected) and groups
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_without_prometheus_it_says_so_in_one_line_and_goes_on(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    said: list[str] = []

    assert local_prometheus.start(tmp_path, SERVICES, said.append, listen_port=free_port()) is None
    assert said == ["Prometheus is not installed (sudo apt-get install prometheus); going on without it"]


def test_with_its_port_taken_it_says_so_and_goes_on(tmp_path, monkeypatch):
    (tmp_path / "bin").mkdir()
    fake = tmp_path / "bin" / "prometheus"
    fake.write_text("#!/bin/sh\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    said: list[str] = []
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]

        assert local_prometheus.start(tmp_path, SERVICES, said.append, listen_port=taken) is None

    assert said == [f"port {taken} is taken, so Prometheus is not started (MEDSUPPORT_PROMETHEUS_PORT picks another)"]
