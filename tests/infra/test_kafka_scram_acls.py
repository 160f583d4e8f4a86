"""A real SCRAM-SHA-512 broker with the ACLs of deploy/kafka/kafka_acls.py: started by the test from the Kafka
jars the project caches, on its own ports, and stopped by pid. A service logs in as itself and writes its own
topic; another service cannot write it, and a client without (or with wrong) credentials gets nothing."""

from __future__ import annotations

import asyncio
import os
import runpy
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from medsupport_shared.event_types import WELLBEING_TOPIC, FlagResolved, owner_source
from medsupport_shared.events import new_event
from medsupport_shared.kafka import EventPublisher, PublishFailed, ensure_topics, kafka_answers
from medsupport_shared.kafka_security import KafkaSecurity
from medsupport_shared.testing import TopicReader, eventually, free_port
from medsupport_shared.testing.local_scripts import local_module

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
ACLS = runpy.run_path(str(REPO / "deploy" / "kafka" / "kafka_acls.py"), run_name="kafka_acls")
ADMIN_PASSWORD = "admin-" + uuid.uuid4().hex
PASSWORDS = {service: f"{service}-{uuid.uuid4().hex}" for service in ACLS["SERVICES"]}


def _jars() -> Path:
    return Path(local_module("infra").kafka_jars())


def _java(lib: Path, *args: str) -> list[str]:
    return ["java", "-Xmx256m", "-cp", f"{lib}/*", *args]


def _start_broker(lib: Path, props: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            _java(lib, "kafka.Kafka", str(props)), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


@pytest.fixture(scope="module")
async def scram_broker(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    state = tmp_path_factory.mktemp("scram-kafka")
    lib = _jars()
    port, controller = free_port(), free_port()
    props = state / "server.properties"
    props.write_text(
        ACLS["server_properties"](
            data_dir=str(state / "data"),
            internal=f"127.0.0.1:{port}",
            advertised_internal=f"127.0.0.1:{port}",
            controller_port=controller,
            admin_password=ADMIN_PASSWORD,
        )
    )
    scram = [f"--add-scram=SCRAM-SHA-512=[name=admin,password={ADMIN_PASSWORD}]"]
    scram += [f"--add-scram=SCRAM-SHA-512=[name={s},password={p}]" for s, p in PASSWORDS.items()]
    cluster = uuid.uuid4().hex[:22]
    await asyncio.to_thread(
        subprocess.run,
        _java(lib, "kafka.tools.StorageTool", "format", "-t", cluster, "-c", str(props), *scram),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    broker = await asyncio.to_thread(_start_broker, lib, props, state / "kafka.log")
    bootstrap = f"127.0.0.1:{port}"
    try:
        await eventually(lambda: kafka_answers(bootstrap), timeout=90, interval=0.5, message="SCRAM broker answers")
        admin = state / "admin.properties"
        admin.write_text(
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\n"
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
            f'username="admin" password="{ADMIN_PASSWORD}";\n'
        )
        commands = [
            _java(lib, "kafka.admin.AclCommand", "--bootstrap-server", bootstrap, "--command-config", str(admin), *args)
            for service in PASSWORDS
            for args in ACLS["acl_arguments"](service)
        ]
        for batch in (commands[i : i + 4] for i in range(0, len(commands), 4)):  # a few JVMs at a time
            await asyncio.gather(
                *(asyncio.to_thread(subprocess.run, c, check=True, stdout=subprocess.DEVNULL) for c in batch)
            )
        yield bootstrap
    finally:
        os.killpg(broker.pid, signal.SIGKILL)  # only the broker this test started
        broker.wait()


def login(service: str, password: str | None = None) -> KafkaSecurity:
    return KafkaSecurity(protocol="SASL_PLAINTEXT", username=service, password=password or PASSWORDS[service])


def resolved(flag: str):
    data = FlagResolved(flag_id=flag, student_id="s1", resolved_at=datetime.now(UTC))
    return new_event(data, source=owner_source(data.event_type))


async def test_each_service_writes_only_its_own_topic_and_strangers_get_nothing(scram_broker: str) -> None:
    await ensure_topics(bootstrap_servers=scram_broker, topics=[WELLBEING_TOPIC], security=login("wellbeing"))
    wellbeing = EventPublisher(
        bootstrap_servers=scram_broker, topic_prefix="", service="wellbeing", security=login("wellbeing")
    )
    genuine = resolved("f-genuine")
    await wellbeing.publish(genuine)
    await wellbeing.stop()

    mentorship = EventPublisher(
        bootstrap_servers=scram_broker,
        topic_prefix="",
        service="mentorship",
        security=login("mentorship"),
        send_timeout=5,
    )
    with pytest.raises(PublishFailed, match="TopicAuthorization"):
        await mentorship.publish(resolved("f-forged"))  # flag.resolved closes an urgent alert: only wellbeing may
    await mentorship.stop()

    for security in (KafkaSecurity(), login("wellbeing", password="not-the-password")):
        stranger = AIOKafkaProducer(
            bootstrap_servers=scram_broker, request_timeout_ms=5000, **security.client_options()
        )
        with pytest.raises((KafkaError, OSError)):
            await asyncio.wait_for(stranger.start(), 8)
            await stranger.send_and_wait(WELLBEING_TOPIC, b"{}")
        await stranger.stop()

    async with TopicReader(scram_broker, WELLBEING_TOPIC, security=login("notifications")) as reader:  # a consumer
        events = await reader.wait_for(lambda e: True)
    assert [e.id for e in events] == [genuine.id]
