"""An open-loop load driver over a lean HTTP/1.1 keep-alive client.

Open loop: request *i* is due at ``start + i / rate`` whatever happened to the earlier ones, and its
latency is measured from that due time, not from when a connection became free. A slow server
therefore shows up as queueing in the percentiles instead of silently lowering the offered rate
(no coordinated omission). The client is a few dozen lines over asyncio streams so that the driver
spends little of the shared 2 cores (httpx costs several times more CPU per request)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bench.stats import Recorder


class HttpError(Exception):
    pass


@dataclass
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


KEEP_ALIVE_SECONDS = 3.0
"""Idle connections older than this are not reused: uvicorn closes them after 5 s of silence."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.idle_since = time.monotonic()

    async def request(self, head: bytes, body: bytes) -> Response:
        self.writer.write(head + body)
        status_and_headers = await self.reader.readuntil(b"\r\n\r\n")
        lines = status_and_headers.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length, chunked, close = 0, False, False
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            parts = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                parts.append(chunk[:-2])
            data = b"".join(parts)
        else:
            data = await self.reader.readexactly(length) if length else b""
        if close:
            self.close()
        return Response(status, data)

    @property
    def closed(self) -> bool:
        return self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


class HttpClient:
    """A pool of keep-alive connections to one origin; ``max_connections`` bounds concurrency."""

    def __init__(self, base_url: str, *, max_connections: int = 64, timeout: float = 30.0) -> None:
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._host_header = f"{self.host}:{self.port}".encode()
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(max_connections)
        self.timeout = timeout

    async def request(
        self, method: str, path: str, *, json_body: Any = None, headers: dict[str, str] | None = None
    ) -> Response:
        body = b"" if json_body is None else json.dumps(json_body, separators=(",", ":")).encode()
        head = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self._host_header]
        if json_body is not None:
            head.append(b"Content-Type: application/json")
        head.append(f"Content-Length: {len(body)}".encode())
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}".encode())
        raw_head = b"\r\n".join(head) + b"\r\n\r\n"
        async with self._slots:
            conn = self._idle.pop() if self._idle else None
            if conn is not None and time.monotonic() - conn.idle_since > KEEP_ALIVE_SECONDS:
                conn.close()  # the server may be closing it right now: a reused one would fail mid-request
                conn = None
            if conn is None or conn.closed:
                reader, writer = await asyncio.open_connection(self.host, self.port)
                conn = _Connection(reader, writer)
            try:
                response = await asyncio.wait_for(conn.request(raw_head, body), self.timeout)
            except BaseException:
                conn.close()
                raise
            if not conn.closed:
                conn.idle_since = time.monotonic()
                self._idle.append(conn)
            return response

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return await self.request("GET", path, headers=headers)

    async def post(self, path: str, json_body: Any, headers: dict[str, str] | None = None) -> Response:
        return await self.request("POST", path, json_body=json_body, headers=headers)

    async def put(self, path: str, json_body: Any, headers: dict[str, str] | None = None) -> Response:
        return await self.request("PUT", path, json_body=json_body, headers=headers)

    async def aclose(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()


Operation = Callable[[int], Awaitable[bool]]
"""One request of the load: gets its sequence number, returns whether it succeeded (raising counts as failed)."""


@dataclass
class OpenLoopResult:
    rate: float
    duration: float
    recorder: Recorder
    sent: int
    achieved_rate: float
    late_starts: int
    """Requests the driver itself started more than 5 ms after their due time (driver overload)."""

    def summary(self) -> dict[str, Any]:
        return {
            "offered_rate": self.rate,
            "achieved_rate": round(self.achieved_rate, 1),
            "late_starts": self.late_starts,
            **self.recorder.summary(),
        }


async def open_loop(
    rate: float, duration: float, operation: Operation, *, drain_timeout: float = 30.0
) -> OpenLoopResult:
    """Fire ``operation`` at ``rate`` per second for ``duration`` seconds; latency from each due time."""
    recorder = Recorder()
    total = max(1, int(rate * duration))
    interval = 1.0 / rate
    tasks: set[asyncio.Task[None]] = set()
    late = 0
    completed_at = 0.0

    async def one(seq: int, due: float) -> None:
        nonlocal completed_at
        try:
            ok = await operation(seq)
        except Exception as exc:
            recorder.fail(type(exc).__name__)
            return
        done = time.perf_counter()
        completed_at = max(completed_at, done)
        if ok:
            recorder.record((done - due) * 1000.0)
        else:
            recorder.fail("status")

    start = time.perf_counter() + 0.01
    for seq in range(total):
        due = start + seq * interval
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elif delay < -0.005:
            late += 1
        task = asyncio.create_task(one(seq, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    if tasks:
        _done, pending = await asyncio.wait(set(tasks), timeout=drain_timeout)
        for task in pending:
            task.cancel()
            recorder.fail("timeout")
    elapsed = max(completed_at, start + total * interval) - start
    return OpenLoopResult(rate, duration, recorder, total, recorder.count / elapsed if elapsed > 0 else 0.0, late)


async def poll(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
    """Wait until ``condition()`` holds or ``timeout`` passes (external state: nothing to await on)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)
    return True
