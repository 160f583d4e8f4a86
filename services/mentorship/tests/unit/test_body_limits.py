"""Peer-group matching with the largest allowed list (500 student ids) passes the request body cap."""

import json

import httpx

from mentorship.app import create_app


def _matching(ids: int) -> bytes:
    return json.dumps({"cohort": "2027", "student_ids": [f"student-{i:06d}-" + "x" * 180 for i in range(ids)]}).encode()


async def test_the_largest_matching_request_passes_the_cap_and_more_does_not():
    app = create_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        headers = {"Content-Type": "application/json"}
        assert (
            await client.post("/v1/peer-groups/matching", content=_matching(500), headers=headers)
        ).status_code != 413
        assert (
            await client.post("/v1/peer-groups/matching", content=_matching(2000), headers=headers)
        ).status_code == 413
        assert (await client.post("/v1/peer-groups", content=_matching(500), headers=headers)).status_code == 413
