"""Pytest fixtures for integration tests on the real infrastructure.

``infrastructure`` brings up Kafka and the MongoDB-protocol server with the project's own script
(unless ``KAFKA_BOOTSTRAP_SERVERS``/``MONGO_URL`` already answer). ``isolation`` gives each test
its own topic prefix and database names, so concurrent runs never see each other's data.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiokafka.errors import KafkaError

from medsupport_shared.kafka import delete_topics_with_prefix, kafka_answers
from medsupport_shared.mongo import create_client, ping
from medsupport_shared.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)
log = logging.getLogger(__name__)


def pytest_configure(config: pytest.Config) -> None:
    """Tests run with the published development secrets, which only APP_ENV=development accepts (the
    default is production); services the tests start as subprocesses inherit it."""
    os.environ.setdefault("APP_ENV", "development")


@dataclass(frozen=True)
class Infrastructure:
    kafka_bootstrap_servers: str
    mongo_url: str


def _repo_root() -> Path:
    for parent in Path(__file__).resolve().parents:
        if (parent / "deploy" / "local" / "infra.py").exists():
            return parent
    raise RuntimeError("cannot find deploy/local/infra.py above the shared library")


async def _answers(infra: Infrastructure) -> bool:
    client = create_client(infra.mongo_url, timeout_ms=1500)
    try:
        mongo_ok = await ping(client["admin"])
    finally:
        await client.close()
    return mongo_ok and await kafka_answers(infra.kafka_bootstrap_servers)


@pytest.fixture(scope="session")
async def infrastructure() -> Infrastructure:
    infra = Infrastructure(
        kafka_bootstrap_servers=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
        mongo_url=os.environ.get("MONGO_URL", "mongodb://127.0.0.1:27017"),
    )
    if not await _answers(infra):
        script = _repo_root() / "deploy" / "local" / "infra.py"
        await asyncio.to_thread(subprocess.run, [sys.executable, str(script), "up"], check=True)
    assert await _answers(infra), "Kafka and MongoDB must answer for integration tests"
    return infra


@dataclass
class Isolation:
    """A fresh topic prefix and database names for one test."""

    infra: Infrastructure
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    databases: list[str] = field(default_factory=list)

    @property
    def topic_prefix(self) -> str:
        return f"t{self.run_id}."

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}{name}"

    def settings(self, cls: type[S], **overrides: Any) -> S:
        """Settings for a service under test: real servers, isolated names, fast loops."""
        probe = cls()
        database = overrides.pop("mongo_db", f"{probe.service_name}_{self.run_id}")
        self.databases.append(database)
        values: dict[str, Any] = {
            "app_env": "development",
            "kafka_bootstrap_servers": self.infra.kafka_bootstrap_servers,
            "mongo_url": self.infra.mongo_url,
            "kafka_topic_prefix": self.topic_prefix,
            "mongo_db": database,
            "outbox_relay_interval_seconds": 0.3,
            "outbox_grace_seconds": 0.5,
            "kafka_retry_backoff_seconds": 0.05,
            **overrides,
        }
        return cls(**values)


@pytest.fixture
async def isolation(infrastructure: Infrastructure) -> AsyncIterator[Isolation]:
    iso = Isolation(infra=infrastructure)
    yield iso
    client = create_client(infrastructure.mongo_url)
    try:
        for name in set(iso.databases):
            await client.drop_database(name)
    finally:
        await client.close()
    try:  # a full run creates thousands of partitions otherwise, and the broker's heap is small
        await delete_topics_with_prefix(
            bootstrap_servers=infrastructure.kafka_bootstrap_servers, prefix=iso.topic_prefix
        )
    except KafkaError as exc:  # the test may have stopped a broker on purpose; leftovers are harmless
        log.warning("could not delete the test's topics", extra={"prefix": iso.topic_prefix, "error": repr(exc)})


@pytest.fixture
def settings_for(isolation: Isolation) -> Callable[..., Any]:
    return isolation.settings


class DisposableInfrastructure:
    """A second Kafka and MongoDB-protocol server on free ports, for tests that stop and restart
    them (outages, crashes) without disturbing the shared servers other tests use."""

    def __init__(self, state_dir: Path, mongo_backend: str | None = None) -> None:
        """``mongo_backend``: FerretDB's store (``sqlite`` or ``postgresql``); None: infra.py's choice."""
        from medsupport_shared.testing import free_port

        self.state_dir = state_dir
        self.mongo_backend = mongo_backend
        self.kafka_port, self.controller_port, self.mongo_port = free_port(), free_port(), free_port()
        self.postgres_port = free_port()
        self.infra = Infrastructure(f"127.0.0.1:{self.kafka_port}", f"mongodb://127.0.0.1:{self.mongo_port}")

    def _run(self, command: str, only: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "MONGO_URL")}
        env.update(MEDSUPPORT_STATE_DIR=str(self.state_dir), MEDSUPPORT_KAFKA_HEAP="384m")
        if self.mongo_backend:
            env["MEDSUPPORT_MONGO_BACKEND"] = self.mongo_backend
        argv = [
            sys.executable,
            str(_repo_root() / "deploy" / "local" / "infra.py"),
            command,
            "--kafka-port",
            str(self.kafka_port),
            "--kafka-controller-port",
            str(self.controller_port),
            "--mongo-port",
            str(self.mongo_port),
            "--postgres-port",
            str(self.postgres_port),
        ]
        if only:
            argv += ["--only", only]
        subprocess.run(argv, check=True, env=env, stdout=subprocess.DEVNULL)

    async def start(self, only: str | None = None) -> None:
        await asyncio.to_thread(self._run, "up", only)

    async def stop(self, only: str | None = None) -> None:
        await asyncio.to_thread(self._run, "down", only)

    async def remove(self) -> None:
        """Stop both and delete their data, including a PostgreSQL cluster kept outside the state dir."""
        await asyncio.to_thread(self._run, "clean")

    async def kill(self, only: str) -> None:
        """SIGKILL one server (``kafka`` or ``mongo``) and its process group: a crash, no clean shutdown.
        Only this instance's own process, found by its pid file in this instance's state directory."""
        pid_file = self.state_dir / f"{only}.pid"
        pid = int(pid_file.read_text().strip())
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)

        def gone() -> bool:
            try:
                return ") Z " in Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                return True

        from medsupport_shared.testing import eventually

        await eventually(gone, timeout=10, message=f"{only} (pid {pid}) gone")


@pytest.fixture(scope="session")
async def disposable_infrastructure(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Any]:
    infra = DisposableInfrastructure(tmp_path_factory.mktemp("disposable-infra"))
    await infra.start()
    try:
        yield infra
    finally:
        await infra.remove()
