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
        note = {"text": "a private note"}  # has spaces: a Fernet token (base64) cannot contain it by chance
        first = await client.post("/v1/notes", json=note, headers=headers)
        again = await client.post("/v1/notes", json=note, headers=headers)
        assert first.status_code == 201 and again.json() == first.json()
        other = await client.post("/v1/notes", json={"text": "other"}, headers=headers)
        assert other.status_code == 409
        assert other.headers["content-type"] == "application/problem+json"
        events = await reader.wait_for(lambda e: e.data["checkin_id"] == first.json()["id"])
        assert len(events) == 1
        await eventually(lambda: services_of(app).handled == [events[0].id])
        stored = await services_of(app).runtime.db["idempotency_keys"].find_one({})
        assert "a private note" in first.text and "a private note" not in stored["body"]  # encrypted at rest
        ready = await client.get("/readyz")
        assert ready.status_code == 200, ready.text
