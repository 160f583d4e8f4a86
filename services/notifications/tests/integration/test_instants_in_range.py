"""Rota times and the on-call time are instants within years 1900-2999: an extreme offset or year is a
422 naming the field (each was a 500 found by the fuzz test: converting it to UTC overflowed)."""

import pytest

from medsupport_shared.testing import auth, running

from .conftest import ADMIN

pytestmark = pytest.mark.integration
LEAD = auth("lead-1", "wellbeing_lead")  # counselling staff are registered by the wellbeing lead
FAR = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59Z"]


async def test_rota_and_on_call_times_outside_the_calendar_are_422(stack):
    async with running(stack.app()) as client:
        staff = await client.put(
            "/v1/staff/c1", json={"roles": ["counsellor"], "email": "c1@med.example.edu"}, headers=LEAD
        )
        assert staff.is_success, staff.text
        ok = {"staff_id": "c1", "start": "2026-12-01T08:00:00Z", "end": "2026-12-01T20:00:00Z"}
        first = await client.put("/v1/rotas/counselling", json={"lead_id": "c1", "shifts": [ok]}, headers=ADMIN)
        assert first.is_success, first.text
        for instant in FAR:
            shift = {**ok, "start": instant, "end": "2026-12-01T20:00:00Z"}
            rota = await client.put(
                "/v1/rotas/counselling", json={"lead_id": "c1", "overrides": [shift]}, headers=ADMIN
            )
            assert rota.status_code == 422, (instant, rota.text)
            assert rota.headers["content-type"] == "application/problem+json"
            on_call = await client.get("/v1/rotas/counselling/on-call", params={"at": instant}, headers=ADMIN)
            assert on_call.status_code == 422 and on_call.json()["errors"][0]["loc"] == ["query", "at"], on_call.text
        at = await client.get("/v1/rotas/counselling/on-call", params={"at": "2026-12-01T09:00:00"}, headers=ADMIN)
        assert at.json() == {"team": "counselling", "at": "2026-12-01T09:00:00Z", "staff_id": "c1"}  # naive is UTC
