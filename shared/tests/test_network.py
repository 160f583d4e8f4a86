"""loopback_only(): nothing leaves the machine, loopback still works, and everything is as before after."""

import asyncio
import socket

import httpx
import pytest

from medsupport_shared.testing.network import loopback_only


def test_outside_addresses_and_names_are_refused_and_recorded():
    with loopback_only() as refused:
        with socket.socket() as sock, pytest.raises(ConnectionRefusedError):
            sock.connect(("192.0.2.10", 443))  # TEST-NET-1: never routed anyway
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo("hooks.example.edu", 443)
    assert refused == ["192.0.2.10:443", "hooks.example.edu"]


async def test_async_clients_are_refused_too_while_loopback_answers():
    server = await asyncio.start_server(lambda r, w: w.close(), "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with loopback_only() as refused:
            async with httpx.AsyncClient() as client:
                with pytest.raises(httpx.ConnectError):
                    await client.post("http://192.0.2.10/hook", json={})
                with pytest.raises(httpx.ConnectError):
                    await client.post("https://hooks.example.edu/hook", json={})
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
        assert refused == ["192.0.2.10:80", "hooks.example.edu"]
    finally:
        server.close()


def test_the_real_socket_functions_are_back_afterwards():
    before = (socket.socket.connect, socket.getaddrinfo)
    with loopback_only():
        assert socket.getaddrinfo is not before[1]
    assert (socket.socket.connect, socket.getaddrinfo) == before
