"""A student's self-referral and a teacher's concern each reach the counsellor through Kafka, are triaged and
closed with the student seeing the stage, and a missed deadline reaches the wellbeing lead."""

import pytest

from medsupport_shared.testing import auth, eventually, running
from notifications.app import create_app as notifications_app
from notifications.settings import NotificationsSettings
from wellbeing.app import create_app as wellbeing_app
from wellbeing.settings import ReferralDeadlineHours, WellbeingSettings

pytestmark = pytest.mark.e2e
COUNSELLOR, LEAD = auth("c1", "counsellor"), auth("lead-1", "wellbeing_lead")
DIRECTORY = auth("lead-0", "wellbeing_lead", "admin")  # granting health-data roles needs the wellbeing lead
STUDENT, TEACHER = auth("s-ref", "student", cohort="2027"), auth("f-ref", "faculty")


async def inbox(client, headers):
    return (await client.get("/v1/inbox", headers=headers)).json()["items"]


async def test_self_referral_and_concern_reach_the_counsellor_are_closed_and_a_missed_deadline_escalates(isolation):
    wellbeing = wellbeing_app(
        isolation.settings(
            WellbeingSettings,
            referral_deadline_hours=ReferralDeadlineHours(whenever=0.5 / 3600),
            referral_sweep_interval_seconds=0.2,
        )
    )
    notifications = notifications_app(
        isolation.settings(NotificationsSettings, delivery_sweep_interval_seconds=0.2, smtp_port=1)
    )
    async with running(notifications) as alerts_api, running(wellbeing) as wellbeing_api:
        for staff_id, role in (("c1", "counsellor"), ("lead-1", "wellbeing_lead"), ("f-ref", "faculty")):
            put = await alerts_api.put(
                f"/v1/staff/{staff_id}",
                json={"roles": [role], "email": f"{staff_id}@med.example.edu"},
                headers=DIRECTORY,
            )
            assert put.status_code == 200, put.text
        asked = await wellbeing_api.post(
            "/v1/me/referrals",
            headers=STUDENT,
            json={"reason": "low_mood", "urgency": "this_week", "contact_method": "email"},
        )
        raised = await wellbeing_api.post(
            "/v1/referrals",
            headers=TEACHER,
            json={"student_id": "s-ref", "category": "wellbeing", "description": "seems withdrawn"},
        )
        late = await wellbeing_api.post(
            "/v1/me/referrals",
            headers=auth("s-late", "student"),
            json={"reason": "sleep", "urgency": "whenever", "contact_method": "phone"},
        )
        assert asked.status_code == raised.status_code == late.status_code == 201

        async def both_referrals_in_the_counsellors_inbox():
            links = {a["link"] for a in await inbox(alerts_api, COUNSELLOR)}
            wanted = {f"/wellbeing/referrals/{r.json()['id']}" for r in (asked, raised)}
            return wanted <= links

        await eventually(both_referrals_in_the_counsellors_inbox, timeout=30)
        assert await inbox(alerts_api, auth("f-ref", "faculty")) == []  # the referrer is told nothing by alert
        notice = await eventually(lambda: inbox(alerts_api, STUDENT), timeout=30)
        assert notice[0]["title"] == wellbeing.state.services.settings.referral_student_message
        missed = await eventually(lambda: inbox(alerts_api, LEAD), timeout=30)
        assert missed[0]["event_type"] == "referral.deadline_missed"
        assert missed[0]["link"] == f"/wellbeing/referrals/{late.json()['id']}"

        for referral in (asked, raised):
            path = f"/v1/referrals/{referral.json()['id']}/triage"
            assert (await wellbeing_api.post(path, headers=COUNSELLOR, json={"status": "accepted"})).status_code == 200
            closed = await wellbeing_api.post(path, headers=COUNSELLOR, json={"status": "closed", "outcome": "seen"})
            assert closed.status_code == 200
        help_now = (await wellbeing_api.get("/v1/me/help", headers=STUDENT)).json()["referrals"]
        assert sorted((r["about_you"], r["state"]) for r in help_now) == [(False, "closed"), (True, "closed")]
        mine = (await wellbeing_api.get("/v1/me/raised-referrals", headers=TEACHER)).json()["items"]
        assert [r["status"] for r in mine] == ["closed"]
