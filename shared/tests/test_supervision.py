"""The supervised task group: no background task dies silently, loops come back, shutdown drains."""

import asyncio
import gc
import itertools
import logging

from medsupport_shared.supervision import BACKGROUND_FAILURES, TaskSupervisor
from medsupport_shared.testing import eventually


def failures(service: str, task: str) -> float:
    return BACKGROUND_FAILURES.labels(service, task)._value.get()


async def test_a_failed_fire_and_forget_task_is_logged_with_its_context_and_counted(caplog):
    reported: list[dict] = []
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: reported.append(context))
    try:
        tasks = TaskSupervisor("sup-a")

        async def publish() -> None:
            raise ConnectionError("AutoReconnect: the database went away")

        with caplog.at_level(logging.ERROR, logger="medsupport_shared.supervision"):
            task = tasks.spawn(publish(), name="outbox-publish", collection="notes")
            await asyncio.wait({task})
            await asyncio.sleep(0)  # the done callback runs on the next turn of the loop
        del task
        gc.collect()  # an unretrieved exception is reported when its task is collected
    finally:
        loop.set_exception_handler(previous)
    assert not reported, "asyncio reported a task exception that was never retrieved"
    assert failures("sup-a", "outbox-publish") == 1 and tasks.failures == {"outbox-publish": 1}
    [record] = [r for r in caplog.records if r.getMessage() == "background task failed"]
    assert record.task == "outbox-publish" and record.collection == "notes" and "AutoReconnect" in record.error
    assert tasks.pending == 0


async def test_a_loop_that_raises_is_restarted_with_backoff_until_it_returns():
    tasks = TaskSupervisor("sup-b", min_backoff=0.01, max_backoff=0.02)
    runs: list[float] = []

    async def consumer() -> None:
        runs.append(asyncio.get_running_loop().time())
        if len(runs) < 4:
            raise RuntimeError("crashed")

    tasks.supervise("consumer-demo", consumer)
    await eventually(lambda: len(runs) == 4, timeout=5)
    await tasks.stop_loops()
    assert failures("sup-b", "consumer-demo") == 3
    gaps = [b - a for a, b in itertools.pairwise(runs)]
    assert all(gap >= 0.009 for gap in gaps), gaps  # it waited before each restart


async def test_a_failing_periodic_job_is_counted_and_runs_again_at_its_next_tick(caplog):
    tasks = TaskSupervisor("sup-c")
    calls = 0

    async def sweep() -> None:
        nonlocal calls
        calls += 1
        if calls <= 3:
            raise OSError("database down")

    with caplog.at_level(logging.INFO, logger="medsupport_shared.supervision"):
        tasks.every(0.01, "sweep", sweep)
        await eventually(lambda: calls >= 5, timeout=5)
        await tasks.stop_loops()
    assert failures("sup-c", "sweep") == 3
    messages = [r.getMessage() for r in caplog.records]
    # the traceback once per streak, then one line per repeat, and a line when it recovers
    assert messages.count("background task failed") == 1 and messages.count("background task failed again") == 2
    assert "background job recovered" in messages


async def test_drain_waits_for_work_in_flight_and_cancels_what_outlives_the_deadline():
    tasks = TaskSupervisor("sup-d")
    finished: list[str] = []
    release = asyncio.Event()

    async def delivery(name: str) -> None:
        await release.wait()
        finished.append(name)

    async def stuck() -> None:
        await asyncio.Event().wait()

    tasks.spawn(delivery("a"), name="delivery")
    stuck_task = tasks.spawn(stuck(), name="stuck")
    asyncio.get_running_loop().call_later(0.05, release.set)
    await tasks.drain(timeout=0.5)
    assert finished == ["a"] and stuck_task.cancelled() and tasks.pending == 0
    assert failures("sup-d", "stuck") == 0  # cancelled at shutdown is not a failure
