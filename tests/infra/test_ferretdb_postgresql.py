"""FerretDB's store: PostgreSQL by default. infra.py creates and starts a private PostgreSQL cluster from a
clean state and FerretDB on it, the embedding ``main`` gives indexed fields the GIN index FerretDB's filters can
use (its own btree indexes cannot answer ``_jsonb -> 'field' @> value``: every lookup scanned its table), and
``down`` stops both. A state dir PostgreSQL's user cannot enter (pytest's, as root) gets the cluster a private
directory of its own, which ``down`` removes. Without PostgreSQL the default falls back to SQLite in one line;
asked for by name, it fails in one line saying what to install. A running FerretDB on the other store is
restarted on the one asked for."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from medsupport_shared.mongo import create_client
from medsupport_shared.testing import eventually, free_port
from medsupport_shared.testing.local_scripts import LOCAL, assert_one_line_failure

pytestmark = pytest.mark.integration

PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))


class Store:
    """infra.py on a state dir of its own, mongo only, on free ports."""

    def __init__(self, state: Path) -> None:
        self.state, self.mongo_port, self.pg_port = state, free_port(), free_port()

    def infra(self, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if k not in ("KAFKA_BOOTSTRAP_SERVERS", "MONGO_URL")}
        base.pop("MEDSUPPORT_MONGO_BACKEND", None)
        base.update(MEDSUPPORT_STATE_DIR=str(self.state), **env)
        argv = [sys.executable, str(LOCAL / "infra.py"), *args, "--only", "mongo"]
        argv += ["--mongo-port", str(self.mongo_port), "--postgres-port", str(self.pg_port)]
        return subprocess.run(argv, env=base, capture_output=True, text=True, timeout=600)

    def up(self, **env: str) -> subprocess.CompletedProcess[str]:
        done = self.infra("up", **env)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    @property
    def home(self) -> Path:
        pointer = self.state / "postgres-home"
        return Path(pointer.read_text()) if pointer.exists() else self.state

    @property
    def psql_argv(self) -> list[str]:
        return [f"{PG_BIN[-1]}/psql", "-h", str(self.home / "postgres-run"), "-p", str(self.pg_port), "-d", "ferretdb"]

    def psql(self, sql: str) -> str:
        done = subprocess.run(
            [*self.psql_argv, "-Atc", sql],
            capture_output=True,
            text=True,
            check=True,
            user="postgres" if os.geteuid() == 0 else None,
        )
        return done.stdout

    def pid(self, name: str) -> int | None:
        path = self.state / f"{name}.pid"
        return int(path.read_text()) if path.exists() else None


@pytest.fixture
def store(tmp_path) -> Store:
    """pytest's own tmp_path: as root it sits under a directory only root may enter."""
    store = Store(tmp_path / "state")
    yield store
    store.infra("clean")


async def test_ferretdb_on_a_private_postgresql_by_default_from_a_clean_state(store):
    if not PG_BIN:  # a machine without Debian's postgresql package: asked for by name, say what to install
        lines = assert_one_line_failure(store.infra("up", MEDSUPPORT_MONGO_BACKEND="postgresql"))
        assert "apt-get install postgresql" in lines[-1]
        return
    up = store.up()
    assert "(postgresql)" in up.stdout
    assert "FerretDB runs on SQLite" not in up.stdout
    client = create_client(f"mongodb://127.0.0.1:{store.mongo_port}")
    try:
        items = client["gin_check"]["items"]
        await items.create_index("student")
        await items.insert_many([{"_id": f"c{i}", "student": f"s{i % 40}", "n": i} for i in range(400)])
        await items.insert_one({"_id": "multi", "student": ["s1", "x"], "n": -1})

        async def gin_indexes() -> str:
            found = store.psql("SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'medsupport_gin_%'")
            return found if "'student'" in found and "'_id'" in found else ""

        assert "jsonb_path_ops" in await eventually(gin_indexes, timeout=20)
        table = store.psql(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'gin_check' AND tablename LIKE 'items_%'"
        ).strip()
        plan = store.psql(
            f"SET enable_seqscan = off; EXPLAIN SELECT _jsonb FROM gin_check.{table} WHERE _jsonb -> 'student' @> '\"s1\"'"
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
    home = store.home
    down = store.infra("down")
    assert down.returncode == 0, down.stderr
    left = [p for p in (home / f"postgres-run/.s.PGSQL.{store.pg_port}", store.state / "postgres.pid") if p.exists()]
    assert not left and store.pid("mongo") is None


async def test_a_state_dir_postgres_cannot_use_gets_a_private_cluster_directory_kept_until_clean(tmp_path):
    """Closed to ``postgres`` as root; for any user, too deep for the socket's path (108 bytes at most)."""
    if not PG_BIN:
        return  # covered by the one-line failure above
    (tmp_path / "closed").mkdir(mode=0o700)
    store = Store(tmp_path / "closed" / ("deep" * 12) / "state")
    try:
        up = store.up()
        home = store.home
        assert home != store.state and not home.is_relative_to(tmp_path), up.stdout
        assert f"PostgreSQL's cluster goes in {home}" in up.stdout
        info = home.stat()
        assert info.st_mode & 0o777 == 0o700
        assert info.st_uid == (pwd.getpwnam("postgres").pw_uid if os.geteuid() == 0 else os.geteuid())
        await _insert_and_count(store, "a")
        assert store.infra("down").returncode == 0
        again = store.up()  # an outage: the same cluster, its data kept
        assert store.home == home and "goes in" not in again.stdout
        assert await _insert_and_count(store, "b") == 2
    finally:
        clean = store.infra("clean")
    assert clean.returncode == 0, clean.stderr
    assert not home.exists() and not store.state.exists()


async def test_a_cluster_directory_whose_state_dir_is_gone_is_removed_by_the_next_one(tmp_path):
    if not PG_BIN:
        return  # covered by the one-line failure above
    (tmp_path / "closed").mkdir(mode=0o700)
    gone = Store(tmp_path / "closed" / ("gone" * 12) / "state")
    gone.up()
    orphan = gone.home
    gone.infra("down")
    shutil.rmtree(gone.state)  # as pytest removes its old temporary directories
    young = Store(tmp_path / "closed" / ("young" * 10) / "state")
    try:
        assert f"removing {orphan}" not in young.up().stdout  # too recent to judge: another run may be creating it
    finally:
        young.infra("clean")
    long_ago = time.time() - 3600
    os.utime(orphan, (long_ago, long_ago))
    store = Store(tmp_path / "closed" / ("next" * 12) / "state")
    try:
        up = store.up()
        assert f"removing {orphan}, the PostgreSQL cluster of a state dir that is gone" in up.stdout
        assert not orphan.exists() and store.home.exists()
    finally:
        store.infra("clean")


async def _insert_and_count(store: Store, key: str) -> int:
    client = create_client(f"mongodb://127.0.0.1:{store.mongo_port}")
    try:
        await client["relocated"]["items"].insert_one({"_id": key})
        return await client["relocated"]["items"].count_documents({})
    finally:
        await client.close()


async def test_without_postgresql_the_default_is_sqlite_with_the_reason_and_a_named_postgresql_fails(store, tmp_path):
    nowhere = {"MEDSUPPORT_POSTGRES_BIN": str(tmp_path / "no-postgresql")}

    up = store.up(**nowhere)

    said = [line for line in up.stdout.splitlines() if "FerretDB runs on SQLite" in line]
    assert len(said) == 1, up.stdout
    assert "PostgreSQL is not installed" in said[0] and "sudo apt-get install postgresql" in said[0]
    assert "MEDSUPPORT_MONGO_BACKEND=sqlite" in said[0]
    assert "(sqlite)" in up.stdout and store.pid("postgres") is None
    client = create_client(f"mongodb://127.0.0.1:{store.mongo_port}")
    try:
        assert (await client["fallback"].command("ping"))["ok"] == 1
    finally:
        await client.close()
    store.infra("down")

    named = store.infra("up", MEDSUPPORT_MONGO_BACKEND="postgresql", **nowhere)
    assert assert_one_line_failure(named) == [
        "[infra] error: MEDSUPPORT_MONGO_BACKEND=postgresql, but PostgreSQL is not installed "
        f"(no initdb in {tmp_path / 'no-postgresql'}): sudo apt-get install postgresql"
    ]
    assert store.pid("mongo") is None


async def test_a_running_ferretdb_on_the_other_store_is_restarted_on_the_one_asked_for(store):
    if not PG_BIN:
        return  # no other store to switch to
    on_sqlite = store.up(MEDSUPPORT_MONGO_BACKEND="sqlite")
    assert "(sqlite)" in on_sqlite.stdout
    first = store.pid("mongo")

    by_default = store.up()

    assert f"mongo on 127.0.0.1:{store.mongo_port} runs on sqlite, not postgresql: restarting it on postgresql" in (
        by_default.stdout
    )
    assert "(postgresql)" in by_default.stdout and store.pid("mongo") != first
    assert store.pid("postgres") is not None
    same = store.up()
    assert "mongo already running" in same.stdout and "(postgresql)" in same.stdout

    back = store.up(MEDSUPPORT_MONGO_BACKEND="sqlite")

    assert "runs on postgresql, not sqlite: restarting it on sqlite" in back.stdout
    assert store.pid("postgres") is None  # PostgreSQL stopped with the FerretDB that used it
    client = create_client(f"mongodb://127.0.0.1:{store.mongo_port}")
    try:
        assert (await client["switched"].command("ping"))["ok"] == 1
    finally:
        await client.close()
