"""In-memory fakes of the wellbeing repositories and the outbox, for unit tests of use cases.

They implement the methods the use cases call, on dicts and lists, with the real repositories' answers (a
duplicate open flag or a stale version is refused; entries land in the document's outbox) and the real
mapping of entities to documents. They ADD to the integration tests on the real MongoDB and Kafka, which
stay the proof that the real repositories behave so."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from medsupport_shared.crypto import FieldCipher
from medsupport_shared.events import CloudEvent
from medsupport_shared.outbox import OUTBOX_FIELD, parse_entry
from wellbeing.context import WellbeingContext
from wellbeing.domain.flags import Flag, WorryingCheckin
from wellbeing.domain.referrals import Referral
from wellbeing.referral_repository import from_document as referral_from_document
from wellbeing.referral_repository import to_document as referral_to_document
from wellbeing.repository import flag_document, flag_from_document, worrying_checkin
from wellbeing.settings import WellbeingSettings

Document = dict[str, Any]


def _without_outbox(doc: Document) -> Document:
    return {k: copy.deepcopy(v) for k, v in doc.items() if k != OUTBOX_FIELD}


class FakeWellbeingRepository:
    """Check-ins, flags, consents, reminders and the audit trail in dicts."""

    def __init__(self) -> None:
        self.checkins: dict[str, Document] = {}
        self.flags: dict[str, Document] = {}
        self.consents: dict[str, Document] = {}
        self.reminders: dict[str, Document] = {}
        self.latest_scores: dict[str, Document] = {}
        self.audit: list[Document] = []

    # consent and reminders
    async def consent(self, *, student_id: str) -> Document | None:
        found = self.consents.get(student_id)
        return copy.deepcopy(found) if found else None

    async def save_consent(self, *, student_id: str, consent: Document) -> Document:
        self.consents[student_id] = {"_id": student_id, **self.consents.get(student_id, {}), **consent}
        return copy.deepcopy(self.consents[student_id])

    async def reminder(self, *, student_id: str) -> Document | None:
        found = self.reminders.get(student_id)
        return _without_outbox(found) if found else None

    async def postpone_reminder(self, *, student_id: str, now: datetime) -> None:
        reminder = self.reminders.get(student_id)
        if reminder and reminder.get("cadence_days"):
            reminder["next_due_at"] = now + timedelta(days=reminder["cadence_days"])

    # check-ins
    async def insert_checkin(self, *, checkin: Document, entries: list[Document]) -> bool:
        if checkin["_id"] in self.checkins:
            raise KeyError(f"duplicate check-in {checkin['_id']}")  # the real insert raises DuplicateKeyError
        self.checkins[checkin["_id"]] = {**copy.deepcopy(checkin), OUTBOX_FIELD: list(entries)}
        return True

    async def latest_score(self, *, student_id: str, instrument: str) -> Document | None:
        found = self.latest_scores.get(f"{student_id}|{instrument}")
        return copy.deepcopy(found) if found else None

    async def remember_latest_score(self, *, checkin: Document) -> None:
        key = f"{checkin['student_id']}|{checkin['instrument']}"
        held = self.latest_scores.get(key)
        if held is None or held["recorded_at"] <= checkin["recorded_at"]:
            fields = ("instrument", "score", "percentage", "band", "recorded_at")
            self.latest_scores[key] = {"_id": key, "student_id": checkin["student_id"]} | {
                f: checkin.get(f) for f in fields
            }

    async def pending_flag_checkins(self, *, older_than: datetime) -> list[WorryingCheckin]:
        return [
            worrying_checkin(c)
            for c in self.checkins.values()
            if c.get("flag_pending") and c["recorded_at"] <= older_than
        ]

    async def mark_flag_applied(self, *, checkin_id: str, flag_id: str) -> None:
        if checkin_id in self.checkins:
            self.checkins[checkin_id].update(flag_pending=False, flag_id=flag_id)

    # flags
    async def open_flag(self, *, student_id: str) -> Flag | None:
        for doc in self.flags.values():
            if doc.get("open_key") == student_id:
                return flag_from_document(_without_outbox(doc))
        return None

    async def flag(self, *, flag_id: str) -> Flag | None:
        doc = self.flags.get(flag_id)
        return flag_from_document(_without_outbox(doc)) if doc else None

    async def insert_flag(self, *, flag: Flag, entries: list[Document]) -> bool:
        doc = flag_document(flag)
        if doc["_id"] in self.flags or any(f.get("open_key") == doc["open_key"] for f in self.flags.values()):
            return False  # unique _id and open_key
        self.flags[doc["_id"]] = {**doc, OUTBOX_FIELD: list(entries)}
        return True

    def _current(self, before: Flag) -> Document | None:
        doc = self.flags.get(before.id)
        if doc is None or doc["version"] != before.version or doc["status"] != "open":
            return None
        return doc

    async def update_open_flag(self, *, before: Flag, after: Flag, checkin_id: str, entries: list[Document]) -> bool:
        doc = self._current(before)
        if doc is None:
            return False
        for name in ("severity", "priority", "queue_key", "instrument", "updated_at"):
            doc[name] = getattr(after, name)
        doc["reasons"] = list(after.reasons)
        doc["version"] += 1
        doc["checkin_ids"].append(checkin_id)
        doc[OUTBOX_FIELD].extend(entries)
        return True

    async def resolve_flag(self, *, before: Flag, after: Flag, entries: list[Document]) -> bool:
        doc = self._current(before)
        if doc is None:
            return False
        for name in ("status", "resolved_at", "resolved_by", "outcome", "resolution_note", "updated_at"):
            doc[name] = getattr(after, name)
        doc.pop("open_key", None)
        doc["version"] += 1
        doc[OUTBOX_FIELD].extend(entries)
        return True

    async def count_open_flags(self) -> dict[str, int]:
        open_flags = [f for f in self.flags.values() if f["status"] == "open"]
        return {s: sum(1 for f in open_flags if f["severity"] == s) for s in ("elevated", "urgent")}

    # audit
    async def record_audit(self, *, entry: Document) -> None:
        self.audit.append(copy.deepcopy(entry))

    async def record_audits(self, *, entries: list[Document]) -> None:
        self.audit.extend(copy.deepcopy(entries))


class FakeReferralRepository:
    def __init__(self) -> None:
        self.referrals: dict[str, Document] = {}

    async def insert(self, *, referral: Referral, sealed: Document, entries: list[Document]) -> bool:
        if referral.id in self.referrals:
            raise KeyError(f"duplicate referral {referral.id}")
        self.referrals[referral.id] = {**referral_to_document(referral), **sealed, OUTBOX_FIELD: list(entries)}
        return True

    async def get(self, *, referral_id: str) -> tuple[Referral, Document] | None:
        doc = self.referrals.get(referral_id)
        if doc is None:
            return None
        plain = _without_outbox(doc)
        return referral_from_document(plain), plain

    async def save_step(
        self, *, before: Referral, after: Referral, staff_note: str | None, entries: list[Document]
    ) -> bool:
        doc = self.referrals.get(before.id)
        if doc is None or doc["version"] != before.version:
            return False
        changes = referral_to_document(after)
        changes.pop("_id")
        doc.update(changes)
        doc[OUTBOX_FIELD].extend(entries)
        if staff_note is not None:
            doc.setdefault("staff_notes", []).append(staff_note)
        return True

    async def untriaged_past_deadline(self, *, now: datetime, limit: int = 200) -> list[Referral]:
        due = [
            d
            for d in self.referrals.values()
            if d["open"] and d["first_contact_at"] is None and d["escalated_at"] is None and d["deadline_at"] <= now
        ]
        return [referral_from_document(_without_outbox(d)) for d in sorted(due, key=lambda d: d["deadline_at"])[:limit]]

    async def mark_escalated(self, *, referral: Referral, at: datetime, entries: list[Document]) -> bool:
        doc = self.referrals.get(referral.id)
        if doc is None or doc["escalated_at"] is not None or doc["first_contact_at"] is not None:
            return False
        doc["escalated_at"] = at
        doc[OUTBOX_FIELD].extend(entries)
        return True

    async def of_student(self, *, student_id: str) -> list[Referral]:
        mine = [d for d in self.referrals.values() if d["student_id"] == student_id]
        return [referral_from_document(_without_outbox(d)) for d in sorted(mine, key=lambda d: d["created_at"])]


class FakeResourceRepository:
    async def matching_needs(self, *, needs: set[str], limit: int = 50) -> list[Any]:
        return []


class FakeOutbox:
    """Publishes to a list at once (Kafka always answers); ``down`` makes every publish fail, like Kafka away."""

    def __init__(self, repositories: dict[str, dict[str, Document]]) -> None:
        self.repositories = repositories
        self.published: list[CloudEvent] = []
        self.down = False
        self.in_flight: list[asyncio.Task[bool]] = []

    def dispatch(self, collection: str, document_id: Any, entries: list[Document]) -> asyncio.Task[bool]:
        task = asyncio.create_task(self.flush(collection, document_id, entries))
        self.in_flight.append(task)
        return task

    async def flush(self, collection: str, document_id: Any, entries: list[Document]) -> bool:
        if self.down:
            return False
        for entry in entries:
            self.published.append(parse_entry(entry))
            document = self.repositories[collection].get(document_id)
            if document is not None:
                document[OUTBOX_FIELD].remove(entry)
        return True

    def of_type(self, event_type: str) -> list[CloudEvent]:
        return [e for e in self.published if e.type == event_type]


@dataclass
class FakeStack:
    ctx: WellbeingContext
    repo: FakeWellbeingRepository
    referrals: FakeReferralRepository
    outbox: FakeOutbox
    settings: WellbeingSettings

    async def settle(self) -> None:
        """Let the background publishes (``dispatch``) finish; their ``on_published`` callbacks, added before
        this wait's own, have run when it returns."""
        if self.outbox.in_flight:
            await asyncio.wait(self.outbox.in_flight, timeout=5)


def fake_stack(tmp_path: Path, **settings: Any) -> FakeStack:
    wellbeing_settings = WellbeingSettings(app_env="development", urgent_spool_dir=str(tmp_path / "spool"), **settings)
    repo, referrals = FakeWellbeingRepository(), FakeReferralRepository()
    outbox = FakeOutbox({"checkins": repo.checkins, "flags": repo.flags, "referrals": referrals.referrals})
    ctx = WellbeingContext(
        repo=repo,  # type: ignore[arg-type]
        outbox=outbox,  # type: ignore[arg-type]
        settings=wellbeing_settings,
        cipher=FieldCipher(wellbeing_settings.notes_encryption_key),
        source=wellbeing_settings.source,
        idempotency=None,  # type: ignore[arg-type]
        publisher=None,  # type: ignore[arg-type]
        tasks=None,  # type: ignore[arg-type]
        spool=None,  # type: ignore[arg-type]
        referrals=referrals,  # type: ignore[arg-type]
        resources=FakeResourceRepository(),  # type: ignore[arg-type]
        workshops=None,  # type: ignore[arg-type]
        counters=None,  # type: ignore[arg-type]
    )
    return FakeStack(ctx, repo, referrals, outbox, wellbeing_settings)
