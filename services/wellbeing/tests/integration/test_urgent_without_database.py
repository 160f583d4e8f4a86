"""An urgent check-in raises its flag while the real database is down (a disposable server, stopped on
purpose): the student gets 202 with ``recorded: false`` and the crisis resources, the flag event is on
Kafka at once, and once the database is back (here after a restart of the service) the flag is in the
queue under the same id, raised once."""

import contextlib

import pytest

from medsupport_shared.testing import TopicReader, auth, eventually, running
from wellbeing.app import create_app
from wellbeing.domain.flags import flag_id_for, flag_raised_event_id
from wellbeing.settings import WellbeingSettings

pytestmark = pytest.mark.integration
STUDENT = auth("s-down", "student", cohort="2027")
URGENT = {"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 2]}
ROUTINE = {"instrument": "who5", "answers": [3, 3, 3, 3, 3]}


async def test_urgent_check_in_with_the_database_down_raises_its_flag_and_the_store_catches_up(
    isolation, disposable_infrastructure, tmp_path
):
    infra = disposable_infrastructure
    settings = isolation.settings(
        WellbeingSettings,
        kafka_bootstrap_servers=infra.infra.kafka_bootstrap_servers,
        mongo_url=infra.infra.mongo_url,
        urgent_spool_dir=str(tmp_path / "spool"),
    )
    topic = isolation.topic("wellbeing.events.v1")
    async with contextlib.AsyncExitStack() as outlives_the_first_process:
        async with running(create_app(settings)) as client:
            reader = await outlives_the_first_process.enter_async_context(
                TopicReader(infra.infra.kafka_bootstrap_servers, topic)  # the service created the topic
            )
            await client.put("/v1/me/consent", json={"store_checkins": True}, headers=STUDENT)
            await infra.stop("mongo")
            try:
                routine = await client.post("/v1/checkins", json=ROUTINE, headers=STUDENT)
                assert routine.status_code == 503 and "crisis_resources" not in routine.json()
                urgent = await client.post("/v1/checkins", json=URGENT, headers=STUDENT)
                assert urgent.status_code == 202, urgent.text
                body = urgent.json()
                assert body["recorded"] is False and body["severity"] == "urgent" and body["crisis_resources"]
                [event] = await reader.wait_for(lambda e: e.type == "flag.raised", timeout=30)
                assert event.id == flag_raised_event_id(body["id"]) and event.data["student_id"] == "s-down"
                assert list((tmp_path / "spool").glob("*.flag")), "kept on disk until the store has it"
                assert (await client.get("/readyz")).status_code == 503
            finally:
                await infra.start("mongo")
        # a new process (same spool) finds the flag on disk and puts it in the queue
        async with running(create_app(settings)) as client:
            counsellor = auth("c1", "counsellor")

            async def queued():
                page = await client.get("/v1/flags", params={"status": "open"}, headers=counsellor)
                return page.json()["items"] if page.status_code == 200 and page.json()["items"] else None

            [flag] = await eventually(queued, timeout=30, interval=0.3, message="the flag in the queue")
            assert flag["id"] == flag_id_for(body["id"]) and flag["severity"] == "urgent"
            await eventually(lambda: not list((tmp_path / "spool").glob("*.flag")), timeout=15)
            raised = [e for e in reader.events if e.type == "flag.raised"]
            assert {e.id for e in raised} == {event.id}, "republished under the same id at most (consumers dedup)"
            assert not [e for e in reader.events if e.type == "checkin.recorded"], "the check-in was not recorded"
