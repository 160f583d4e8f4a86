"""Default rules as data: discrimination and bias reports reach the equity office, professionalism its
lead; a climate alert reaches the clerkship director its rotations name; a rotation's invitation its student."""

import pytest

from medsupport_shared.event_types import ClimateAlertRaised, ClimateInvited, ConcernRaised
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.testing import auth, eventually, running

from .conftest import ADMIN, wait_for_consumer

pytestmark = pytest.mark.integration


async def inbox(client, who, *roles):
    return (await client.get("/v1/inbox", headers=auth(who, *roles))).json()["items"]


async def test_concerns_by_category_and_climate_alerts_reach_their_people(stack):
    app = stack.app()
    async with running(app) as client:
        staff = {
            "officer": "concerns_officer",
            "eq": "equity",
            "prof": "professionalism_lead",
            "d1": "clerkship_director",
            "d2": "clerkship_director",
        }
        for staff_id, role in staff.items():
            body = {"roles": [role], "email": f"{staff_id}@med.example.edu"}
            assert (await client.put(f"/v1/staff/{staff_id}", json=body, headers=ADMIN)).status_code == 200
        await wait_for_consumer(app)
        now = utcnow()
        for n, category in enumerate(("bias", "professionalism", "mistreatment")):
            raised = ConcernRaised(concern_id=f"c{n}", category=category, anonymous=True, reported_at=now)
            await stack.publisher.publish(new_event(raised, source="/services/feedback"))
        alert = ClimateAlertRaised(
            alert_id="a1",
            site="north",
            reason="climate_drop",
            period="2026-b2",
            subscales=["workload"],
            director_id="d1",
            raised_at=now,
        )
        await stack.publisher.publish(new_event(alert, source="/services/feedback"))
        invited = ClimateInvited(rotation_id="rot-1", student_id="s1", closes_at=now, invited_at=now)
        await stack.publisher.publish(new_event(invited, source="/services/feedback"))

        officer = await eventually(lambda: _count(client, "officer", "concerns_officer", 3), timeout=30)
        assert sorted(a["subject_id"] for a in officer) == ["c0", "c1", "c2"]
        # the category's office hears of the report, without whom it is about (only officers see that)
        (equity,) = await eventually(lambda: inbox(client, "eq", "equity"), timeout=30)
        assert equity["title"] == "New concern report (bias)" and equity["subject_id"] != "c0"
        (lead,) = await eventually(lambda: inbox(client, "prof", "professionalism_lead"), timeout=30)
        assert lead["title"] == "New concern report (professionalism)"
        # the role's rule reaches d1 before d2: once d2 has the alert, both rules have reached d1
        await eventually(lambda: inbox(client, "d2", "clerkship_director"), timeout=30)
        director = await inbox(client, "d1", "clerkship_director")
        assert len(director) == 1 and director[0]["subject_id"] == "north"  # one alert from both rules
        assert "workload" not in director[0]["title"]
        (student,) = await eventually(lambda: inbox(client, "s1", "student"), timeout=30)
        assert student["link"].endswith("/feedback/rotations/rot-1/climate")


async def _count(client, who, role, n):
    items = await inbox(client, who, role)
    return items if len(items) >= n else None
