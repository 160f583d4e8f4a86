"""Mentorship matching: time and memory for 2,000 students × 400 mentors, and how it scales."""

from __future__ import annotations

from typing import Any

from bench.http_bench import Profile


def matching_benchmark(profile: Profile) -> dict[str, Any]:
    return {"available": False, "reason": "services/mentorship has no matching entry point yet"}
