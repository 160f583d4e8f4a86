"""Independent awaits run side by side, each started only inside its own task.

``asyncio.gather(f(), g())`` builds both coroutines first: should ``g`` fail while being called (a replaced or
broken callable), ``f()`` is never awaited. Handing over callables avoids that, and the first failure is
raised as itself (no exception group), so callers' ``except`` clauses keep working."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")


async def _run(call: Callable[[], Awaitable[A]]) -> A:
    return await call()


async def both(first: Callable[[], Awaitable[A]], second: Callable[[], Awaitable[B]]) -> tuple[A, B]:
    a, b = await asyncio.gather(_run(first), _run(second))
    return a, b


async def all_three(
    first: Callable[[], Awaitable[A]], second: Callable[[], Awaitable[B]], third: Callable[[], Awaitable[C]]
) -> tuple[A, B, C]:
    a, b, c = await asyncio.gather(_run(first), _run(second), _run(third))
    return a, b, c


async def nothing() -> None:
    """For a branch with nothing to do."""
