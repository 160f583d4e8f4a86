"""The services under test as real uvicorn subprocesses, isolated from tests and `make up`.

Each bench run gets its own Kafka topic prefix (``bench<run>.``) and MongoDB database names
(``bench_<run>_<service>``); JSON logs go to ``bench/results/logs/<run>/<service>.log``. At the end
the processes are stopped by their own pid and the run's databases and topics are removed."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from bench.loadgen import HttpClient
from medsupport_shared.testing import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
SERVICES = ("feedback", "wellbeing", "mentorship", "notifications")


def service_available(name: str) -> bool:
    """A service is benchmarked once its composition module exists."""
    try:
        return importlib.util.find_spec(f"{name}.app") is not None
    except ModuleNotFoundError:
        return False


@dataclass
class Process:
    name: str
    port: int
    popen: subprocess.Popen[bytes]
    log_path: Path
    proc: psutil.Process = field(init=False)

    def __post_init__(self) -> None:
        self.proc = psutil.Process(self.popen.pid)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_mb(self) -> float:
        return round(float(self.proc.memory_info().rss) / 2**20, 1)

    def peak_rss_mb(self) -> float | None:
        """The kernel's high-water mark of resident memory (Linux ``VmHWM``), None elsewhere."""
        try:
            for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
        except OSError:
            return None
        return None

    def cpu_seconds(self) -> float:
        times = self.proc.cpu_times()
        return float(times.user + times.system)


@dataclass
class Stack:
    """Starts and stops the run's processes; knows the isolation names."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    kafka: str = field(default_factory=lambda: os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    mongo: str = field(default_factory=lambda: os.environ.get("MONGO_URL", "mongodb://127.0.0.1:27017"))
    processes: dict[str, Process] = field(default_factory=dict)
    databases: list[str] = field(default_factory=list)

    @property
    def topic_prefix(self) -> str:
        return f"bench{self.run_id}."

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    @property
    def log_dir(self) -> Path:
        path = RESULTS / "logs" / self.run_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def database(self, service: str) -> str:
        name = f"bench_{self.run_id}_{service}"
        if name not in self.databases:
            self.databases.append(name)
        return name

    def start(
        self, name: str, module: str, *, env: dict[str, str] | None = None, wrapper: list[str] | None = None
    ) -> Process:
        """``uvicorn <module> --factory`` on a free port (``wrapper`` replaces ``-m uvicorn`` for profiling)."""
        port = free_port()
        service_env = {
            **os.environ,
            "APP_ENV": "development",
            "LOG_LEVEL": "INFO",
            "MONGO_URL": self.mongo,
            "MONGO_DB": self.database(name),
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "KAFKA_TOPIC_PREFIX": self.topic_prefix,
            **(env or {}),
        }
        command = [sys.executable, *(wrapper or ["-m", "uvicorn"]), module, "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log"]
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            popen = subprocess.Popen(
                command, cwd=ROOT, env=service_env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        process = Process(name, port, popen, log_path)
        self.processes[name] = process
        return process

    async def wait_ready(self, *names: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        for name in names:
            process = self.processes[name]
            client = HttpClient(process.url, max_connections=1, timeout=3)
            try:
                while True:
                    if process.popen.poll() is not None:
                        raise RuntimeError(f"{name} exited ({process.popen.returncode}); see {process.log_path}")
                    with contextlib.suppress(OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
                        if (await client.get("/readyz")).status == 200:
                            break
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} not ready within {timeout}s; see {process.log_path}")
                    await asyncio.sleep(0.25)
            finally:
                await client.aclose()

    def stop(self, name: str, timeout: float = 20.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.popen.poll() is not None:
            return
        process.popen.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully (lifespan stop) on SIGINT
        try:
            process.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.popen.kill()
            process.popen.wait(timeout=5)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)

    async def reset(self, service: str, *collections: str) -> None:
        """Empty some of a service's collections (indexes kept) so a measurement starts from a known size:
        on FerretDB every non-``_id`` query scans its collection, so costs grow with what earlier steps stored."""
        from medsupport_shared.mongo import create_client

        client = create_client(self.mongo)
        try:
            for name in collections:
                await client[self.database(service)][name].delete_many({})
        finally:
            await client.close()

    async def cleanup(self) -> None:
        """Remove the run's databases and topics from the shared servers."""
        from medsupport_shared.kafka import delete_topics_with_prefix
        from medsupport_shared.mongo import create_client

        client = create_client(self.mongo)
        try:
            for name in self.databases:
                with contextlib.suppress(Exception):
                    await client.drop_database(name)
        finally:
            await client.close()
        try:
            await delete_topics_with_prefix(bootstrap_servers=self.kafka, prefix=self.topic_prefix)
        except Exception as exc:  # leftover topics are harmless; say so and move on
            print(f"[bench] could not delete topics {self.topic_prefix}*: {exc!r}", file=sys.stderr)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "python": sys.version.split()[0],
        "platform": sys.platform,
    }


STORE_STATE: list[Path] = []
"""The state directory of the store under test when the run started its own (bench/stores.py)."""


def infrastructure_processes() -> dict[str, psutil.Process]:
    """Kafka and the MongoDB-protocol server (with its PostgreSQL, if any) started by deploy/local/infra.py
    (read from its pid files), to account for their CPU time; never signalled."""
    found = {}
    store = STORE_STATE[-1] if STORE_STATE else ROOT / ".state"
    for name, state in (("kafka", ROOT / ".state"), ("mongo", store), ("postgres", store)):
        with contextlib.suppress(OSError, ValueError, psutil.Error):
            found[name] = psutil.Process(int((state / f"{name}.pid").read_text().strip()))
    return found


class CpuMeter:
    """CPU seconds used by each process (and its children) between ``start()`` and ``stop()``."""

    def __init__(self, processes: dict[str, psutil.Process]) -> None:
        self.processes = processes
        self._before: dict[str, float] = {}

    @staticmethod
    def _cpu(process: psutil.Process) -> float:
        total = 0.0
        for p in (process, *process.children(recursive=True)):
            with contextlib.suppress(psutil.Error):
                times = p.cpu_times()
                total += times.user + times.system
        return total

    def start(self) -> None:
        self._before = {name: self._cpu(p) for name, p in self.processes.items()}

    def stop(self) -> dict[str, float]:
        return {name: self._cpu(p) - self._before.get(name, 0.0) for name, p in self.processes.items()}


async def settle(processes: dict[str, psutil.Process], *, quiet_share: float = 0.2, timeout: float = 180.0) -> float:
    """Wait until ``processes`` together use under ``quiet_share`` of one CPU over a second (work left
    behind by a previous section, such as deliveries and outbox relays after a burst, is done), or
    ``timeout``; returns the seconds waited."""
    meter = CpuMeter(processes)
    began = time.perf_counter()
    while time.perf_counter() - began < timeout:
        meter.start()
        await asyncio.sleep(1.0)
        if sum(meter.stop().values()) < quiet_share:
            break
    return round(time.perf_counter() - began, 1)
