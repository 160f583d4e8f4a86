"""Independent awaits side by side: they overlap, the first failure is raised as itself, and a callable that
fails while being called leaves no coroutine behind un-awaited."""

import asyncio
import gc
import warnings

import pytest

from medsupport_shared.side_by_side import all_three, both, nothing


async def test_the_calls_overlap_and_answer_in_order():
    started = {"first": asyncio.Event(), "second": asyncio.Event()}

    def waiting_for(mine: str, other: str, answer):
        async def call():
            started[mine].set()
            await asyncio.wait_for(started[other].wait(), 1)  # times out when run one after the other
            return answer

        return call

    assert await both(waiting_for("first", "second", "a"), waiting_for("second", "first", 2)) == ("a", 2)
    for event in started.values():
        event.clear()
    three = await all_three(waiting_for("first", "second", "a"), waiting_for("second", "first", 2), nothing)
    assert three == ("a", 2, None)


async def test_the_first_failure_is_raised_as_itself():
    async def fine() -> int:
        return 1

    async def broken() -> int:
        raise LookupError("the database went away")

    with pytest.raises(LookupError, match="went away"):
        await both(fine, broken)


async def test_a_callable_failing_while_called_leaves_no_coroutine_unawaited():
    async def fine() -> int:
        return 1

    def fails_at_once():
        raise LookupError("replaced by something broken")

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(LookupError):
            await both(fine, fails_at_once)
        gc.collect()
