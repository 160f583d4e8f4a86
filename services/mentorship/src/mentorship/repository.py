"""MongoDB access. Capacity is held by slot documents: a mentor with capacity n has slots
``<mentor>:0`` … ``<mentor>:n-1``, taken by inserting the slot (a unique ``_id``), so two concurrent
assignments can never both take the last slot, on FerretDB as on MongoDB. The same holds one active
mentorship per student (``mentee:<id>``) and peer-group seats (``<group>:seat:<n>``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from medsupport_shared.documents import parse_document, parse_documents
from medsupport_shared.mongo import MAX_LIMIT, ensure_indexes, paginate
from medsupport_shared.outbox import OUTBOX_FIELD, push_outbox, with_outbox
from mentorship.domain.assignments import Assignment
from mentorship.domain.meetings import Meeting
from mentorship.domain.profiles import MenteePreferences, MentorProfile

Document = dict[str, Any]
MENTORS, MENTEES, PRIORITY, ASSIGNMENTS, SLOTS = "mentors", "mentees", "priority", "assignments", "slots"
MEETINGS, REMINDERS, GROUPS, MEMBERS, RUNS = "meetings", "reminders", "peer_groups", "group_members", "matching_runs"
PLACEMENT = "group_placement"
"""Students who let staff place them into a peer group of their cohort (their own choice)."""
OUTBOX_COLLECTIONS = (ASSIGNMENTS, MEETINGS, REMINDERS)
ERASED = "erased"
"""Stands in for an erased student's id where a shared record (a matching run) keeps the entry."""
NO_OUTBOX = {OUTBOX_FIELD: 0}


def _with_id(doc: Document) -> Document:
    return {"id": doc["_id"], **doc}


def _stored(entity: Assignment | Meeting, *, keep_none: tuple[str, ...] = ()) -> Document:
    """The entity as a document: ``id`` as ``_id``; unset optional fields left out as they always were."""
    fields = entity.model_dump(exclude={"id"})
    return {"_id": entity.id, **{k: v for k, v in fields.items() if v is not None or k in keep_none}}


def _assignment(doc: Document) -> Assignment | None:
    return parse_document(doc, Assignment, collection=ASSIGNMENTS, prepare=_with_id, log_id=True)


def _mentors(docs: list[Document]) -> list[MentorProfile]:
    return parse_documents(docs, MentorProfile, collection=MENTORS, prepare=_with_id)


def _mentees(docs: list[Document]) -> list[MenteePreferences]:
    return parse_documents(docs, MenteePreferences, collection=MENTEES, prepare=_with_id)


class MentorshipRepository:
    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self.mentors, self.mentees, self.priority = db[MENTORS], db[MENTEES], db[PRIORITY]
        self.assignments, self.slots, self.meetings = db[ASSIGNMENTS], db[SLOTS], db[MEETINGS]
        self.reminders, self.groups, self.members, self.runs = db[REMINDERS], db[GROUPS], db[MEMBERS], db[RUNS]
        self.placement = db[PLACEMENT]

    async def ensure_indexes(self) -> None:
        await ensure_indexes(
            self.assignments,
            [
                IndexModel([("mentor_id", ASCENDING), ("status", ASCENDING)]),
                IndexModel([("mentee_id", ASCENDING), ("status", ASCENDING)]),
                IndexModel("created_at"),
            ],
        )
        await ensure_indexes(self.meetings, [IndexModel([("assignment_id", ASCENDING), ("met_at", DESCENDING)])])
        await ensure_indexes(self.members, [IndexModel("group_id"), IndexModel("student_id")])
        await ensure_indexes(self.slots, [IndexModel("assignment_id")])

    # ---------------------------------------------------------------- profiles and preferences

    async def mentor(self, *, mentor_id: str) -> MentorProfile | None:
        doc = await self.mentors.find_one({"_id": mentor_id})
        return next(iter(_mentors([doc])), None) if doc else None

    async def save_mentor(self, *, profile: MentorProfile, at: datetime) -> None:
        """Every field of the profile (``created_at``: when it was last saved, as it always was)."""
        fields = {**profile.model_dump(exclude={"id"}), "created_at": at}
        await self.mentors.update_one({"_id": profile.id}, {"$set": fields}, upsert=True)

    async def page_mentors(self, *, limit: int | None, cursor: str | None) -> tuple[list[MentorProfile], str | None]:
        docs, next_cursor = await paginate(
            self.mentors, {}, limit=limit, cursor=cursor, sort_field="_id", descending=False
        )
        return _mentors(docs), next_cursor

    async def all_mentors(self) -> list[MentorProfile]:
        return _mentors(await self.mentors.find({}).to_list(None))

    async def mentee(self, *, student_id: str) -> MenteePreferences | None:
        doc = await self.mentees.find_one({"_id": student_id})
        return next(iter(_mentees([doc])), None) if doc else None

    async def save_mentee(self, *, preferences: MenteePreferences, at: datetime) -> None:
        fields = {**preferences.model_dump(exclude={"id"}), "created_at": at}
        await self.mentees.update_one({"_id": preferences.id}, {"$set": fields}, upsert=True)

    async def waiting_mentees(self, *, student_id: str | None = None) -> list[MenteePreferences]:
        query: Document = {"_id": student_id} if student_id else {}
        matched = {d["mentee_id"] async for d in self.assignments.find({"status": "active"}, {"mentee_id": 1})}
        return _mentees([d async for d in self.mentees.find(query) if d["_id"] not in matched])

    async def has_active_mentor(self, *, student_id: str) -> bool:
        return await self.assignments.find_one({"mentee_id": student_id, "status": "active"}, {"_id": 1}) is not None

    async def prioritise(self, *, student_id: str, until: datetime) -> None:
        await self.priority.update_one({"_id": student_id}, {"$set": {"until": until}}, upsert=True)

    async def clear_priority(self, *, student_id: str) -> None:
        await self.priority.delete_one({"_id": student_id})

    async def prioritised(self, *, now: datetime) -> set[str]:
        return {d["_id"] async for d in self.priority.find({"until": {"$gt": now}}, {"_id": 1})}

    # ---------------------------------------------------------------- capacity

    async def take_slot(self, *, slot_id: str, assignment_id: str) -> bool:
        try:
            await self.slots.insert_one({"_id": slot_id, "assignment_id": assignment_id})
        except DuplicateKeyError:
            return False
        return True

    async def release_slots(self, *, assignment_id: str) -> None:
        await self.slots.delete_many({"assignment_id": assignment_id})

    async def active_load(self) -> dict[str, int]:
        load: dict[str, int] = {}
        async for doc in self.assignments.find({"status": "active"}, {"mentor_id": 1}):
            load[doc["mentor_id"]] = load.get(doc["mentor_id"], 0) + 1
        return load

    # ---------------------------------------------------------------- assignments and meetings

    async def insert_assignment(self, *, assignment: Assignment, entries: list[Document]) -> None:
        await self.assignments.insert_one(with_outbox(_stored(assignment, keep_none=("last_meeting_at",)), *entries))

    async def assignment(self, *, assignment_id: str) -> Assignment | None:
        doc = await self.assignments.find_one({"_id": assignment_id}, NO_OUTBOX)
        return None if doc is None else _assignment(doc)

    async def end_assignment(self, *, ended: Assignment, entries: list[Document]) -> bool:
        """Store the end of a still active assignment with its events; False when it had already ended."""
        changes = {"status": ended.status, "ended_at": ended.ended_at, "ended_by": ended.ended_by}
        update = push_outbox({"$set": {**changes, "end_reason": ended.end_reason}}, *entries)
        result = await self.assignments.update_one({"_id": ended.id, "status": "active"}, update)
        return result.modified_count == 1

    async def page_assignments(
        self, *, party: str | None, status: str | None, limit: int | None, cursor: str | None
    ) -> tuple[list[Assignment], str | None]:
        """Assignments (of ``party``, as mentor or mentee, when given), newest first."""
        query: Document = {} if party is None else {"$or": [{"mentor_id": party}, {"mentee_id": party}]}
        if status:
            query["status"] = status
        docs, next_cursor = await paginate(self.assignments, query, limit=limit, cursor=cursor, projection=NO_OUTBOX)
        return parse_documents(docs, Assignment, collection=ASSIGNMENTS, prepare=_with_id, log_id=True), next_cursor

    async def active_assignments(self) -> list[Assignment]:
        docs = await self.assignments.find({"status": "active"}, NO_OUTBOX).to_list(None)
        return parse_documents(docs, Assignment, collection=ASSIGNMENTS, prepare=_with_id, log_id=True)

    async def insert_meeting(self, *, meeting: Meeting, entries: list[Document]) -> None:
        await self.meetings.insert_one(with_outbox(_stored(meeting), *entries))

    async def page_meetings(
        self, *, assignment_id: str, limit: int | None, cursor: str | None
    ) -> tuple[list[Meeting], str | None]:
        """Most recent meeting first (by ``met_at``, the index's order)."""
        docs, next_cursor = await paginate(
            self.meetings,
            {"assignment_id": assignment_id},
            limit=limit,
            cursor=cursor,
            sort_field="met_at",
            projection=NO_OUTBOX,
        )
        return parse_documents(docs, Meeting, collection=MEETINGS, prepare=_with_id, log_id=True), next_cursor

    async def raise_last_meeting(self, *, assignment_id: str, met_at: datetime) -> None:
        """``last_meeting_at`` only moves forward, atomically (``$max``), however meetings race."""
        await self.assignments.update_one({"_id": assignment_id}, {"$max": {"last_meeting_at": met_at}})

    async def insert_reminder(self, *, reminder: Document, entries: list[Document]) -> bool:
        try:
            await self.reminders.insert_one(with_outbox(reminder, *entries))
        except DuplicateKeyError:
            return False
        return True

    async def save_run(self, *, run: Document) -> None:
        await self.runs.insert_one(run)

    # ---------------------------------------------------------------- peer groups

    async def insert_group(self, *, group: Document) -> None:
        await self.groups.insert_one(group)

    async def group(self, *, group_id: str) -> Document | None:
        return await self.groups.find_one({"_id": group_id})

    async def page_groups(
        self, *, cohort: str | None = None, limit: int | None, cursor: str | None
    ) -> tuple[list[Document], str | None]:
        """The groups (of ``cohort``, when given)."""
        return await paginate(self.groups, {"cohort": cohort} if cohort else {}, limit=limit, cursor=cursor)

    async def all_groups(self, *, cohort: str | None = None) -> list[Document]:
        """Every group (of ``cohort``, when given), read page by page (never one unbounded read, never only
        the first page)."""
        groups: list[Document] = []
        cursor: str | None = None
        while True:
            page, cursor = await self.page_groups(cohort=cohort, limit=MAX_LIMIT, cursor=cursor)
            groups += page
            if cursor is None:
                return groups

    async def groups_of(self, *, student_id: str) -> set[str]:
        return {d["group_id"] async for d in self.members.find({"student_id": student_id}, {"group_id": 1})}

    async def group_members(self, *, group_id: str) -> list[str]:
        return [d["student_id"] async for d in self.members.find({"group_id": group_id})]

    async def join_group(self, *, group: Document, student_id: str) -> bool | None:
        """True joined, False no seat left, None already a member."""
        membership = f"{group['_id']}:member:{student_id}"
        try:
            await self.members.insert_one({"_id": membership, "group_id": group["_id"], "student_id": student_id})
        except DuplicateKeyError:
            return None
        for seat in range(group["size_limit"]):
            if await self.take_slot(slot_id=f"{group['_id']}:seat:{seat}", assignment_id=membership):
                return True
        await self.members.delete_one({"_id": membership})
        return False

    async def set_placement(self, *, student_id: str, cohort: str | None, open_to_placement: bool) -> None:
        if open_to_placement:
            await self.placement.replace_one({"_id": student_id}, {"_id": student_id, "cohort": cohort}, upsert=True)
        else:
            await self.placement.delete_one({"_id": student_id})

    async def placement_of(self, *, student_id: str) -> Document | None:
        return await self.placement.find_one({"_id": student_id})

    async def leave_group(self, *, group_id: str, student_id: str) -> bool:
        membership = f"{group_id}:member:{student_id}"
        await self.release_slots(assignment_id=membership)
        return (await self.members.delete_one({"_id": membership})).deleted_count == 1

    # ---------------------------------------------------------------- erasure

    async def erase_student(self, *, student_id: str) -> dict[str, int]:
        """Delete what is the student's own, and take them out of what is shared with others: matching
        runs keep their other matches (the student's entries become ``ERASED``), peer groups keep going."""
        theirs = [a["_id"] async for a in self.assignments.find({"mentee_id": student_id}, {"_id": 1})]
        for assignment_id in theirs:
            await self.release_slots(assignment_id=assignment_id)
        await self.slots.delete_many({"_id": f"mentee:{student_id}"})
        memberships = [m async for m in self.members.find({"student_id": student_id})]
        for membership in memberships:
            await self.leave_group(group_id=membership["group_id"], student_id=student_id)
        return {
            "assignments": (await self.assignments.delete_many({"_id": {"$in": theirs}})).deleted_count,
            "meetings": (await self.meetings.delete_many({"assignment_id": {"$in": theirs}})).deleted_count,
            "reminders": (await self.reminders.delete_many({"assignment_id": {"$in": theirs}})).deleted_count,
            "preferences": (await self.mentees.delete_many({"_id": student_id})).deleted_count,
            "priority": (await self.priority.delete_many({"_id": student_id})).deleted_count,
            "placement": (await self.placement.delete_many({"_id": student_id})).deleted_count,
            "groups": len(memberships),
            "groups_redacted": await self._redact_groups(student_id),
            "runs_deleted": (await self.runs.delete_many({"student_id": student_id})).deleted_count,
            "runs_redacted": await self._redact_runs(student_id),
        }

    async def _redact_groups(self, student_id: str) -> int:
        created = await self.groups.update_many({"created_by": student_id}, {"$set": {"created_by": None}})
        facilitated = await self.groups.update_many({"facilitator_id": student_id}, {"$set": {"facilitator_id": None}})
        return int(created.modified_count + facilitated.modified_count)

    async def _redact_runs(self, student_id: str) -> int:
        """A run is written once and never changed, so rewriting the few that mention the student is safe."""
        query = {"$or": [{"matches.mentee_id": student_id}, {"unmatched": student_id}, {"requested_by": student_id}]}
        redacted = 0
        async for run in self.runs.find(query):
            matches = [
                {**m, "mentee_id": ERASED} if m.get("mentee_id") == student_id else m for m in run.get("matches", [])
            ]
            changes = {
                "matches": matches,
                "unmatched": [s for s in run.get("unmatched", []) if s != student_id],
                "requested_by": None if run.get("requested_by") == student_id else run.get("requested_by"),
            }
            redacted += (await self.runs.update_one({"_id": run["_id"]}, {"$set": changes})).modified_count
        return redacted
