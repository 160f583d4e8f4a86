"""The outbox across outages of the real database and broker (a disposable pair, stopped on purpose):
a publish whose database goes away is no lost task error, and what is pending is published within
seconds of recovery, from what MongoDB holds."""

import asyncio
import gc
import time
from datetime import timedelta

import pytest

from medsupport_shared.event_types import CheckinRecorded
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.outbox import outbox_entry, with_outbox
from medsupport_shared.testing import TopicReader, auth, eventually, running

from .demo_service import DemoSettings, create_app

pytestmark = pytest.mark.integration


def disposable_settings(isolation, infra) -> DemoSettings:
    return isolation.settings(
        DemoSettings, kafka_bootstrap_servers=infra.infra.kafka_bootstrap_servers, mongo_url=infra.infra.mongo_url
    )


def entry_for(doc_id: str) -> dict:
    event = new_event(
        CheckinRecorded(checkin_id=doc_id, student_id="s1", instrument="who5", severity="none", recorded_at=utcnow()),
        source="/services/demo",
    )
    return {**outbox_entry(event), "created_at": utcnow() - timedelta(minutes=5)}


async def test_database_lost_between_publish_and_removal_is_no_task_error_and_the_relay_finishes(
    isolation, disposable_infrastructure
):
    infra = disposable_infrastructure
    settings = disposable_settings(isolation, infra)
    reported: list[dict] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        app = create_app(settings, consume=False)
        async with (
            running(app),
            TopicReader(infra.infra.kafka_bootstrap_servers, isolation.topic("wellbeing.events.v1")) as reader,
        ):
            runtime = app.state.runtime
            entry = entry_for("parked-1")
            # "parked" is not yet known to the relay: only the publish below touches it before the outage
            await runtime.db["parked"].insert_one(with_outbox({"_id": "parked-1"}, entry))
            await infra.stop("mongo")
            try:
                published = await runtime.outbox.dispatch("parked", "parked-1", [entry])
                assert published is False, "the entry could not be removed, so it is left for the relay"
                await reader.wait_for(lambda e: e.id == entry["id"], timeout=30)
            finally:
                await infra.start("mongo")
            back = time.monotonic()

            async def relayed():
                document = await runtime.db["parked"].find_one({"_id": "parked-1"})
                return document is not None and document["outbox"] == []

            await eventually(relayed, timeout=30, interval=0.2, message="the relay removed the published entry")
            assert time.monotonic() - back < 15
            # published again by the relay from what MongoDB held; consumers drop the repeat by its id
            await eventually(lambda: [e.id for e in reader.events].count(entry["id"]) == 2, timeout=15)
            assert runtime.tasks.failures == {}
        gc.collect()
    finally:
        loop.set_exception_handler(previous)
    assert not [c for c in reported if "never retrieved" in c.get("message", "")], reported


async def test_pending_entries_are_published_within_seconds_once_kafka_and_the_database_are_back(
    isolation, disposable_infrastructure
):
    infra = disposable_infrastructure
    settings = disposable_settings(isolation, infra)
    app = create_app(settings, consume=False)
    async with running(app) as client:
        runtime = app.state.runtime
        await infra.stop("kafka")
        try:
            created = [
                await client.post("/v1/notes", json={"text": f"n{i}"}, headers=auth("s1", "student")) for i in range(3)
            ]
            assert [r.status_code for r in created] == [201] * 3
            await infra.stop("mongo")
            await infra.start("kafka")
        finally:
            await infra.start("mongo")
            await infra.start("kafka")
        back = time.monotonic()
        ids = {r.json()["id"] for r in created}
        async with TopicReader(infra.infra.kafka_bootstrap_servers, isolation.topic("wellbeing.events.v1")) as reader:
            await reader.wait_for(lambda e: e.data["checkin_id"] in ids, count=3, timeout=30)
        assert time.monotonic() - back < 20, "published within seconds of recovery"

        async def removed() -> bool:  # the relay removes each entry right after Kafka acknowledged it
            return not await runtime.db["notes"].count_documents({"outbox.id": {"$exists": True}})

        await eventually(removed, timeout=10, interval=0.2, message="published entries removed from the outbox")
