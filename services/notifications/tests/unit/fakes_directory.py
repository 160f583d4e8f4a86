"""An in-memory fake of the directory, rota and routing-rule methods of ``NotificationsRepository``, for unit
tests of the use cases (directory.py, route_rules.py, routing previews). It keeps documents as the real one
stores them (``_id`` keys, ``kind``, ``roles``) and answers the same shapes; the integration tests run the same
use cases on the real database."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from medsupport_shared.documents import parse_documents
from medsupport_shared.mongo import clamp_limit, decode_cursor, encode_cursor
from notifications.context import NotificationsContext
from notifications.repository import ROUTES, Document
from notifications.routing import DEFAULT_RULES, RouteRule
from notifications.safety import roles_of
from notifications.settings import NotificationsSettings


def _page(
    docs: list[Document], *, sort_field: str, descending: bool, limit: int | None, cursor: str | None
) -> tuple[list[Document], str | None]:
    """Keyset pagination on (sort_field, _id), as ``medsupport_shared.mongo.paginate`` does it."""
    size = clamp_limit(limit)

    def key(doc: Document) -> tuple[Any, Any]:
        return doc.get(sort_field), doc["_id"]

    ordered = sorted(docs, key=key, reverse=descending)
    if cursor:
        after = decode_cursor(cursor)
        ordered = [d for d in ordered if (key(d) < after if descending else key(d) > after)]
    if len(ordered) <= size:
        return [copy.deepcopy(d) for d in ordered], None
    last = ordered[size - 1]
    return [copy.deepcopy(d) for d in ordered[:size]], encode_cursor(last.get(sort_field), last["_id"])


class FakeDirectoryRepository:
    """People, rotas, routing rules and role grants on dicts."""

    def __init__(self, *, fixed_people: dict[str, Document] | None = None) -> None:
        self._fixed_people = dict(fixed_people or {})
        self.people: dict[str, Document] = {}
        self.rotas: dict[str, Document] = {}
        self.routes: dict[str, Document] = {}
        self.role_grants: list[Document] = []

    async def seed_default_rules(self) -> int:
        if self.routes:
            return 0
        for rule in DEFAULT_RULES:
            self.routes[rule.id] = {"_id": rule.id, **rule.model_dump(mode="json", exclude={"id"})}
        return len(DEFAULT_RULES)

    # ---------------------------------------------------------------- people

    @contextlib.contextmanager
    def people_read_once(self) -> Iterator[None]:
        yield  # the fake reads nothing from a database

    async def person(self, *, person_id: str) -> Document | None:
        if person_id in self._fixed_people:
            return self._fixed_people[person_id]
        found = self.people.get(person_id)
        return copy.deepcopy(found) if found is not None else None

    async def save_person(self, *, person_id: str, fields: Document) -> None:
        self.people[person_id] = {**self.people.get(person_id, {"_id": person_id}), **copy.deepcopy(fields)}

    async def people_by_id(self, *, person_ids: list[str]) -> dict[str, Document]:
        return {pid: copy.deepcopy(self.people[pid]) for pid in person_ids if pid in self.people}

    async def write_people(self, *, new: dict[str, Document], changed: dict[str, Document]) -> None:
        for person_id, fields in {**new, **changed}.items():
            await self.save_person(person_id=person_id, fields=fields)

    def _staff(self) -> list[Document]:
        return [d for d in self.people.values() if d.get("kind") == "staff"]

    async def staff_with_role(self, *, role: str) -> list[Document]:
        found = [d for d in self._staff() if role in (d.get("roles") or [])]
        return [copy.deepcopy(d) for d in sorted(found, key=lambda d: d["_id"])]

    async def page_people(self, *, limit: int | None, cursor: str | None) -> tuple[list[Document], str | None]:
        return _page(self._staff(), sort_field="_id", descending=False, limit=limit, cursor=cursor)

    async def staff_ids(self) -> set[str]:
        return {d["_id"] for d in self._staff()}

    async def staff_roles(self) -> dict[str, frozenset[str]]:
        return {d["_id"]: roles_of(d) for d in self._staff()}

    async def record_role_change(self, *, change: Document) -> None:
        self.role_grants.append(copy.deepcopy(change))

    async def page_role_changes(self, *, limit: int | None, cursor: str | None) -> tuple[list[Document], str | None]:
        return _page(self.role_grants, sort_field="at", descending=True, limit=limit, cursor=cursor)

    # ---------------------------------------------------------------- rotas

    async def rota(self, *, team: str) -> Document | None:
        found = self.rotas.get(team)
        return copy.deepcopy(found) if found is not None else None

    async def save_rota(self, *, team: str, rota: Document) -> None:
        self.rotas[team] = {"_id": team, **copy.deepcopy(rota)}

    async def rota_teams(self) -> set[str]:
        return set(self.rotas)

    # ---------------------------------------------------------------- routing rules

    async def rules_for_routing(self) -> list[RouteRule]:
        return await self.rules()

    async def rules(self) -> list[RouteRule]:
        docs = [self.routes[rule_id] for rule_id in sorted(self.routes)]
        return parse_documents(docs, RouteRule, collection=ROUTES, prepare=lambda d: {**d, "id": d["_id"]})

    async def insert_rule(self, *, rule: RouteRule) -> bool:
        if rule.id in self.routes:
            return False
        self.routes[rule.id] = {"_id": rule.id, **rule.model_dump(mode="json", exclude={"id"})}
        return True

    async def replace_rule(self, *, rule: RouteRule) -> None:
        self.routes[rule.id] = {"_id": rule.id, **rule.model_dump(mode="json", exclude={"id"})}

    async def delete_rule(self, *, rule_id: str) -> bool:
        return self.routes.pop(rule_id, None) is not None


@dataclass
class FakeDirectoryContext:
    """What the directory and rule use cases read of ``NotificationsContext``: the repository and settings."""

    repo: FakeDirectoryRepository = field(default_factory=FakeDirectoryRepository)
    settings: NotificationsSettings = field(default_factory=NotificationsSettings)

    def as_context(self) -> NotificationsContext:
        return cast(NotificationsContext, self)


def staff(roles: list[str], **fields: Any) -> Document:
    return {"kind": "staff", "roles": roles, **fields}
