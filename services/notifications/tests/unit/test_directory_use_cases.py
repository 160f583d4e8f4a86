"""The staff directory's use cases through the in-memory fake: who may grant, revoke or readdress a health-data
role, that every grant is recorded, that nobody takes the last holder off one, and rotas name staff only."""

from __future__ import annotations

import inspect

import pytest

from medsupport_shared.auth import Principal
from medsupport_shared.domain_errors import Conflict, Forbidden, NotFound, Unprocessable
from notifications import directory
from notifications.repository import NotificationsRepository
from notifications.schemas import RotaIn, StaffIn
from services.notifications.tests.unit.fakes_directory import FakeDirectoryContext, FakeDirectoryRepository, staff

ADMIN = Principal(sub="admin-1", roles=frozenset({"admin"}))
LEAD = Principal(sub="lead-1", roles=frozenset({"wellbeing_lead"}))
OPS = Principal(sub="ops-1", roles=frozenset({"ops"}))


def entry(*roles: str, email: str = "someone@med.example.edu") -> StaffIn:
    return StaffIn.model_validate({"roles": list(roles), "email": email})


def with_counsellors(*ids: str) -> FakeDirectoryContext:
    fake = FakeDirectoryContext()
    fake.repo.people["lead-1"] = {"_id": "lead-1", **staff(["wellbeing_lead"], email="lead@med.example.edu")}
    for person_id in ids:
        fake.repo.people[person_id] = {"_id": person_id, **staff(["counsellor"], email="c@med.example.edu")}
    return fake


async def test_granting_a_health_data_role_needs_the_lead_and_is_recorded():
    fake = with_counsellors("c1")
    with pytest.raises(Forbidden, match="wellbeing lead"):
        await directory.register_staff(fake.as_context(), ADMIN, "c2", entry("counsellor"))
    assert "c2" not in fake.repo.people and fake.repo.role_grants == []
    stored = await directory.register_staff(fake.as_context(), LEAD, "c2", entry("counsellor"))
    assert stored["_id"] == "c2" and fake.repo.people["c2"]["roles"] == ["counsellor"]
    [grant] = fake.repo.role_grants
    assert (grant["by"], grant["staff_id"], grant["granted"], grant["revoked"]) == ("lead-1", "c2", ["counsellor"], [])


async def test_any_other_role_is_the_admins_and_records_no_grant():
    fake = with_counsellors("c1")
    with pytest.raises(Forbidden, match="admin"):
        await directory.register_staff(fake.as_context(), LEAD, "o1", entry("concerns_officer"))
    await directory.register_staff(fake.as_context(), ADMIN, "o1", entry("concerns_officer"))
    assert fake.repo.people["o1"]["kind"] == "staff" and fake.repo.role_grants == []


async def test_readdressing_a_counsellor_needs_the_lead():
    fake = with_counsellors("c1", "c2")
    with pytest.raises(Forbidden):
        await directory.register_staff(fake.as_context(), ADMIN, "c1", entry("counsellor", email="elsewhere@x.org"))
    await directory.register_staff(fake.as_context(), LEAD, "c1", entry("counsellor", email="elsewhere@x.org"))
    assert fake.repo.people["c1"]["email"] == "elsewhere@x.org"


async def test_the_last_counsellor_keeps_the_role():
    fake = with_counsellors("c1")
    with pytest.raises(Conflict, match="held by nobody"):
        await directory.register_staff(
            fake.as_context(), Principal(sub="x", roles=frozenset({"wellbeing_lead", "admin"})), "c1", entry("admin")
        )
    assert fake.repo.people["c1"]["roles"] == ["counsellor"] and fake.repo.role_grants == []
    fake = with_counsellors("c1", "c2")
    both = Principal(sub="x", roles=frozenset({"wellbeing_lead", "admin"}))
    await directory.register_staff(fake.as_context(), both, "c1", entry("admin"))
    assert fake.repo.role_grants[0]["revoked"] == ["counsellor"]


@pytest.mark.parametrize(
    ("staff_id", "body", "problem"),
    [("c9", entry("wizard"), "unknown roles"), ("safety-floor-contact", entry("admin"), "reserved id")],
)
async def test_unknown_roles_and_the_reserved_id_are_refused(staff_id: str, body: StaffIn, problem: str):
    fake = with_counsellors("c1")
    with pytest.raises(Unprocessable, match=problem):
        await directory.register_staff(fake.as_context(), ADMIN, staff_id, body)
    assert staff_id not in fake.repo.people


async def test_staff_read_their_own_entry_and_the_directory_roles_read_any():
    fake = with_counsellors("c1")
    assert (await directory.staff_member(fake.as_context(), OPS, "c1"))["_id"] == "c1"
    assert (await directory.staff_member(fake.as_context(), Principal(sub="c1"), "c1"))["_id"] == "c1"
    with pytest.raises(Forbidden):
        await directory.staff_member(fake.as_context(), Principal(sub="c2"), "c1")
    fake.repo.people["s1"] = {"_id": "s1", "kind": "student", "roles": []}
    with pytest.raises(NotFound):
        await directory.staff_member(fake.as_context(), ADMIN, "s1")
    fake.repo.people["c1"]["roles"] = "counsellor"  # a hand edit that no longer fits the model
    with pytest.raises(NotFound, match="no longer fits"):
        await directory.staff_member(fake.as_context(), ADMIN, "c1")


async def test_preferences_never_store_a_tokens_roles():
    fake = with_counsellors("c1")
    student = Principal(sub="s1", roles=frozenset({"student"}), email="s1@student.example.edu")
    saved = await directory.save_preferences(fake.as_context(), student, {"email": None, "quiet_hours": None})
    assert (saved["email"], saved["kind"], saved["roles"]) == ("s1@student.example.edu", "student", [])
    await directory.save_preferences(fake.as_context(), Principal(sub="c1"), {"email": None, "quiet_hours": None})
    assert fake.repo.people["c1"]["roles"] == ["counsellor"] and fake.repo.people["c1"]["kind"] == "staff"


async def test_a_rota_names_staff_only_and_an_unreadable_one_is_not_found():
    fake = with_counsellors("c1")
    shift = {"staff_id": "ghost", "start": "2026-11-25T08:00:00Z", "end": "2026-11-25T20:00:00Z"}
    with pytest.raises(Unprocessable) as refused:
        await directory.set_rota(
            fake.as_context(), "counselling", RotaIn.model_validate({"lead_id": "c1", "shifts": [shift]})
        )
    assert refused.value.errors == [
        {"loc": ["body", "shifts", 0, "staff_id"], "msg": "'ghost' is not in the staff directory"}
    ]
    assert await fake.repo.rota_teams() == set()
    reply = await directory.set_rota(fake.as_context(), "counselling", RotaIn.model_validate({"lead_id": "c1"}))
    assert (reply["team"], reply["on_call_now"]) == ("counselling", "c1")
    assert (await directory.readable_rota(fake.as_context(), "counselling")).lead_id == "c1"
    with pytest.raises(NotFound):
        await directory.readable_rota(fake.as_context(), "nights")


def test_the_fake_has_the_real_repositorys_signatures():
    methods = [name for name, _ in inspect.getmembers(FakeDirectoryRepository, inspect.iscoroutinefunction)]
    assert len(methods) >= 15
    for name in methods:
        fake, real = getattr(FakeDirectoryRepository, name), getattr(NotificationsRepository, name)
        assert list(inspect.signature(fake).parameters) == list(inspect.signature(real).parameters), name
