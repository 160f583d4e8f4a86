import pytest

from medsupport_shared.testing import TopicReader, auth, eventually, running

from .demo_service import DemoSettings, create_app, services_of

pytestmark = pytest.mark.integration


async def test_note_is_published_and_consumed_once(isolation):
    app = create_app(isolation.settings(DemoSettings))
    async with (
        running(app) as client,
        TopicReader(isolation.infra.kafka_bootstrap_servers, isolation.topic("wellbeing.events.v1")) as reader,
    ):
        headers = {**auth("s1", "student"), "Idempotency-Key": "k1"}
        first = await client.post("/v1/notes", json={"text": "hi"}, headers=headers)
        again = await client.post("/v1/notes", json={"text": "hi"}, headers=headers)
        assert first.status_code == 201 and again.json() == first.json()
        other = await client.post("/v1/notes", json={"text": "other"}, headers=headers)
        assert other.status_code == 409
        assert other.headers["content-type"] == "application/problem+json"
        events = await reader.wait_for(lambda e: e.data["checkin_id"] == first.json()["id"])
        assert len(events) == 1
        await eventually(lambda: services_of(app).handled == [events[0].id])
        stored = await services_of(app).runtime.db["idempotency_keys"].find_one({})
        assert stored["body"] and "hi" not in stored["body"]  # replies are encrypted at rest
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
