"""Nobody can take the last counsellor or wellbeing lead off the directory: urgent flags would then reach only
the settings' last-resort contact, and only a wellbeing lead could grant the roles back."""

import pytest

from medsupport_shared.testing import auth, running

from .conftest import ADMIN, DIRECTORY, LEAD

pytestmark = pytest.mark.integration
PROBLEM = "application/problem+json"


def entry(*roles, email="x@med.example.edu"):
    return {"roles": list(roles), "email": email}


async def _roles(client, staff_id):
    return (await client.get(f"/v1/staff/{staff_id}", headers=ADMIN)).json()["roles"]


async def test_the_last_counsellor_and_the_last_lead_cannot_be_demoted_one_by_one(stack):
    async with running(stack.app()) as client:
        await stack.setup_staff(client)  # counsellors c1, c2; wellbeing lead lead-1; admin admin-1
        demote = await client.put("/v1/staff/c1", json=entry("ops"), headers=ADMIN)
        assert demote.status_code == 403 and demote.headers["content-type"].startswith(PROBLEM)
        assert (await client.put("/v1/staff/c1", json=entry("ops"), headers=DIRECTORY)).status_code == 200

        last = await client.put("/v1/staff/c2", json=entry("ops"), headers=DIRECTORY)
        assert last.status_code == 409 and last.headers["content-type"].startswith(PROBLEM)
        assert "no member of staff holding 'counsellor'" in last.json()["detail"]
        assert await _roles(client, "c2") == ["counsellor"]

        lead_gone = await client.put("/v1/staff/lead-1", json=entry("counsellor"), headers=LEAD)
        assert lead_gone.status_code == 409 and "'wellbeing_lead'" in lead_gone.json()["detail"]
        assert await _roles(client, "lead-1") == ["wellbeing_lead"]

        # handing over first works: a second lead, then the first steps down
        assert (await client.put("/v1/staff/lead-2", json=entry("wellbeing_lead"), headers=LEAD)).status_code == 200
        assert (await client.put("/v1/staff/lead-1", json=entry("counsellor"), headers=LEAD)).status_code == 200
        assert (await client.put("/v1/staff/c2", json=entry("ops"), headers=DIRECTORY)).status_code == 200
        assert await _roles(client, "lead-1") == ["counsellor"]


async def test_a_bulk_import_cannot_demote_every_counsellor_and_lead(stack):
    async with running(stack.app()) as client:
        await stack.setup_staff(client)
        everyone_ops = {
            "items": [{"id": s, **entry("ops", email=f"{s}@med.example.edu")} for s in ("c1", "c2", "lead-1")]
        }
        assert (await client.put("/v1/staff", json=everyone_ops, headers=ADMIN)).status_code == 403
        for dry_run in ("true", "false"):
            refused = await client.put(f"/v1/staff?dry_run={dry_run}", json=everyone_ops, headers=DIRECTORY)
            assert refused.status_code == 409 and refused.headers["content-type"].startswith(PROBLEM)
            assert {e["msg"] for e in refused.json()["errors"]} == {
                "this would leave no member of staff holding 'counsellor'; grant it to someone else first",
                "this would leave no member of staff holding 'wellbeing_lead'; grant it to someone else first",
            }
        assert [await _roles(client, s) for s in ("c1", "c2", "lead-1")] == [
            ["counsellor"],
            ["counsellor"],
            ["wellbeing_lead"],
        ]
        grants = (await client.get("/v1/role-grants", headers=auth("lead-1", "wellbeing_lead"))).json()["items"]
        assert all(g["revoked"] == [] for g in grants)  # nothing refused was recorded as done
