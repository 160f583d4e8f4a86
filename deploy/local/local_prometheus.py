"""Prometheus for `make up`: scrapes the four services with the project's alert rules, UI on 127.0.0.1:9090.

Optional: when the `prometheus` binary is missing (Debian/Ubuntu: `apt-get install prometheus`) or its
port is taken, this says so in one line and the platform runs without it. The generated configuration
and the TSDB live under the state directory. When METRICS_BEARER_TOKEN is set (the services then
want it on /metrics), Prometheus sends it from a file readable only by the user.
Standard library only; the configuration is written as JSON, which is YAML."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "rules"
DEFAULT_PORT = 9090
INSTALL_HINT = "sudo apt-get install prometheus"


def port() -> int:
    return int(os.environ.get("MEDSUPPORT_PROMETHEUS_PORT", DEFAULT_PORT))


def scrape_config(
    services: dict[str, int], listen_port: int, token_file: Path | None = None, rules: Path = RULES
) -> dict[str, object]:
    """The local twin of deploy/prometheus/prometheus.yml: same job, labels and rules, 127.0.0.1 targets."""
    job: dict[str, object] = {
        "job_name": "medsupport",
        "metrics_path": "/metrics",
        "honor_labels": True,  # keeps the `service` label the shared metrics carry
        "static_configs": [
            {"targets": [f"127.0.0.1:{service_port}"], "labels": {"service": name}}
            for name, service_port in services.items()
        ],
    }
    if token_file is not None:
        job["authorization"] = {"type": "Bearer", "credentials_file": str(token_file)}
    return {
        "global": {"scrape_interval": "10s", "evaluation_interval": "10s"},
        "rule_files": [str(rules / "*.yml")],
        "scrape_configs": [
            job,
            {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{listen_port}"]}]},
        ],
    }


def write_config(state: Path, services: dict[str, int], listen_port: int) -> Path:
    home = state / "prometheus"
    home.mkdir(parents=True, exist_ok=True)
    token_file = None
    if token := os.environ.get("METRICS_BEARER_TOKEN"):
        token_file = home / "metrics-token"
        token_file.touch(mode=0o600)
        token_file.chmod(0o600)
        token_file.write_text(token)
    config = home / "prometheus.yml"
    config.write_text(json.dumps(scrape_config(services, listen_port, token_file), indent=2) + "\n")
    return config


def _port_taken(listen_port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", listen_port)) == 0


def _ready(listen_port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{listen_port}/-/ready", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start(
    state: Path, services: dict[str, int], log: Callable[[str], None], listen_port: int | None = None
) -> subprocess.Popen[bytes] | None:
    """Prometheus started and ready, or None after saying in one line why it is not running."""
    listen_port = listen_port or port()
    binary = shutil.which("prometheus")
    if binary is None:
        log(f"Prometheus is not installed ({INSTALL_HINT}); going on without it")
        return None
    if _port_taken(listen_port):
        log(f"port {listen_port} is taken, so Prometheus is not started (MEDSUPPORT_PROMETHEUS_PORT picks another)")
        return None
    config = write_config(state, services, listen_port)
    log_file = state / "prometheus" / "prometheus.log"
    argv = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={state / 'prometheus' / 'data'}",
        "--storage.tsdb.retention.time=7d",
        f"--web.listen-address=127.0.0.1:{listen_port}",
        "--log.level=warn",
    ]
    with open(log_file, "ab") as out:
        proc = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    deadline = time.monotonic() + 30
    while not _ready(listen_port):
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                proc.terminate()
            log(f"Prometheus did not start (see {log_file}); going on without it")
            return None
        time.sleep(0.3)
    return proc
