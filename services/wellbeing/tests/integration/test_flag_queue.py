"""The counselling queue: sorted by the database (urgent first, then priority, then oldest) and paged
with a keyset cursor, so no flag is left out however long the queue is."""

from datetime import datetime, timedelta

import pytest

from medsupport_shared.events import utcnow
from medsupport_shared.testing import auth
from wellbeing.domain.flag_rules import SEVERITY_RANK, TOP_PRIORITY, queue_key

pytestmark = pytest.mark.integration
COUNSELLOR = auth("c1", "counsellor")
ITEM9 = [0, 0, 0, 0, 0, 0, 0, 0, 1]
SEVERE = [3, 3, 3, 3, 3, 3, 2, 0, 0]  # PHQ-9 20: elevated at the top priority
MODERATE_GAD7 = [2, 2, 2, 2, 1, 1, 1]


async def checkin(client, student, instrument, answers):
    response = await client.post(
        "/v1/checkins", headers=auth(student, "student"), json={"instrument": instrument, "answers": answers}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def whole_queue(client, *, limit, status="open"):
    items, cursor, pages = [], None, 0
    while True:
        query = f"/v1/flags?status={status}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = await client.get(query, headers=COUNSELLOR)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= limit
        items += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages


def stored_flag(flag_id, student_id, raised_at):
    """An open elevated WHO-5 flag document as the repository stores it."""
    return {
        "_id": flag_id,
        "open_key": student_id,
        "student_id": student_id,
        "status": "open",
        "severity": "elevated",
        "reasons": ["who5_low"],
        "priority": 0,
        "instrument": "who5",
        "raised_at": raised_at,
        "updated_at": raised_at,
        "checkin_ids": [],
        "version": 1,
    }


def queue_order(flag):
    raised_at = datetime.fromisoformat(flag["raised_at"].replace("Z", "+00:00"))
    return (-SEVERITY_RANK[flag["severity"]], -flag["priority"], raised_at, flag["id"])


async def test_urgent_flags_come_first_across_pages_and_none_is_missing(wellbeing):
    client = wellbeing.client
    for n in range(3):
        await checkin(client, f"gad{n}", "gad7", MODERATE_GAD7)
    await checkin(client, "severe", "phq9", SEVERE)
    await checkin(client, "urgent0", "phq9", ITEM9)
    await checkin(client, "gad3", "gad7", MODERATE_GAD7)
    await checkin(client, "urgent1", "phq9", ITEM9)
    # An elevated flag that becomes urgent moves to the front (its severity rose while open).
    await checkin(client, "rises", "gad7", MODERATE_GAD7)
    await checkin(client, "rises", "phq9", ITEM9)

    items, pages = await whole_queue(client, limit=2)
    assert pages == 4
    assert [f["student_id"] for f in items] == [
        "urgent0",
        "urgent1",
        "rises",  # raised last, as elevated; urgent since
        "severe",
        "gad0",
        "gad1",
        "gad2",
        "gad3",
    ]
    assert len({f["id"] for f in items}) == 8 == await wellbeing.repo.flags.count_documents({"status": "open"})
    rises = next(f for f in items if f["student_id"] == "rises")
    assert rises["severity"] == "urgent" and rises["priority"] == TOP_PRIORITY

    # Resolving takes a flag out of the open queue and into the resolved list.
    resolved = await client.post(
        f"/v1/flags/{items[0]['id']}/resolve", headers=COUNSELLOR, json={"outcome": "contacted"}
    )
    assert resolved.status_code == 200
    still_open, _ = await whole_queue(client, limit=3)
    assert [f["id"] for f in still_open] == [f["id"] for f in items[1:]]
    done, _ = await whole_queue(client, limit=3, status="resolved")
    assert [f["id"] for f in done] == [items[0]["id"]]


async def test_an_urgent_flag_is_first_in_a_queue_of_more_than_a_thousand(wellbeing):
    """The queue used to read at most 1000 unsorted open flags and sort them in memory: an urgent flag
    raised after a thousand older elevated ones was missing from every page."""
    older = utcnow() - timedelta(days=30)
    seeded = []
    for n in range(1100):
        raised_at = older + timedelta(minutes=n)
        seeded.append(
            {
                **stored_flag(f"seed-{n:04d}", f"student-{n:04d}", raised_at),
                "cohort": "2027",
                "queue_key": queue_key("elevated", 0, raised_at),
                "outbox": [],
            }
        )
    await wellbeing.repo.flags.insert_many(seeded)
    await checkin(wellbeing.client, "urgent-late", "phq9", ITEM9)

    first = await wellbeing.client.get("/v1/flags?limit=5", headers=COUNSELLOR)
    assert first.status_code == 200, first.text
    assert [f["student_id"] for f in first.json()["items"]] == [
        "urgent-late",
        "student-0000",
        "student-0001",
        "student-0002",
        "student-0003",
    ]
    items, pages = await whole_queue(wellbeing.client, limit=200)
    assert pages == 6 and len(items) == 1101 and len({f["id"] for f in items}) == 1101
    assert items == sorted(items, key=queue_order)


async def test_flags_stored_before_the_queue_key_get_one_at_start(wellbeing):
    """A flag without ``queue_key`` would sort first (a missing field sorts before any string)."""
    raised_at = utcnow() - timedelta(days=1)
    legacy = {**stored_flag("legacy-1", "legacy-student", raised_at), "cohort": None}
    await wellbeing.repo.flags.insert_one(legacy)
    await checkin(wellbeing.client, "newer", "phq9", ITEM9)
    assert await wellbeing.repo.backfill_queue_keys() == 1
    assert await wellbeing.repo.backfill_queue_keys() == 0
    stored = await wellbeing.repo.flags.find_one({"_id": "legacy-1"})
    assert stored["queue_key"] == queue_key("elevated", 0, raised_at)
    queue = (await wellbeing.client.get("/v1/flags", headers=COUNSELLOR)).json()
    assert [f["student_id"] for f in queue["items"]] == ["newer", "legacy-student"]


async def test_a_cursor_that_is_not_ours_is_400(wellbeing):
    response = await wellbeing.client.get("/v1/flags?cursor=not-a-cursor", headers=COUNSELLOR)
    assert response.status_code == 400 and response.headers["content-type"] == "application/problem+json"
