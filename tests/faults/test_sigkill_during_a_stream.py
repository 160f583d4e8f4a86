"""SIGKILL of each part during a stream of check-ins: nothing lost, nothing doubled.

Wellbeing and notifications run as real processes on a Kafka and a MongoDB-protocol server of this
test's own (never the shared ones), and a stream of check-ins (every fourth urgent, one student per
check-in, so each urgent one is a flag and an alert of its own) keeps flowing while, in turn, wellbeing,
notifications, Kafka and the database are killed with SIGKILL and brought back. Afterwards:

- no urgent check-in that reached wellbeing is refused: with the database down it is a 202 whose flag
  is raised all the same;
- every accepted check-in (2xx, ``recorded: true``) is stored exactly once; no student has two; a
  check-in whose request broke or was refused is stored at most once;
- every urgent check-in that was accepted (201, or 202 with the database down), or that got stored,
  has exactly one alert for the on-call counsellor, delivered to their webhook (signed) under one
  delivery id, within 30 s of the recovery that let it through;
- a webhook POST is repeated only for a delivery whose record shows a failed or lost attempt (the
  receiver deduplicates by ``X-Delivery-ID``: at-least-once by design across a kill mid-send).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from datetime import timedelta

import httpx
import pytest
from aiosmtpd.controller import Controller

from medsupport_shared.events import utcnow
from medsupport_shared.mongo import create_client
from medsupport_shared.testing import TopicReader, auth, eventually, free_port, serving
from notifications.settings import NotificationsSettings
from wellbeing.settings import WellbeingSettings

from .stack import SECRET, Sent, Service, WebhookReceiver, post_checkin, settings_env

pytestmark = pytest.mark.e2e
ADMIN = auth("admin-1", "admin")
SETUP = auth("admin-1", "admin", "wellbeing_lead")  # counselling staff need the lead too
INTERVAL = 0.5
RECOVERY_BUDGET = 30.0


async def test_sigkill_of_each_part_during_a_stream_loses_and_doubles_nothing(
    isolation, disposable_infrastructure, tmp_path, mail
):
    infra = disposable_infrastructure
    kafka, mongo = infra.infra.kafka_bootstrap_servers, infra.infra.mongo_url
    common = {
        "kafka_bootstrap_servers": kafka,
        "mongo_url": mongo,
        "outbox_relay_interval_seconds": 0.5,
        "outbox_grace_seconds": 1.0,
        "log_level": "WARNING",
    }
    wellbeing_settings = isolation.settings(
        WellbeingSettings,
        flag_sweep_interval_seconds=0.5,
        flag_sweep_grace_seconds=2.0,
        urgent_spool_dir=str(tmp_path / "urgent-spool"),
        **common,
    )
    notifications_settings = isolation.settings(
        NotificationsSettings,
        webhook_signing_secret=SECRET,
        smtp_host="127.0.0.1",
        smtp_port=mail.port,
        delivery_sweep_interval_seconds=0.2,
        delivery_backoff_base_seconds=0.2,
        delivery_backoff_cap_seconds=2.0,
        delivery_max_attempts=20,
        **common,
    )
    notifications_env = {
        **settings_env(notifications_settings),
        # the receiver is on loopback; the mail catcher speaks plain SMTP (settings that stricter
        # notifications versions know, ignored by those that do not)
        "WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "SMTP_STARTTLS": "false",
    }
    receiver = WebhookReceiver()
    wellbeing = Service("wellbeing", settings_env(wellbeing_settings), tmp_path / "wellbeing.log")
    notifications = Service("notifications", notifications_env, tmp_path / "notifications.log")
    services = [wellbeing, notifications]
    db = create_client(mongo, timeout_ms=5000)
    sent: list[Sent] = []
    recoveries: list[float] = []
    try:
        async with serving(receiver.app) as hook_url, contextlib.AsyncExitStack() as stack:
            for service in services:
                service.start()
            for service in services:
                await eventually(service.ready, timeout=90, interval=0.3, message=f"{service.module} ready")
            await setup_on_call_counsellor(notifications.url, f"{hook_url}/hook")

            students = [f"fs{i:03d}" for i in range(300)]  # more than the stream can use: it runs until told to stop
            async with httpx.AsyncClient(base_url=wellbeing.url, timeout=10) as client:
                for student in students:  # consent to storage, so that every accepted check-in is kept
                    response = await client.put(
                        "/v1/me/consent", json={"store_checkins": True}, headers=auth(student, "student")
                    )
                    assert response.status_code == 200, response.text

            flags_topic = await stack.enter_async_context(
                TopicReader(kafka, isolation.topic("wellbeing.events.v1"))  # for the diagnosis of a late alert
            )
            t0 = time.monotonic()
            stream_done = asyncio.Event()
            requests: list[asyncio.Task[None]] = []

            async def stream() -> None:
                for i, student in enumerate(students):
                    if stream_done.is_set():
                        return
                    sent.append(Sent(student=student, urgent=i % 4 == 0))
                    requests.append(asyncio.create_task(post_checkin(wellbeing.url, sent[-1])))
                    await asyncio.sleep(INTERVAL)

            streaming = asyncio.create_task(stream())

            async def crash_and_restart(service: Service) -> None:
                service.kill()
                await asyncio.sleep(1.5)  # requests meanwhile are refused and tried again
                service.start()
                await eventually(service.ready, timeout=90, interval=0.2, message=f"{service.module} back")
                recoveries.append(time.monotonic())

            wellbeing_db = db[wellbeing_settings.database_name]
            notifications_db = db[notifications_settings.database_name]

            async def owed_alerts_delivered(owed: set[str]) -> bool:
                alerts = await urgent_alerts(notifications_db)
                delivered = {a for a, student in alerts.items() if student in owed} & {
                    r["alert_id"] for r in receiver.received
                }
                return owed <= set(alerts.values()) and len(delivered) >= len(owed)

            async def settled(after: str) -> None:
                """The next fault comes once the last one's effects are over (the stream goes on): every
                urgent check-in accepted (or stored) by now has its alert at the webhook."""
                owed = await urgent_check_ins_owed_an_alert(sent, wellbeing_db)
                try:
                    await eventually(
                        lambda: owed_alerts_delivered(owed),
                        timeout=RECOVERY_BUDGET + 15,
                        interval=0.5,
                        message=f"every urgent check-in's alert at the webhook after {after}",
                    )
                except AssertionError:
                    alerts = await urgent_alerts(notifications_db)
                    delivered = {r["alert_id"] for r in receiver.received}
                    print(f"no alert for {sorted(owed - set(alerts.values()))}")
                    print(f"alert not at the webhook: {sorted(alerts[a] for a in set(alerts) - delivered)}")
                    print(
                        f"answered at: { {s.student: round((s.at or t0) - t0, 1) for s in sent if s.student in owed} }"
                    )
                    raise

            await asyncio.sleep(4)
            await crash_and_restart(wellbeing)
            await settled("wellbeing's restart")
            await crash_and_restart(notifications)
            await settled("notifications' restart")
            await infra.kill("kafka")
            await asyncio.sleep(2)
            await infra.start("kafka")
            recoveries.append(time.monotonic())
            await settled("Kafka's restart")
            await infra.kill("mongo")
            await asyncio.sleep(8)  # longer than a request waits for the server: routine 503, urgent 202 + flag
            await infra.start("mongo")
            recoveries.append(time.monotonic())
            await asyncio.sleep(2)
            stream_done.set()
            await streaming
            await asyncio.gather(*requests)
            last_recovery = recoveries[-1]
            urgent_due = await urgent_check_ins_owed_an_alert(sent, wellbeing_db)
            await settled("the database's restart")
            await asyncio.sleep(3)  # anything doubled would have arrived by now

            # ---- an urgent check-in that reached wellbeing is never refused (database down: 202 and its flag)
            refused = [(s.student, s.status) for s in sent if s.urgent and s.outcome == "refused"]
            assert not refused, f"urgent check-ins refused: {refused}"

            # ---- check-ins: every accepted one stored exactly once, nothing doubled
            stored = Counter(
                d["student_id"] for d in await wellbeing_db.checkins.find({}, {"student_id": 1}).to_list(None)
            )
            assert max(stored.values()) == 1, "no check-in stored twice"
            for s in sent:
                if s.outcome == "accepted" and s.recorded:
                    assert stored[s.student] == 1, f"accepted check-in of {s.student} not stored"
            assert set(stored) <= {s.student for s in sent}

            # ---- urgent alerts: one per urgent check-in owed one, at the webhook once, in time
            alerts = await urgent_alerts(notifications_db)
            per_student = Counter(alerts.values())
            assert set(per_student) == urgent_due and set(per_student.values()) == {1}, per_student
            deliveries = await notifications_db.deliveries.find({"channel": "webhook"}).to_list(None)
            assert sorted(d["alert_id"] for d in deliveries if d["alert_id"] in alerts) == sorted(alerts)
            assert all(r["signed"] for r in receiver.received)
            posts = Counter((r["alert_id"], r["delivery_id"]) for r in receiver.received if r["alert_id"] in alerts)
            assert {alert for alert, _ in posts} == set(alerts) and len(posts) == len(alerts), "one delivery id each"
            retried = {d["_id"] for d in deliveries if any(a["outcome"] == "failed" for a in d["attempts"])}
            doubled = {delivery for (_, delivery), n in posts.items() if n > 1}
            assert doubled <= retried | leased_again(deliveries), f"POSTed twice without a failed attempt: {doubled}"
            first_arrival = {}
            for r in receiver.received:
                first_arrival.setdefault(r["alert_id"], r["at"])
            accepted_at = {s.student: s.at for s in sent if s.at is not None}
            for alert_id, student in alerts.items():
                arrived = first_arrival[alert_id]
                start = max([accepted_at.get(student) or 0.0, *[r for r in recoveries if r <= arrived]])
                late = arrived - start
                if late > RECOVERY_BUDGET:
                    alert = await notifications_db.alerts.find_one({"_id": alert_id})
                    raised = [
                        (r.timestamp, json.loads(r.value)["id"])
                        for r in flags_topic.records
                        if b"flag.raised" in r.value and json.loads(r.value)["data"]["student_id"] == student
                    ]
                    print(f"flag.raised records (ms, id): {raised}; alert created {alert['created_at']}")
                assert late <= RECOVERY_BUDGET, diagnosis(student, alert_id, late, sent, recoveries, deliveries, t0)
            assert max(first_arrival.values()) - last_recovery <= RECOVERY_BUDGET

            outcomes = Counter((s.urgent, s.outcome, s.status) for s in sent)
            print(
                f"check-ins {len(sent)}, urgent alerts {len(alerts)}, outcomes {dict(outcomes)}, "
                f"recoveries at {[round(r - t0, 1) for r in recoveries]}s"
            )
            assert sum(1 for s in sent if s.outcome == "accepted") >= len(sent) * 0.8, outcomes
    except BaseException:
        for service in services:
            print(service.tail())
        raise
    finally:
        for service in services:
            service.kill()
        await db.close()


class _Accept:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


@pytest.fixture
def mail():
    """An SMTP server that accepts every message (the e-mail channel is not what is measured here)."""
    controller = Controller(_Accept(), hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller
    controller.stop()


async def setup_on_call_counsellor(url: str, hook: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        for staff_id, body in {
            "c1": {"roles": ["counsellor"], "email": "c1@med.example.edu", "webhook_url": hook},
            "lead-1": {"roles": ["wellbeing_lead"], "email": "lead@med.example.edu"},
            "admin-1": {"roles": ["admin"], "email": "admin@med.example.edu"},
        }.items():
            response = await client.put(f"/v1/staff/{staff_id}", json=body, headers=SETUP)
            assert response.status_code == 200, response.text
        now = utcnow()
        shift = {
            "staff_id": "c1",
            "start": (now - timedelta(hours=1)).isoformat(),
            "end": (now + timedelta(hours=2)).isoformat(),
        }
        response = await client.put(
            "/v1/rotas/counselling", json={"lead_id": "lead-1", "shifts": [shift]}, headers=ADMIN
        )
        assert response.status_code == 200 and response.json()["on_call_now"] == "c1", response.text


async def urgent_check_ins_owed_an_alert(sent: list[Sent], wellbeing_db) -> set[str]:
    """Students whose urgent check-in was accepted, or stored even though its reply was lost: each is
    owed exactly one alert (one that was neither may have one, never two)."""
    stored = {d["student_id"] for d in await wellbeing_db.checkins.find({}, {"student_id": 1}).to_list(None)}
    return {s.student for s in sent if s.urgent and (s.outcome == "accepted" or s.student in stored)}


async def urgent_alerts(notifications_db) -> dict[str, str]:
    """The on-call counsellor's urgent alerts: alert id → the student it is about."""
    found = await notifications_db.alerts.find({"recipient_id": "c1", "severity": "urgent"}, {"subject_id": 1}).to_list(
        None
    )
    return {a["_id"]: a["subject_id"] for a in found}


def leased_again(deliveries: list[dict]) -> set[str]:
    """Deliveries taken over after their worker died mid-send (the attempt shows as lost)."""
    return {d["_id"] for d in deliveries if d.get("attempt_count", 0) > 1}


def diagnosis(student, alert_id, late, sent, recoveries, deliveries, t0) -> str:
    [check_in] = [s for s in sent if s.student == student]
    [delivery] = [d for d in deliveries if d["alert_id"] == alert_id]
    return (
        f"{student}'s alert reached the webhook {late:.1f}s after its check-in or the last recovery; "
        f"check-in {check_in.outcome} {check_in.status} at {(check_in.at or t0) - t0:.1f}s, recoveries at "
        f"{[round(r - t0, 1) for r in recoveries]}s; delivery attempts {delivery['attempts']}, "
        f"created {delivery['created_at']}"
    )
