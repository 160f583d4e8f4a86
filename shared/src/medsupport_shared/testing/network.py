"""Keeps a test's traffic on this machine: while ``loopback_only()`` is active, any connection to an
address outside loopback, or any name lookup of another host, fails at once as refused.

A fuzzer registers webhook URLs of every shape (``https://x.example/…``, ``http://10.0.0.1/…``) and the
service then tries to deliver to them: nothing of that may leave the machine."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def _is_loopback_host(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    if host is None or not isinstance(host, str):
        return True  # a Unix socket path or a local lookup without a host
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@contextmanager
def loopback_only() -> Iterator[list[str]]:
    """Yields the list of refused destinations (host or host:port), for the test to look at."""
    refused: list[str] = []
    real_connect, real_connect_ex, real_getaddrinfo = (
        socket.socket.connect,
        socket.socket.connect_ex,
        socket.getaddrinfo,
    )

    def guard(address: Any) -> None:
        if isinstance(address, tuple) and not _is_loopback_host(address[0]):
            refused.append(f"{address[0]}:{address[1]}")
            raise ConnectionRefusedError(f"test network: {address[0]} is not on this machine")

    def connect(self: socket.socket, address: Any) -> None:
        guard(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard(address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not _is_loopback_host(host):
            refused.append(host.decode(errors="replace") if isinstance(host, bytes) else str(host))
            raise socket.gaierror(socket.EAI_NONAME, f"test network: {host} is not looked up")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo
    try:
        yield refused
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo
