"""One recipient whose alert cannot be made does not cost the other recipients of the event theirs;
the event is retried and then dead-lettered with the reason, nothing doubled."""

import pytest

from medsupport_shared.testing import TopicReader, auth, eventually, running

from .conftest import wait_for_consumer

pytestmark = pytest.mark.integration


async def test_the_other_recipients_are_alerted_and_the_event_is_dead_lettered(stack, monkeypatch):
    import notifications.alerts

    planned = notifications.alerts.start_deliveries

    async def broken_for_c1(**kwargs):
        if kwargs["alert"]["recipient_id"] == "c1":  # c1 is routed first (ids in order)
            raise RuntimeError("c1's channels cannot be planned")
        await planned(**kwargs)

    monkeypatch.setattr(notifications.alerts, "start_deliveries", broken_for_c1)
    app = stack.app()
    dlq_topic = stack.isolation.topic("wellbeing.events.v1") + ".dlq"
    async with running(app) as client, TopicReader(stack.settings.kafka_bootstrap_servers, dlq_topic) as dlq:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        event = await stack.flag(student="s1", severity="elevated", flag_id="f1")  # to every counsellor

        await eventually(lambda: [m for m in stack.mailbox.messages if m[0] == ["c2@med.example.edu"]], timeout=30)
        listed = (await client.get("/v1/inbox", headers=auth("c2", "counsellor"))).json()["items"]
        assert [a["subject_id"] for a in listed] == ["s1"]
        (dead,) = await dlq.wait_for(lambda e: e.id == event.id, timeout=60)
        assert dead.id == event.id
        # the retries found c2's alert again and made nothing twice
        repo = app.state.services.repo
        assert await repo.alerts.count_documents({"recipient_id": "c2"}) == 1
        assert len([m for m in stack.mailbox.messages if m[0] == ["c2@med.example.edu"]]) == 1
