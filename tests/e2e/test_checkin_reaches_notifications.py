"""Wellbeing → Kafka → notifications, each service with its own database, over their public APIs."""

from datetime import timedelta

import pytest
from prometheus_client import REGISTRY

from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth, eventually, running
from notifications.app import create_app as notifications_app
from notifications.settings import NotificationsSettings
from wellbeing.app import create_app as wellbeing_app
from wellbeing.settings import WellbeingSettings

pytestmark = pytest.mark.e2e
ADMIN = auth("admin-1", "admin")
LEAD = auth("lead-1", "wellbeing_lead")  # a health-data role is granted by the wellbeing lead
STUDENT = auth("s-e2e", "student", cohort="2027")


async def test_notifications_keeps_no_checkin_and_an_urgent_one_reaches_the_on_call_counsellor(isolation):
    consumed_before = _checkins_consumed()
    wellbeing = wellbeing_app(isolation.settings(WellbeingSettings))
    notifications = notifications_app(
        isolation.settings(NotificationsSettings, delivery_sweep_interval_seconds=0.2, smtp_port=1)
    )  # no SMTP here: email just retries
    async with running(notifications) as alerts_api, running(wellbeing) as wellbeing_api:
        assert wellbeing.state.runtime.settings.database_name != notifications.state.runtime.settings.database_name
        await alerts_api.put(
            "/v1/staff/c1", json={"roles": ["counsellor"], "email": "c1@med.example.edu"}, headers=LEAD
        )
        now = utcnow()
        await alerts_api.put(
            "/v1/rotas/counselling",
            headers=ADMIN,
            json={
                "lead_id": "c1",
                "shifts": [
                    {
                        "staff_id": "c1",
                        "start": (now - timedelta(hours=1)).isoformat(),
                        "end": (now + timedelta(hours=1)).isoformat(),
                    }
                ],
            },
        )
        await wellbeing_api.put("/v1/me/consent", json={"store_checkins": True}, headers=STUDENT)

        routine = await wellbeing_api.post(
            "/v1/checkins", json={"instrument": "who5", "answers": [4, 4, 4, 4, 4]}, headers=STUDENT
        )
        urgent = await wellbeing_api.post(
            "/v1/checkins",
            headers={**STUDENT, "X-Correlation-ID": "e2e-urgent"},
            json={"instrument": "phq9", "answers": [0, 0, 0, 0, 0, 0, 0, 0, 1]},
        )
        assert routine.status_code == urgent.status_code == 201
        assert urgent.json()["severity"] == "urgent" and urgent.json()["crisis_resources"]

        repo = notifications.state.services.repo
        inbox = await eventually(lambda: _inbox(alerts_api), timeout=30)
        assert inbox[0]["severity"] == "urgent" and inbox[0]["subject_id"] == "s-e2e"
        assert inbox[0]["link"].startswith("/wellbeing/flags/")
        # Redelivery of everything wellbeing published has no second effect.
        for doc in await wellbeing.state.services.repo.checkins.find({}).to_list(None):
            assert doc["outbox"] == []
        await eventually(lambda: _checkins_consumed() >= consumed_before + 2, timeout=30)
        assert await repo.checkins.count_documents({}) == 0  # read, and no check-in severity kept
        assert len(await _inbox(alerts_api)) == 1


async def _inbox(client):
    return (await client.get("/v1/inbox", headers=auth("c1", "counsellor"))).json()["items"]


def _checkins_consumed() -> float:
    return sum(
        sample.value
        for metric in REGISTRY.collect()
        if metric.name == "medsupport_events_consumed"
        for sample in metric.samples
        if sample.name.endswith("_total")
        and sample.labels.get("service") == "notifications"
        and sample.labels.get("type") == "checkin.recorded"
    )
