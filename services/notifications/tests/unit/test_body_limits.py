"""A rota of the largest allowed size (2000 shifts) passes the request body cap; far more does not."""

import json

import httpx

from notifications.app import create_app


def _rota(shifts: int) -> bytes:
    shift = {
        "staff_id": "counsellor-" + "x" * 40,
        "start": "2027-01-04T09:00:00+00:00",
        "end": "2027-01-04T17:00:00+00:00",
    }
    return json.dumps({"shifts": [shift] * shifts}).encode()


async def test_the_largest_rota_passes_the_cap_and_more_does_not():
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        headers = {"Content-Type": "application/json"}
        assert (await client.put("/v1/rotas/counselling", content=_rota(2000), headers=headers)).status_code != 413
        assert (await client.put("/v1/rotas/counselling", content=_rota(6000), headers=headers)).status_code == 413
        assert (await client.put("/v1/routes/x", content=_rota(1000), headers=headers)).status_code == 413
