"""The A/B of the embedded store: FerretDB on SQLite and on PostgreSQL, each a private instance started
through deploy/local/infra.py on free ports with its own state directory, stopped by infra.py (by pid) and
removed after its part of the run. Kafka stays the shared one; only the MongoDB-protocol server changes."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from medsupport_shared.testing import free_port

INFRA = Path(__file__).resolve().parents[1] / "deploy" / "local" / "infra.py"
BACKENDS = ("sqlite", "postgresql")


@contextlib.contextmanager
def private_store(backend: str) -> Iterator[tuple[str, Path]]:
    """(MongoDB URL, state directory) of a FerretDB on ``backend`` that lives for the block."""
    state = Path(tempfile.mkdtemp(prefix=f"medsupport-bench-{backend}-"))
    state.chmod(0o755)  # PostgreSQL runs as the postgres user when this runs as root
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "MONGO_URL"}
    env.update(MEDSUPPORT_STATE_DIR=str(state), MEDSUPPORT_MONGO_BACKEND=backend)
    ports = ["--mongo-port", str(port), "--postgres-port", str(free_port())]

    def infra(command: str) -> None:
        done = subprocess.run(
            [sys.executable, str(INFRA), command, "--only", "mongo", *ports], env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"infra.py {command} ({backend}): {(done.stderr or done.stdout).strip()}")

    try:
        infra("up")
        yield f"mongodb://127.0.0.1:{port}", state
    finally:
        with contextlib.suppress(RuntimeError):
            infra("clean")  # a cluster kept outside the state dir (see infra.postgres_home) goes too
        shutil.rmtree(state, ignore_errors=True)
