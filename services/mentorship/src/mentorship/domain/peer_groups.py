"""Peer-support groups: which open group suits a student best."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def group_rank(interests: set[str], group: Mapping[str, Any]) -> tuple[int, str]:
    """Most shared interests first, then by id."""
    return -len(interests & set(group.get("interests") or [])), str(group["_id"])
