"""The transactional outbox on the real broker and database: nothing lost, nothing doubled."""

import asyncio
import subprocess
import sys
import textwrap

import pytest

from medsupport_shared.testing import TopicReader, auth, eventually, running

from .demo_service import DemoSettings, create_app

pytestmark = pytest.mark.integration


async def test_event_accepted_while_kafka_is_down_is_published_once_after_restart(isolation, disposable_infrastructure):
    infra = disposable_infrastructure
    settings = isolation.settings(DemoSettings, kafka_bootstrap_servers=infra.infra.kafka_bootstrap_servers)
    await infra.stop("kafka")
    try:
        async with running(create_app(settings, consume=False)) as client:
            created = await client.post("/v1/notes", json={"text": "while down"}, headers=auth("s1", "student"))
            assert created.status_code == 201
            ready = await client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["checks"]["kafka"] is False  # the outbox holds it
    finally:
        await infra.start("kafka")
    note_id = created.json()["id"]
    async with (
        running(create_app(settings, consume=False)),
        TopicReader(infra.infra.kafka_bootstrap_servers, isolation.topic("wellbeing.events.v1")) as reader,
    ):
        events = await reader.wait_for(lambda e: e.data["checkin_id"] == note_id, timeout=40)
        await asyncio.sleep(2 * settings.outbox_relay_interval_seconds + settings.outbox_grace_seconds)
        assert len([e for e in reader.events if e.data["checkin_id"] == note_id]) == 1
        assert len({e.id for e in events}) == 1


KILLED_WRITER = textwrap.dedent("""
    import asyncio, os, signal, sys
    from medsupport_shared.events import new_event, utcnow
    from medsupport_shared.event_types import CheckinRecorded
    from medsupport_shared.mongo import create_client
    from medsupport_shared.outbox import outbox_entry, with_outbox

    async def main():
        client = create_client(sys.argv[1])
        event = new_event(CheckinRecorded(checkin_id="killed-1", student_id="s1", instrument="who5",
                                          severity="none", recorded_at=utcnow()), source="/services/demo")
        await client[sys.argv[2]]["notes"].insert_one(with_outbox({"_id": "killed-1"}, outbox_entry(event)))
        print(event.id, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)  # the crash between the write and the publish

    asyncio.run(main())
""")


async def test_event_of_a_process_killed_between_write_and_publish_is_published_once(isolation):
    settings = isolation.settings(DemoSettings)
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", KILLED_WRITER, settings.mongo_url, settings.database_name],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == -9, proc.stderr
    event_id = proc.stdout.strip()
    async with (
        running(create_app(settings, consume=False)) as client,
        TopicReader(settings.kafka_bootstrap_servers, isolation.topic("wellbeing.events.v1")) as reader,
    ):
        await reader.wait_for(lambda e: e.id == event_id, timeout=30)
        services = client._transport.app.state.services  # type: ignore[attr-defined]
        document = await eventually(lambda: _drained(services.runtime.db, "killed-1"))
        assert document["outbox"] == []
        await asyncio.sleep(2 * settings.outbox_relay_interval_seconds + settings.outbox_grace_seconds)
        assert [e.id for e in reader.events].count(event_id) == 1
        # the relay finds pending entries through a sparse index, never by scanning the collection
        indexes = await (await services.runtime.db["notes"].list_indexes()).to_list(None)
        # (sparse on MongoDB; FerretDB accepts the option but does not report it)
        assert any(i["name"] == "outbox_pending" and dict(i["key"]) == {"outbox.id": 1} for i in indexes), indexes


async def _drained(db, doc_id):
    document = await db["notes"].find_one({"_id": doc_id})
    return document if document is not None and not document.get("outbox") else None
