"""The request body cap leaves room for the longest valid body of each route (JSON-escaped non-ASCII text
takes 6 bytes a character), and stays small elsewhere."""

import json

import httpx
import pytest

from feedback.app import create_app
from feedback.climate_schemas import MAX_ROSTER
from feedback.domain import concerns, feedback


def _escaped(chars: int) -> bytes:
    return json.dumps({"text": "é" * chars}).encode()  # ensure_ascii: \u00e9, the worst case per character


@pytest.mark.parametrize(
    ("path", "chars"),
    [
        ("/v1/feedback", 3 * feedback.MAX_FIELD_CHARS + feedback.MAX_FREE_TEXT_CHARS + 4 * feedback.MAX_LABEL_CHARS),
        ("/v1/reflections", feedback.MAX_REFLECTION_CHARS + feedback.MAX_LABEL_CHARS),
        (
            "/v1/concerns",
            concerns.MAX_DESCRIPTION_CHARS + concerns.MAX_WHERE_CHARS + concerns.MAX_PEOPLE_CHARS + 1000,
        ),
        ("/v1/climate/instruments/x", 60 * 1000 + 10 * 11 * 200 + 20 * 200 + 4000),  # items, options, subscales
        ("/v1/rotations/x", (MAX_ROSTER * 200 + 1000) // 6),  # ids are ASCII: one byte each
    ],
)
async def test_the_longest_valid_body_passes_the_cap_and_more_does_not(path, chars):
    app = create_app()
    # No lifespan: a body that passes the cap reaches a route without its services (anything but a 413 will do).
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        headers = {"Content-Type": "application/json"}
        longest = await client.post(path, content=_escaped(chars), headers=headers)
        assert longest.status_code != 413
        huge = await client.post(path, content=_escaped(200_000), headers=headers)
        assert huge.status_code == 413
        elsewhere = await client.post("/v1/other", content=_escaped(20_000), headers=headers)
        assert elsewhere.status_code == 413  # the 64 KiB default everywhere else
