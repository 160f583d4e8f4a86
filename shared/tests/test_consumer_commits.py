"""When a consumer commits: at once after a batch it worked, but a batch it only ignored (events of a shared
topic that it has no handler for) waits up to ``IGNORED_COMMIT_SECONDS`` or until things go quiet.

The commit policy runs here on records built in memory and a stand-in that counts commits; the broker side
(ignored events end up committed) is tested on the real broker in test_consumer.py."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from medsupport_shared.event_types import CheckinRecorded, FlagRaised
from medsupport_shared.events import new_event
from medsupport_shared.kafka import EventConsumer, EventPublisher
from medsupport_shared.kafka import consumer as consumer_module

TP = TopicPartition("t.wellbeing.events.v1", 0)


class CountingConsumer:
    def __init__(self) -> None:
        self.commits: list[dict[TopicPartition, int]] = []

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))


class NoInbox:
    async def seen(self, **_: Any) -> bool:
        return False

    async def record(self, **_: Any) -> None:
        return None


def record(offset: int, payload: Any) -> ConsumerRecord[bytes, bytes]:
    event = new_event(payload, source="/services/wellbeing")
    return ConsumerRecord(
        TP.topic, TP.partition, offset, 0, 0, b"s1", event.model_dump_json().encode(), None, 2, 10, []
    )


def checkin(n: int) -> CheckinRecorded:
    return CheckinRecorded(
        checkin_id=f"c{n}", student_id="s1", instrument="who5", severity="none", recorded_at=datetime.now(UTC)
    )


def flag() -> FlagRaised:
    return FlagRaised(
        flag_id="f1", student_id="s1", severity="urgent", reasons=["r"], instrument="phq9", raised_at=datetime.now(UTC)
    )


async def test_ignored_batches_wait_for_their_commit_and_worked_ones_do_not(monkeypatch):
    handled: list[str] = []

    async def on_flag(event, payload) -> None:
        handled.append(payload.flag_id)

    runner = EventConsumer(
        name="flags",
        topics=["wellbeing.events.v1"],
        handlers={FlagRaised: on_flag},
        group_id="g",
        bootstrap_servers="127.0.0.1:1",
        publisher=EventPublisher(bootstrap_servers="127.0.0.1:1", topic_prefix="t.", service="test"),
        inbox=NoInbox(),  # type: ignore[arg-type]
        service="test",
    )
    kafka = CountingConsumer()
    clock = [100.0]
    monkeypatch.setattr(consumer_module.time, "monotonic", lambda: clock[0])

    await runner._consume_partition(kafka, TP, [record(0, checkin(0))])  # never committed yet: at once
    await runner._consume_partition(kafka, TP, [record(1, checkin(1)), record(2, checkin(2))])
    assert kafka.commits == [{TP: 1}]  # the second ignored batch waits
    clock[0] += consumer_module.IGNORED_COMMIT_SECONDS
    await runner._consume_partition(kafka, TP, [record(3, checkin(3))])
    assert kafka.commits[-1] == {TP: 4}  # a second later it goes with the next batch
    await runner._consume_partition(kafka, TP, [record(4, checkin(4))])
    await runner._consume_partition(kafka, TP, [record(5, flag())])
    assert handled == ["f1"] and kafka.commits[-1] == {TP: 6} and len(kafka.commits) == 3  # worked: at once
