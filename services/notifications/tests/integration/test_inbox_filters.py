"""The inbox filters what needs a human now (open, urgent) from newer routine alerts."""

import pytest

from medsupport_shared.testing import auth, eventually, running

from .conftest import wait_for_consumer

pytestmark = pytest.mark.integration


async def test_the_inbox_lists_open_urgent_alerts_apart_from_newer_routine_ones(stack):
    app = stack.app()
    async with running(app) as client:
        await stack.setup_staff(client)
        await wait_for_consumer(app)
        await stack.flag(student="s1", severity="urgent", flag_id="f1")
        c1 = auth("c1", "counsellor")
        await eventually(lambda: _inbox(client, c1, {}), timeout=30)
        await stack.flag(student="s2", severity="elevated", flag_id="f2")  # newer, routine
        everything = await eventually(lambda: _inbox(client, c1, {}, size=2), timeout=30)
        assert [a["subject_id"] for a in everything] == ["s2", "s1"]  # newest first
        urgent = await _inbox(client, c1, {"status": "open", "urgent": "true"})
        assert [a["subject_id"] for a in urgent] == ["s1"]
        routine = await _inbox(client, c1, {"urgent": "false"})
        assert [a["subject_id"] for a in routine] == ["s2"]


async def _inbox(client, headers, params, size=None):
    items = (await client.get("/v1/inbox", params=params, headers=headers)).json()["items"]
    return items if size is None or len(items) == size else None
