"""An event about an erased student re-creates nothing: a replay from before the erasure is dropped, and an
erasure that lands while an event is being handled (another topic, another consumer group) erases again."""

import pytest

from medsupport_shared.erasure import ErasedStudents, unless_erased
from medsupport_shared.event_types import MentorAssigned
from medsupport_shared.events import new_event, utcnow
from medsupport_shared.mongo import create_client

pytestmark = pytest.mark.integration


def assigned(student="s1"):
    payload = MentorAssigned(assignment_id="a1", mentor_id="m1", mentee_id=student, assigned_at=utcnow(), score=0.5)
    return new_event(payload, source="/services/mentorship"), payload


@pytest.fixture
async def store(isolation):
    name = f"erasure_{isolation.run_id}"
    isolation.databases.append(name)
    client = create_client(isolation.infra.mongo_url)
    try:
        db = client[name]
        yield ErasedStudents(db, secret=b"test-secret"), db["made"]
    finally:
        await client.close()


async def test_an_event_from_before_the_erasure_is_dropped(store):
    erased, made = store
    event, payload = assigned()

    async def make(_event, p):
        await made.insert_one({"student_id": p.mentee_id})

    await erased.remember("s1", at=utcnow())
    await unless_erased(erased, make, lambda p: p.mentee_id)(event, payload)
    assert await made.count_documents({}) == 0
    later, later_payload = assigned("s2")  # someone else is not affected
    await unless_erased(erased, make, lambda p: p.mentee_id)(later, later_payload)
    assert await made.count_documents({"student_id": "s2"}) == 1


async def test_an_erasure_landing_while_the_event_is_handled_erases_what_it_made(store):
    erased, made = store
    event, payload = assigned()

    async def make_while_erased(_event, p):
        await made.insert_one({"student_id": p.mentee_id})
        await erased.remember(p.mentee_id, at=utcnow())  # the erasure, consumed meanwhile by another group

    async def erase_again(student_id):
        await made.delete_many({"student_id": student_id})

    handler = unless_erased(erased, make_while_erased, lambda p: p.mentee_id, erase_again=erase_again)
    await handler(event, payload)
    assert await made.count_documents({}) == 0


async def test_an_event_that_must_always_be_handled_is_handled_after_an_erasure(store):
    erased, made = store
    event, payload = assigned()
    erasures = []

    async def make(_event, p):
        await made.insert_one({"student_id": p.mentee_id})

    async def erase_again(student_id):
        erasures.append(student_id)

    await erased.remember("s1", at=utcnow())
    handler = unless_erased(erased, make, lambda p: p.mentee_id, erase_again=erase_again, always_handle=lambda p: True)
    await handler(event, payload)
    assert await made.count_documents({}) == 1 and erasures == ["s1"]
