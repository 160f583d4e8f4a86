"""Peer-support groups: who counts as staff, and which open group suits a student best."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from medsupport_shared.auth import Role

STAFF = (Role.FACULTY, Role.MENTOR, Role.COUNSELLOR, Role.WELLBEING_LEAD, Role.ADMIN)


def group_rank(interests: set[str], group: Mapping[str, Any]) -> tuple[int, str]:
    """Most shared interests first, then by id."""
    return -len(interests & set(group.get("interests") or [])), str(group["_id"])
