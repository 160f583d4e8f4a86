"""Resident memory of each service process: at idle after start-up, and the peak under load."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import psutil

from bench.stack import Process


class MemorySampler:
    """Samples every process's RSS twice a second while load runs (the kernel's VmHWM is kept too)."""

    def __init__(self, processes: dict[str, Process]) -> None:
        self.processes = processes
        self.idle: dict[str, float] = {}
        self.peak: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    def snapshot_idle(self) -> None:
        for name, process in self.processes.items():
            with contextlib.suppress(psutil.Error):
                self.idle[name] = process.rss_mb()

    async def _run(self) -> None:
        while True:
            for name, process in self.processes.items():
                with contextlib.suppress(psutil.Error):
                    self.peak[name] = max(self.peak.get(name, 0.0), process.rss_mb())
            await asyncio.sleep(0.5)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def report(self, loaded: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, process in self.processes.items():
            out[name] = {
                "idle_rss_mb": self.idle.get(name),
                "loaded": name in loaded,
                "peak_rss_under_load_mb": self.peak.get(name) if name in loaded else None,
                "kernel_peak_rss_mb": process.peak_rss_mb(),
                "cpu_seconds": round(process.cpu_seconds(), 1),
            }
        return out
