"""The flag methods of the repository answer the same on MongoDB and in the in-memory fake the unit tests use:
one open flag per student, optimistic concurrency on ``version``, entries kept in the flag's outbox."""

from datetime import UTC, datetime, timedelta

import pytest

from medsupport_shared.mongo import create_client
from wellbeing.domain.flag_rules import Assessment
from wellbeing.domain.flags import WorryingCheckin, merged_flag, raised_flag, resolved_flag
from wellbeing.repository import WellbeingRepository
from wellbeing.settings import WellbeingSettings

from ..unit.fakes import FakeWellbeingRepository

pytestmark = pytest.mark.integration
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ELEVATED = Assessment(severity="elevated", reasons=("phq9_moderate",), priority=0)
URGENT = Assessment(severity="urgent", reasons=("phq9_item9_positive",), priority=10)


@pytest.fixture(params=["mongodb", "fake"])
async def repo(request, isolation):
    if request.param == "fake":
        yield FakeWellbeingRepository()
        return
    settings = isolation.settings(WellbeingSettings)
    client = create_client(settings.mongo_url)
    try:
        real = WellbeingRepository(client[settings.mongo_db])
        await real.ensure_indexes()
        yield real
    finally:
        await client.close()


async def outbox_ids(repo, flag_id):
    doc = (
        repo.flags[flag_id]
        if isinstance(repo, FakeWellbeingRepository)
        else await repo.flags.find_one({"_id": flag_id})
    )
    return [e["id"] for e in doc.get("outbox", [])]


def worrying(checkin_id, assessment=ELEVATED, student_id="s1"):
    return WorryingCheckin(
        checkin_id=checkin_id, student_id=student_id, cohort="2027", instrument="phq9", assessment=assessment
    )


def raised(checkin_id, assessment=ELEVATED, student_id="s1"):
    return raised_flag(worrying(checkin_id, assessment, student_id), at=T0)


async def test_one_open_flag_per_student_read_back_as_written(repo):
    flag = raised("c1")
    assert await repo.insert_flag(flag=flag, entries=[{"id": "e1"}])
    assert not await repo.insert_flag(flag=raised("c2"), entries=[{"id": "e2"}]), "a second open flag is refused"
    assert not await repo.insert_flag(flag=flag, entries=[{"id": "e3"}]), "the same flag twice is refused"
    assert await repo.insert_flag(flag=raised("c3", student_id="s2"), entries=[])
    assert await repo.open_flag(student_id="s1") == flag == await repo.flag(flag_id=flag.id)
    assert await repo.flag(flag_id="missing") is None and await repo.open_flag(student_id="s9") is None
    assert await outbox_ids(repo, flag.id) == ["e1"]


async def test_an_update_applies_only_to_the_version_read(repo):
    flag = raised("c1")
    await repo.insert_flag(flag=flag, entries=[])
    after = merged_flag(flag, worrying("c2", URGENT), at=T0 + timedelta(minutes=5))
    assert await repo.update_open_flag(before=flag, after=after, checkin_id="c2", entries=[{"id": "e2"}])
    assert not await repo.update_open_flag(before=flag, after=after, checkin_id="c3", entries=[{"id": "e3"}])
    stored = await repo.open_flag(student_id="s1")
    assert stored == after and stored.version == 2 and stored.checkin_ids == ("c1", "c2")
    assert stored.reasons == ("phq9_moderate", "phq9_item9_positive") and stored.severity == "urgent"
    assert await outbox_ids(repo, flag.id) == ["e2"]


async def test_a_resolved_flag_is_no_longer_open_and_the_student_may_get_a_new_one(repo):
    flag = raised("c1")
    await repo.insert_flag(flag=flag, entries=[])
    after = resolved_flag(flag, by="c9", outcome="contacted", sealed_note=None, at=T0 + timedelta(hours=1))
    assert await repo.resolve_flag(before=flag, after=after, entries=[{"id": "e1"}])
    assert not await repo.resolve_flag(before=flag, after=after, entries=[{"id": "e2"}]), "resolved once"
    assert await repo.open_flag(student_id="s1") is None
    stored = await repo.flag(flag_id=flag.id)
    assert stored.status == "resolved" and stored.resolved_by == "c9" and stored.version == 2
    assert await repo.count_open_flags() == {"elevated": 0, "urgent": 0}
    assert await repo.insert_flag(flag=raised("c2", URGENT), entries=[])
    assert await repo.count_open_flags() == {"elevated": 0, "urgent": 1}
