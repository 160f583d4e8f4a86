"""Scale-out proof: two notifications processes in one consumer group share the partitions; SIGKILL one
mid-stream and the survivor takes its partitions over, and every flag still makes exactly one alert.

Webhooks are at-least-once by design (a worker killed between the POST and recording the outcome
leaves a lease the survivor's sweep retries, with the same ``X-Delivery-ID``/``delivery_id``), so a
receiver deduplicates by delivery id. Asserted: one webhook delivery id per alert, each received at
least once, and a repeated POST only for a delivery whose record shows a failed/lost attempt."""

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment
from pydantic import SecretStr

from medsupport_shared.event_types import WELLBEING_TOPIC
from medsupport_shared.mongo import create_client
from medsupport_shared.testing import TopicReader, auth, eventually, free_port

pytestmark = pytest.mark.integration
N, KILL_AFTER = 60, 20
C1 = auth("c1", "counsellor")


def service_env(settings) -> dict[str, str]:
    env = dict(os.environ)
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is not None:
            env[name.upper()] = value if isinstance(value, str) else json.dumps(value)
    return env


def start_instance(env, log_path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    argv = [sys.executable, "-m", "uvicorn", "notifications.app:create_app", "--factory"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*argv, "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    return process, f"http://127.0.0.1:{port}"


async def ready(url: str) -> bool:
    try:
        async with httpx.AsyncClient() as client:
            return (await client.get(f"{url}/readyz", timeout=2)).status_code == 200
    except httpx.HTTPError:
        return False


async def members(admin: AIOKafkaAdminClient, group: str, topic: str, count: int) -> dict[str, set[int]] | None:
    """Each member's partitions of ``topic``, once the group is stable with ``count`` members all owning some."""
    [response] = await admin.describe_consumer_groups([group])
    [described] = response.to_object()["groups"]
    owned = {
        m["member_id"]: {
            p
            for t, parts in ConsumerProtocolMemberAssignment.decode(m["member_assignment"]).assignment
            if t == topic
            for p in parts
        }
        for m in described["members"]
        if m["member_assignment"]
    }
    settled = described["state"] == "Stable" and len(owned) == count and all(owned.values())
    return owned if settled else None


async def test_two_instances_share_partitions_and_a_killed_one_loses_no_alert(stack, tmp_path):
    settings, topic = stack.settings, stack.isolation.topic(WELLBEING_TOPIC)
    env = service_env(settings)
    logs = [tmp_path / "instance-a.log", tmp_path / "instance-b.log"]
    instances = [start_instance(env, path) for path in logs]
    (victim, _), (survivor, url) = instances
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    mongo = create_client(settings.mongo_url)
    await admin.start()
    try:
        for _, instance_url in instances:
            await eventually(lambda u=instance_url: ready(u), timeout=90, interval=0.5, message=f"{instance_url} ready")
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            await stack.setup_staff(client)
            group = settings.consumer_group
            before = await eventually(
                lambda: members(admin, group, topic, 2), timeout=90, interval=0.5, message="both instances in the group"
            )
            assert set().union(*before.values()) == {0, 1, 2}, "the two instances share the flags topic"
            async with TopicReader(settings.kafka_bootstrap_servers, topic) as flags_topic:
                flags = [f"scale-f{i}" for i in range(N)]
                for i, flag_id in enumerate(flags):
                    if i == KILL_AFTER:
                        victim.send_signal(signal.SIGKILL)  # no graceful shutdown, no final commit
                        victim.wait(timeout=10)
                    await stack.flag(student=f"scale-s{i}", flag_id=flag_id)
                    await asyncio.sleep(0.15)
                await eventually(lambda: len(flags_topic.records) >= N, timeout=30, message="flags on the topic")
                late = set(flags[KILL_AFTER:])
                after_kill = {
                    r.partition for r in flags_topic.records if json.loads(r.value)["data"]["flag_id"] in late
                }
            assert after_kill == {0, 1, 2}, "flags after the kill landed on every partition, the victim's included"

            after = await eventually(
                lambda: members(admin, group, topic, 1), timeout=120, interval=0.5, message="the survivor alone"
            )
            assert list(after.values()) == [{0, 1, 2}] and survivor.poll() is None
            assert next(iter(after)) in before, "the survivor kept its membership and took the victim's partitions"

            async def c1_alerts():
                items = (await client.get("/v1/inbox", params={"limit": 200}, headers=C1)).json()["items"]
                return items if len(items) >= N else None

            await eventually(c1_alerts, timeout=120, interval=0.5, message=f"{N} alerts")
            db = mongo[settings.database_name]

            async def webhooks_done():
                docs = await db.deliveries.find({"channel": "webhook"}).to_list(None)
                done = len(docs) >= N and all(d["status"] == "delivered" for d in docs)
                return docs if done else None

            # A delivery caught mid-send by the SIGKILL is retried when its 60 s lease expires.
            await eventually(webhooks_done, timeout=150, interval=0.5, message="webhooks delivered")
            await asyncio.sleep(2)  # anything doubled would have arrived by now
            alerts = await c1_alerts()
            deliveries = await db.deliveries.find({"channel": "webhook"}).to_list(None)

        per_flag = Counter(a["link"].rsplit("/", 1)[-1] for a in alerts)
        assert per_flag == dict.fromkeys(flags, 1), "each flag made exactly one alert"
        alert_ids = {a["id"] for a in alerts}
        assert len(alert_ids) == N and {a["subject_id"] for a in alerts} == {f"scale-s{i}" for i in range(N)}
        assert sorted(d["alert_id"] for d in deliveries) == sorted(alert_ids), "one webhook delivery per alert"

        posts = Counter((p["alert_id"], p["delivery_id"]) for name, p, signed in stack.webhooks.received if signed)
        assert posts.total() == len(stack.webhooks.received), "every webhook was signed"
        assert set(posts) == {(d["alert_id"], d["_id"]) for d in deliveries}, "each alert reached the webhook"
        retried = {d["_id"] for d in deliveries if any(a["outcome"] == "failed" for a in d["attempts"])}
        doubled = {delivery_id for (_, delivery_id), n in posts.items() if n > 1}
        assert doubled <= retried, f"webhook POSTed twice without a failed attempt: {doubled - retried}"
    except BaseException:
        for path in logs:
            print(f"--- {path.name} (tail)\n" + "\n".join(path.read_text(errors="replace").splitlines()[-25:]))
        raise
    finally:
        for process, _ in instances:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)
        await admin.close()
        await mongo.close()
