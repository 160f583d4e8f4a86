"""One supervised task group per service process: every background coroutine runs through it.

Nothing dies silently: a failure is logged with the task's name and context and counted in
``medsupport_background_task_failures_total``; a long-running loop that raises is restarted with
exponential backoff; a periodic job that fails runs again at its next tick (its interval paces the
retries, so work left by an outage is picked up within one interval of recovery). Shutdown stops the
loops, then drains the fire-and-forget tasks (outbox publishes, deliveries) up to a deadline; what is
still running then is cancelled and left to the relay and sweeps, which work from MongoDB state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from prometheus_client import Counter

log = logging.getLogger(__name__)
BACKGROUND_FAILURES = Counter(
    "medsupport_background_task_failures_total",
    "Background tasks (loops, sweeps, fire-and-forget publishes and deliveries) that raised",
    ["service", "task"],
)
Job = Callable[[], Awaitable[Any]]


class TaskSupervisor:
    def __init__(self, service: str, *, min_backoff: float = 0.5, max_backoff: float = 30.0) -> None:
        self._service = service
        self._min_backoff = min_backoff
        self._max_backoff = max_backoff
        self._loops: dict[str, asyncio.Task[None]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.failures: dict[str, int] = {}
        """Failures per task name since start (tests and debugging; the metric is the durable view)."""

    # ------------------------------------------------------------ fire and forget

    def spawn(self, coro: Coroutine[Any, Any, Any], *, name: str | None = None, **context: Any) -> asyncio.Task[Any]:
        """Run ``coro`` in the background; a failure is logged with ``context`` and counted, never lost."""
        task_name: str = name or str(getattr(coro, "__qualname__", "task"))
        task = asyncio.create_task(coro, name=task_name)
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._finished(done, task_name, context))
        return task

    def _finished(self, task: asyncio.Task[Any], name: str, context: dict[str, Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()  # retrieved here, so asyncio never reports it as "never retrieved"
        if exc is not None:
            self._record_failure(name, exc, context, first=True)

    # ------------------------------------------------------------ loops

    def supervise(self, name: str, run: Job) -> None:
        """Run ``run()`` until it returns; restart it with backoff whenever it raises."""
        self._loops[name] = asyncio.create_task(self._restarting(name, run), name=name)

    def every(self, seconds: float, name: str, job: Job) -> None:
        """Run ``job`` now and then every ``seconds``; a failure is logged and counted, and the job
        runs again at the next tick."""
        self._loops[name] = asyncio.create_task(self._periodic(seconds, name, job), name=name)

    async def _restarting(self, name: str, run: Job) -> None:
        backoff = self._min_backoff
        while True:
            started = time.monotonic()
            try:
                await run()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if time.monotonic() - started > 60:  # it ran a good while: a fresh failure, not a crash loop
                    backoff = self._min_backoff
                self._record_failure(name, exc, {"restart_in_seconds": backoff}, first=True)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._max_backoff)

    async def _periodic(self, seconds: float, name: str, job: Job) -> None:
        failing = 0
        while True:
            try:
                await job()
                if failing:
                    log.info("background job recovered", extra={"task": name, "failed_runs": failing})
                failing = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failing += 1
                self._record_failure(name, exc, {"failed_runs": failing}, first=failing == 1)
            await asyncio.sleep(seconds)

    def _record_failure(self, name: str, exc: BaseException, context: dict[str, Any], *, first: bool) -> None:
        BACKGROUND_FAILURES.labels(self._service, name).inc()
        self.failures[name] = self.failures.get(name, 0) + 1
        extra = {"task": name, "error": repr(exc)[:500], **context}
        if first:  # the traceback once per streak; an outage's repeats are one line each
            log.error("background task failed", extra=extra, exc_info=exc)
        else:
            log.warning("background task failed again", extra=extra)

    # ------------------------------------------------------------ shutdown

    async def wait_for(self, names: list[str], timeout: float) -> None:
        """Wait for the named loops to return by themselves (e.g. consumers told to stop)."""
        tasks = [self._loops[n] for n in names if n in self._loops]
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    async def stop_loops(self) -> None:
        loops = list(self._loops.values())
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        self._loops.clear()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the fire-and-forget tasks (and any they start) up to ``timeout``; cancel the rest."""
        deadline = time.monotonic() + timeout
        while self._tasks and (left := deadline - time.monotonic()) > 0:
            await asyncio.wait(list(self._tasks), timeout=left)
        leftovers = list(self._tasks)
        if leftovers:
            log.warning(
                "background tasks cancelled at shutdown; the relay and sweeps finish them from the database",
                extra={"tasks": sorted(t.get_name() for t in leftovers)},
            )
            for task in leftovers:
                task.cancel()
            await asyncio.gather(*leftovers, return_exceptions=True)

    @property
    def pending(self) -> int:
        return len(self._tasks)
