"""In-memory stand-ins for the mentorship repository and the outbox, for unit tests of the use cases.

They keep the real repository's contract (same methods, same answers: unique slots, "only while active",
one reminder per id, newest first) on dicts, so the rules can be tested in milliseconds. They ADD to the
integration tests on the real database and broker, never replace them; tests/integration/
test_repository_contract.py runs the same checks against both."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from medsupport_shared.crypto import FieldCipher
from medsupport_shared.events import CloudEvent
from medsupport_shared.outbox import ChangeRecorder
from mentorship.context import MentorshipContext
from mentorship.domain.assignments import Assignment
from mentorship.domain.meetings import Meeting
from mentorship.domain.profiles import MenteePreferences, MentorProfile
from mentorship.settings import MentorshipSettings

Document = dict[str, Any]


def _page(items: list[Document], limit: int | None, cursor: str | None) -> tuple[list[Document], str | None]:
    """Offset paging (the real one pages by key; callers only pass the cursor back)."""
    start = int(cursor or 0)
    end = len(items) if limit is None else start + limit
    return items[start:end], (str(end) if end < len(items) else None)


def _entity_document(entity: Assignment | Meeting) -> Document:
    return {"_id": entity.id, **entity.model_dump(exclude={"id"})}


class FakeMentorshipRepository:
    def __init__(self) -> None:
        self.mentors: dict[str, Document] = {}
        self.mentees: dict[str, Document] = {}
        self.priority: dict[str, datetime] = {}
        self.slots: dict[str, str] = {}
        self.assignments: dict[str, Document] = {}
        self.meetings: dict[str, Document] = {}
        self.reminders: dict[str, Document] = {}
        self.runs: list[Document] = []
        self.groups: dict[str, Document] = {}
        self.members: dict[str, Document] = {}
        self.placement: dict[str, Document] = {}
        self.outbox: dict[str, list[Document]] = {}
        """Outbox entries stored with each document, by the document's id."""

    # ---------------------------------------------------------------- profiles and preferences

    def add_mentor(self, mentor_id: str, **stored: Any) -> None:
        """A profile as stored (test set-up: any fields, as a hand-edited or older document may have)."""
        self.mentors[mentor_id] = {"_id": mentor_id, **stored}

    def add_mentee(self, student_id: str, **stored: Any) -> None:
        self.mentees[student_id] = {"_id": student_id, **stored}

    async def mentor(self, *, mentor_id: str) -> MentorProfile | None:
        doc = self.mentors.get(mentor_id)
        return None if doc is None else MentorProfile.model_validate({"id": doc["_id"], **doc})

    async def save_mentor(self, *, profile: MentorProfile, at: datetime) -> None:
        fields = {**profile.model_dump(exclude={"id"}), "created_at": at}
        self.mentors[profile.id] = {**self.mentors.get(profile.id, {"_id": profile.id}), **fields}

    async def page_mentors(self, *, limit: int | None, cursor: str | None) -> tuple[list[MentorProfile], str | None]:
        page, next_cursor = _page([self.mentors[k] for k in sorted(self.mentors)], limit, cursor)
        return [MentorProfile.model_validate({"id": d["_id"], **d}) for d in page], next_cursor

    async def all_mentors(self) -> list[MentorProfile]:
        return [MentorProfile.model_validate({"id": d["_id"], **d}) for d in self.mentors.values()]

    async def mentee(self, *, student_id: str) -> MenteePreferences | None:
        doc = self.mentees.get(student_id)
        return None if doc is None else MenteePreferences.model_validate({"id": doc["_id"], **doc})

    async def save_mentee(self, *, preferences: MenteePreferences, at: datetime) -> None:
        fields = {**preferences.model_dump(exclude={"id"}), "created_at": at}
        self.mentees[preferences.id] = {**self.mentees.get(preferences.id, {"_id": preferences.id}), **fields}

    async def waiting_mentees(self, *, student_id: str | None = None) -> list[MenteePreferences]:
        matched = {a["mentee_id"] for a in self.assignments.values() if a["status"] == "active"}
        return [
            MenteePreferences.model_validate({"id": k, **d})
            for k, d in self.mentees.items()
            if (student_id is None or k == student_id) and k not in matched
        ]

    async def has_active_mentor(self, *, student_id: str) -> bool:
        return any(a["mentee_id"] == student_id and a["status"] == "active" for a in self.assignments.values())

    async def prioritise(self, *, student_id: str, until: datetime) -> None:
        self.priority[student_id] = until

    async def clear_priority(self, *, student_id: str) -> None:
        self.priority.pop(student_id, None)

    async def prioritised(self, *, now: datetime) -> set[str]:
        return {student for student, until in self.priority.items() if until > now}

    # ---------------------------------------------------------------- capacity

    async def take_slot(self, *, slot_id: str, assignment_id: str) -> bool:
        if slot_id in self.slots:
            return False
        self.slots[slot_id] = assignment_id
        return True

    async def release_slots(self, *, assignment_id: str) -> None:
        self.slots = {k: v for k, v in self.slots.items() if v != assignment_id}

    async def active_load(self) -> dict[str, int]:
        load: dict[str, int] = {}
        for a in self.assignments.values():
            if a["status"] == "active":
                load[a["mentor_id"]] = load.get(a["mentor_id"], 0) + 1
        return load

    # ---------------------------------------------------------------- assignments and meetings

    async def insert_assignment(self, *, assignment: Assignment, entries: list[Document]) -> None:
        if assignment.id in self.assignments:
            raise KeyError(f"duplicate assignment {assignment.id}")
        self.assignments[assignment.id] = _entity_document(assignment)
        self.outbox.setdefault(assignment.id, []).extend(entries)

    async def assignment(self, *, assignment_id: str) -> Assignment | None:
        doc = self.assignments.get(assignment_id)
        return None if doc is None else Assignment.model_validate({"id": doc["_id"], **doc})

    async def end_assignment(self, *, ended: Assignment, entries: list[Document]) -> bool:
        doc = self.assignments.get(ended.id)
        if doc is None or doc["status"] != "active":
            return False
        doc.update(status=ended.status, ended_at=ended.ended_at, ended_by=ended.ended_by, end_reason=ended.end_reason)
        self.outbox.setdefault(ended.id, []).extend(entries)
        return True

    async def page_assignments(
        self, *, party: str | None, status: str | None, limit: int | None, cursor: str | None
    ) -> tuple[list[Assignment], str | None]:
        docs = [
            d
            for d in sorted(self.assignments.values(), key=lambda d: (d["created_at"], d["_id"]), reverse=True)
            if (party is None or party in (d["mentor_id"], d["mentee_id"])) and (not status or d["status"] == status)
        ]
        page, next_cursor = _page(docs, limit, cursor)
        return [Assignment.model_validate({"id": d["_id"], **d}) for d in page], next_cursor

    async def active_assignments(self) -> list[Assignment]:
        return [
            Assignment.model_validate({"id": d["_id"], **d})
            for d in self.assignments.values()
            if d["status"] == "active"
        ]

    async def insert_meeting(self, *, meeting: Meeting, entries: list[Document]) -> None:
        self.meetings[meeting.id] = _entity_document(meeting)
        self.outbox.setdefault(meeting.id, []).extend(entries)

    async def page_meetings(
        self, *, assignment_id: str, limit: int | None, cursor: str | None
    ) -> tuple[list[Meeting], str | None]:
        docs = sorted(
            (m for m in self.meetings.values() if m["assignment_id"] == assignment_id),
            key=lambda m: (m["met_at"], m["_id"]),
            reverse=True,
        )
        page, next_cursor = _page(docs, limit, cursor)
        return [Meeting.model_validate({"id": d["_id"], **d}) for d in page], next_cursor

    async def raise_last_meeting(self, *, assignment_id: str, met_at: datetime) -> None:
        doc = self.assignments.get(assignment_id)
        if doc is not None and (doc["last_meeting_at"] is None or doc["last_meeting_at"] < met_at):
            doc["last_meeting_at"] = met_at

    async def insert_reminder(self, *, reminder: Document, entries: list[Document]) -> bool:
        if reminder["_id"] in self.reminders:
            return False
        self.reminders[reminder["_id"]] = reminder
        self.outbox.setdefault(reminder["_id"], []).extend(entries)
        return True

    async def save_run(self, *, run: Document) -> None:
        self.runs.append(run)

    # ---------------------------------------------------------------- peer groups

    async def insert_group(self, *, group: Document) -> None:
        self.groups[group["_id"]] = group

    async def group(self, *, group_id: str) -> Document | None:
        return self.groups.get(group_id)

    async def page_groups(
        self, *, cohort: str | None = None, limit: int | None, cursor: str | None
    ) -> tuple[list[Document], str | None]:
        return _page([g for g in self.groups.values() if not cohort or g.get("cohort") == cohort], limit, cursor)

    async def all_groups(self, *, cohort: str | None = None) -> list[Document]:
        return (await self.page_groups(cohort=cohort, limit=None, cursor=None))[0]

    async def groups_of(self, *, student_id: str) -> set[str]:
        return {m["group_id"] for m in self.members.values() if m["student_id"] == student_id}

    async def group_members(self, *, group_id: str) -> list[str]:
        return [m["student_id"] for m in self.members.values() if m["group_id"] == group_id]

    async def join_group(self, *, group: Document, student_id: str) -> bool | None:
        membership = f"{group['_id']}:member:{student_id}"
        if membership in self.members:
            return None
        self.members[membership] = {"_id": membership, "group_id": group["_id"], "student_id": student_id}
        for seat in range(group["size_limit"]):
            if await self.take_slot(slot_id=f"{group['_id']}:seat:{seat}", assignment_id=membership):
                return True
        del self.members[membership]
        return False

    async def set_placement(self, *, student_id: str, cohort: str | None, open_to_placement: bool) -> None:
        if open_to_placement:
            self.placement[student_id] = {"_id": student_id, "cohort": cohort}
        else:
            self.placement.pop(student_id, None)

    async def placement_of(self, *, student_id: str) -> Document | None:
        return self.placement.get(student_id)

    async def leave_group(self, *, group_id: str, student_id: str) -> bool:
        membership = f"{group_id}:member:{student_id}"
        await self.release_slots(assignment_id=membership)
        return self.members.pop(membership, None) is not None


class FakeOutbox:
    """Remembers what would have been published, in order."""

    def __init__(self) -> None:
        self.dispatched: list[tuple[str, Any, list[Document]]] = []

    def dispatch(self, collection: str, document_id: Any, entries: list[Document]) -> asyncio.Future[bool]:
        self.dispatched.append((collection, document_id, list(entries)))
        published: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        published.set_result(True)
        return published

    async def flush(self, collection: str, document_id: Any, entries: list[Document]) -> bool:
        self.dispatch(collection, document_id, entries)
        return True

    def events(self, event_type: str | None = None) -> list[CloudEvent]:
        """The published events (of ``event_type``), as their envelopes."""
        envelopes = [CloudEvent.model_validate_json(e["event"]) for _, _, entries in self.dispatched for e in entries]
        return [e for e in envelopes if event_type is None or e.type == event_type]


def fake_context(**settings: Any) -> tuple[MentorshipContext, FakeMentorshipRepository, FakeOutbox]:
    """A context on the fakes (no idempotency store nor rate counters: the use cases tested need neither)."""
    repo, outbox = FakeMentorshipRepository(), FakeOutbox()
    mentorship_settings = MentorshipSettings(**settings)
    ctx = MentorshipContext(
        repo=repo,  # type: ignore[arg-type]
        changes=ChangeRecorder(outbox, source="/services/mentorship"),  # type: ignore[arg-type]
        settings=mentorship_settings,
        cipher=FieldCipher(mentorship_settings.notes_encryption_key),
        idempotency=None,  # type: ignore[arg-type]
        counters=None,  # type: ignore[arg-type]
    )
    return ctx, repo, outbox
