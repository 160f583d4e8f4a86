"""The local FerretDB keeps an index on the expression its SQLite backend filters ``_id`` with.

FerretDB v1.24 indexes ``_id`` as ``_ferretdb_sjson->"_id"`` but filters with ``_ferretdb_sjson->'$._id'``,
which SQLite does not match, so every find/update/delete by ``_id`` scanned its whole table. The embedding
``main`` in deploy/local/ferretdb adds the matching index to every collection table; this checks that the
index appears and that SQLite's own planner uses it for FerretDB's update statement."""

import shutil
import sqlite3

import pytest

from medsupport_shared.mongo import create_client
from medsupport_shared.testing import eventually
from medsupport_shared.testing.pytest_plugin import DisposableInfrastructure

pytestmark = pytest.mark.integration


def _plan(database_file, collection: str) -> tuple[list[str], str]:
    with sqlite3.connect(f"file:{database_file}?mode=ro", uri=True) as db:
        (table,) = db.execute("SELECT table_name FROM _ferretdb_collections WHERE name = ?", (collection,)).fetchone()
        indexes = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE tbl_name = ?", (table,))]
        plan = db.execute(
            f"EXPLAIN QUERY PLAN UPDATE \"{table}\" SET _ferretdb_sjson = ? WHERE _ferretdb_sjson->'$._id' = ?",
            ("{}", '"x"'),
        ).fetchall()
    return indexes, " ".join(str(step[-1]) for step in plan)


@pytest.fixture
async def sqlite_ferretdb(tmp_path):
    """A FerretDB of its own on SQLite, whatever the default store."""
    infra = DisposableInfrastructure(tmp_path, mongo_backend="sqlite")
    await infra.start(only="mongo")
    yield infra
    await infra.remove()


async def test_every_collection_gets_an_index_that_updates_by_id_use(sqlite_ferretdb):
    if shutil.which("mongod"):
        pytest.skip("mongod is on PATH: the local infrastructure runs MongoDB, not FerretDB")
    client = create_client(sqlite_ferretdb.infra.mongo_url)
    try:
        await client["id_index_check"]["items"].insert_many([{"_id": f"item-{i}", "n": i} for i in range(50)])
        database_file = sqlite_ferretdb.state_dir / "mongo-data" / "id_index_check.sqlite"

        async def indexed() -> bool:
            return any(name.endswith("__id_path") for name in _plan(database_file, "items")[0])

        await eventually(indexed, timeout=15)
        _, plan = _plan(database_file, "items")
        assert "USING INDEX" in plan and "__id_path" in plan, plan
        assert (
            await client["id_index_check"]["items"].update_one({"_id": "item-7"}, {"$set": {"n": 70}})
        ).modified_count == 1
        assert (await client["id_index_check"]["items"].find_one({"_id": "item-7"}))["n"] == 70
        indexes = await (await client["id_index_check"]["items"].list_indexes()).to_list(None)
        assert [i["name"] for i in indexes] == ["_id_"]  # the extra index is invisible to clients
    finally:
        await client.drop_database("id_index_check")
        await client.close()
