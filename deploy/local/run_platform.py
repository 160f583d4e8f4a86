"""`make up`: infrastructure, the four services and demo data, in the foreground; Ctrl-C stops all.

Each service runs as its own uvicorn process on the port docs/CONTRACT.md gives it, with JSON logs
prefixed by the service name. Environment variables (KAFKA_BOOTSTRAP_SERVERS, MONGO_URL, ...)
pass through to the services. Prometheus scrapes them when it is installed (local_prometheus.py).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import local_prometheus

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "deploy" / "local" / "infra.py"
STATE = Path(os.environ.get("MEDSUPPORT_STATE_DIR", ROOT / ".state"))
SERVICES = {"feedback": 8001, "wellbeing": 8002, "mentorship": 8003, "notifications": 8004}


def log(message: str) -> None:
    print(f"[platform] {message}", flush=True)


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def pipe_output(name: str, stream: object) -> None:
    for line in iter(stream.readline, b""):  # type: ignore[attr-defined]
        sys.stdout.write(f"{name:13} | {line.decode(errors='replace')}")
        sys.stdout.flush()


def infrastructure_already_up() -> bool:
    """Kafka and MongoDB both answer before we start (e.g. left up by `make test`): leave them up at exit."""
    found = subprocess.run([sys.executable, str(INFRA), "status"], capture_output=True, text=True, check=False)
    return found.stdout.count("answers=yes") == 2


def service_environment(environ: dict[str, str]) -> dict[str, str]:
    """What the services get: the environment, with the local mail catcher and the local servers infra.py
    started (on the ports it was given: MEDSUPPORT_KAFKA_PORT, MEDSUPPORT_MONGO_PORT) unless it names others."""
    local_mail = {} if "SMTP_HOST" in environ else {"SMTP_STARTTLS": "false"}  # the catcher: plain SMTP, loopback
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": "1025",
        **local_mail,
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1,localhost",  # so a local webhook receiver can be tried
        "SAFETY_FLOOR_EMAIL": "safety-floor@med.example.edu",  # the safety floor's last resort: the mail catcher
        "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{environ.get('MEDSUPPORT_KAFKA_PORT', 9092)}",
        "MONGO_URL": f"mongodb://127.0.0.1:{environ.get('MEDSUPPORT_MONGO_PORT', 27017)}",
        **environ,
        # Local development on loopback: the only mode that accepts the published development secrets (the
        # services default to production and refuse them); each service logs a warning about it at start.
        "APP_ENV": "development",
    }


def uvicorn_command(factory: str, port: int | str) -> list[str]:
    """How make up runs an app. ``--no-proxy-headers``: uvicorn would otherwise take the client address from
    any X-Forwarded-For sent from 127.0.0.1, so every local caller could pick its own rate-limit key; the
    services trust forwarded addresses only from their own TRUSTED_PROXIES."""
    return [
        *(sys.executable, "-m", "uvicorn", factory, "--factory", "--no-proxy-headers", "--no-access-log"),
        *("--host", "127.0.0.1", "--port", str(port)),
    ]


def start_mail_catcher(processes: dict[str, subprocess.Popen[bytes]], env: dict[str, str]) -> None:
    """Email alerts go to a local catcher that prints them, unless SMTP_HOST points elsewhere."""
    if "SMTP_HOST" in os.environ:
        return
    processes["mail"] = subprocess.Popen(
        [sys.executable, str(ROOT / "deploy" / "local" / "mail_catcher.py"), "--port", env["SMTP_PORT"]],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    threading.Thread(target=pipe_output, args=("mail", processes["mail"].stdout), daemon=True).start()


def start_console(processes: dict[str, subprocess.Popen[bytes]], env: dict[str, str]) -> None:
    """The staff console on http://127.0.0.1:8080/ (development sign-in lists the demo users)."""
    urls = {f"{name.upper()}_URL": f"http://127.0.0.1:{port}" for name, port in SERVICES.items()}
    processes["console"] = subprocess.Popen(
        uvicorn_command("console.app:create_app", env.get("CONSOLE_PORT", "8080")),
        cwd=ROOT,
        env={"APP_ENV": "development", **urls, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    threading.Thread(target=pipe_output, args=("console", processes["console"].stdout), daemon=True).start()


def main() -> int:
    keep_infrastructure = infrastructure_already_up()
    if subprocess.run([sys.executable, str(INFRA), "up"], check=False).returncode != 0:
        return 1  # infra.py has said why, in one line
    env = service_environment(dict(os.environ))
    processes: dict[str, subprocess.Popen[bytes]] = {}
    start_mail_catcher(processes, env)
    for name, port in SERVICES.items():
        port = int(os.environ.get(f"{name.upper()}_PORT", port))
        SERVICES[name] = port
        processes[name] = subprocess.Popen(
            uvicorn_command(f"{name}.app:create_app", port),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=pipe_output, args=(name, processes[name].stdout), daemon=True).start()
    start_console(processes, env)

    prometheus: subprocess.Popen[bytes] | None = None
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        prometheus = local_prometheus.start(STATE, SERVICES, log)  # optional: says so when it cannot run
        deadline = time.monotonic() + 120
        while not stopping and not all(ready(port) for port in SERVICES.values()):
            dead = [n for n, p in processes.items() if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                log(f"services did not become ready: {dead or 'timeout'}")
                return 1
            time.sleep(0.5)
        if not stopping:
            seed = subprocess.run([sys.executable, str(ROOT / "deploy" / "local" / "seed_demo.py")], check=False)
            if seed.returncode != 0:
                log("demo data could not be seeded (see above); the services keep running")
            log("ready:")
            for name, port in SERVICES.items():
                log(f"  {name:13} http://127.0.0.1:{port}/docs   (/readyz, /metrics)")
            if prometheus is not None:
                log(f"  {'prometheus':13} http://127.0.0.1:{local_prometheus.port()}   (/targets, /alerts)")
            log(
                f"  {'console':13} http://127.0.0.1:{env.get('CONSOLE_PORT', '8080')}/   (staff console: sign in as a demo user)"
            )
            if "mail" in processes:
                log("  email alerts are caught locally and printed below (lines prefixed `mail`)")
            log("Ctrl-C stops everything")
        while not stopping:
            dead = [n for n, p in processes.items() if p.poll() is not None]
            if dead:
                log(f"service exited: {', '.join(dead)}; stopping the platform")
                return 1
            time.sleep(0.5)
        return 0
    finally:
        log("stopping services")
        if prometheus is not None:
            processes["prometheus"] = prometheus
        for proc in processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in processes.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
        if keep_infrastructure:
            log("Kafka and MongoDB were running before `make up`: left running (`make down` stops them)")
        else:
            subprocess.run([sys.executable, str(INFRA), "down"], check=False)


if __name__ == "__main__":
    sys.exit(main())
