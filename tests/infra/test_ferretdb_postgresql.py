"""``MEDSUPPORT_MONGO_BACKEND=postgresql``: infra.py creates and starts a private PostgreSQL cluster from a clean
state and FerretDB on it, the embedding ``main`` gives indexed fields the GIN index FerretDB's filters can use
(its own btree indexes cannot answer ``_jsonb -> 'field' @> value``: every lookup scanned its table), and
``down`` stops both. Without PostgreSQL installed, the same command fails in one line saying what to install."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from medsupport_shared.mongo import create_client
from medsupport_shared.testing import eventually, free_port
from medsupport_shared.testing.local_scripts import LOCAL, assert_one_line_failure

pytestmark = pytest.mark.integration

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


def _infra(*args: str, state: str, mongo_port: int, pg_port: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "MONGO_URL")}
    env.update(MEDSUPPORT_STATE_DIR=state, MEDSUPPORT_MONGO_BACKEND="postgresql")
    argv = [sys.executable, str(LOCAL / "infra.py"), *args, "--only", "mongo"]
    argv += ["--mongo-port", str(mongo_port), "--postgres-port", str(pg_port)]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)


def _psql(sql: str, socket_dir: str, pg_port: int) -> str:
    done = subprocess.run(
        [f"{PG_BIN[-1]}/psql", "-h", socket_dir, "-p", str(pg_port), "-d", "ferretdb", "-Atc", sql],
        capture_output=True,
        text=True,
        check=True,
        user="postgres" if os.geteuid() == 0 else None,
    )
    return done.stdout


@pytest.fixture
def open_tmp_path() -> Iterator[Path]:
    """A fresh directory the cluster's owner (``postgres`` when this runs as root) may enter: pytest's own
    tmp_path sits under a directory only its user may enter."""
    path = Path(tempfile.mkdtemp(prefix="medsupport-pg-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def test_a_state_dir_postgres_cannot_enter_is_refused_in_one_line(tmp_path):
    if not PG_BIN or os.geteuid() != 0:
        return  # only root hands the cluster to another user
    (tmp_path / "closed").mkdir(mode=0o700)
    done = _infra("up", state=str(tmp_path / "closed" / "state"), mongo_port=free_port(), pg_port=free_port())
    assert "cannot enter" in assert_one_line_failure(done)[-1]


async def test_ferretdb_on_a_private_postgresql_from_a_clean_state(open_tmp_path):
    tmp_path = open_tmp_path
    state, mongo_port, pg_port = str(tmp_path / "state"), free_port(), free_port()
    if not PG_BIN:  # a machine without Debian's postgresql package: say what to install, in one line
        lines = assert_one_line_failure(_infra("up", state=state, mongo_port=mongo_port, pg_port=pg_port))
        assert "apt-get install postgresql" in lines[-1]
        return
    up = _infra("up", state=state, mongo_port=mongo_port, pg_port=pg_port)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert "(postgresql)" in up.stdout
        client = create_client(f"mongodb://127.0.0.1:{mongo_port}")
        try:
            items = client["gin_check"]["items"]
            await items.create_index("student")
            await items.insert_many([{"_id": f"c{i}", "student": f"s{i % 40}", "n": i} for i in range(400)])
            await items.insert_one({"_id": "multi", "student": ["s1", "x"], "n": -1})
            socket_dir = f"{state}/postgres-run"

            async def gin_indexes() -> str:
                found = _psql(
                    "SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'medsupport_gin_%'", socket_dir, pg_port
                )
                return found if "'student'" in found and "'_id'" in found else ""

            assert "jsonb_path_ops" in await eventually(gin_indexes, timeout=20)
            table = _psql(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'gin_check' AND tablename LIKE 'items_%'",
                socket_dir,
                pg_port,
            ).strip()
            plan = _psql(
                f"SET enable_seqscan = off; EXPLAIN SELECT _jsonb FROM gin_check.{table} WHERE _jsonb -> 'student' @> '\"s1\"'",
                socket_dir,
                pg_port,
            )
            assert "medsupport_gin_" in plan, plan
            # answers stay MongoDB's: an array field matches a value it holds
            found = {d["_id"] async for d in items.find({"student": "s1"})}
            assert found == {f"c{i}" for i in range(1, 400, 40)} | {"multi"}
            assert (await items.update_one({"_id": "c7"}, {"$set": {"n": 70}})).modified_count == 1
            assert (await items.find_one({"_id": "c7"}))["n"] == 70
            assert [i["name"] async for i in await items.list_indexes()] == ["_id_", "student_1"]  # extras invisible
        finally:
            await client.close()
    finally:
        down = _infra("down", state=state, mongo_port=mongo_port, pg_port=pg_port)
    assert down.returncode == 0, down.stderr
    left = [
        name
        for name in (f"postgres-run/.s.PGSQL.{pg_port}", "postgres.pid", "mongo.pid")
        if (tmp_path / "state" / name).exists()
    ]
    assert not left
