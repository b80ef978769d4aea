"""The load benchmark's lean HTTP/1.1 client reads every response framing a server may use, keeps the
connection alive between requests, and reports a dead connection as an error it recovers from."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
from http1 import Connection, HttpError

RESPONSES = [
    b'HTTP/1.1 201 Created\r\ncontent-type: application/json\r\ncontent-length: 14\r\n\r\n{"a": "first"}',
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n",
    b"HTTP/1.1 422 Unprocessable Content\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    b"HTTP/1.0 200 OK\r\n\r\nto the end",
    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 3\r\n\r\n{}\n",  # then the server hangs up
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nafter",
]


async def _serve(seen: list[tuple[int, bytes]]) -> tuple[asyncio.Server, int]:
    """Answers the n-th request (over all connections) with RESPONSES[n]; records which connection
    (by its number) carried each request, and the request's body."""
    count = 0
    connections = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal count, connections
        connections += 1
        me = connections
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            length = next(int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length"))
            seen.append((me, await reader.readexactly(length)))
            response = RESPONSES[count]
            count += 1
            writer.write(response)
            await writer.drain()
            if b"close" in response or b"HTTP/1.0" in response or b" 500 " in response:
                break
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_reads_each_framing_and_reconnects_after_a_close() -> None:
    async def run() -> list[tuple[int, bytes]]:
        seen: list[tuple[int, bytes]] = []
        server, port = await _serve(seen)
        conn = Connection(f"http://127.0.0.1:{port}", timeout_s=5)
        got = []
        for i in range(6):
            got.append(await conn.send(Connection.request("POST", "/x", f"body {i}".encode(), {"A": "b"})))
        await conn.close()
        server.close()
        await server.wait_closed()
        assert got == [
            (201, b'{"a": "first"}'),
            (200, b"hello, world"),
            (422, b"{}"),
            (200, b"to the end"),
            (500, b"{}\n"),
            (200, b"after"),
        ]
        return seen

    seen = asyncio.run(run())
    # the first three requests share one kept-alive connection; after "Connection: close", a body read
    # to the end, or a 500, a new one opens
    assert seen == [(1, b"body 0"), (1, b"body 1"), (1, b"body 2"), (2, b"body 3"), (3, b"body 4"), (4, b"body 5")]


def test_a_server_that_is_gone_is_an_error_not_a_hang() -> None:
    async def run() -> None:
        server, port = await _serve([])
        server.close()
        await server.wait_closed()
        with pytest.raises(HttpError):
            await Connection(f"http://127.0.0.1:{port}", timeout_s=5).send(Connection.request("GET", "/", b"", {}))

    asyncio.run(run())


def test_only_plain_http_urls() -> None:
    with pytest.raises(ValueError, match="http:// URL"):
        Connection("https://example.org")


def test_an_answer_that_is_not_http_is_an_error() -> None:
    async def run() -> None:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"SSH-2.0-OpenSSH_9.6\r\n\r\n")
            await writer.drain()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        with pytest.raises(HttpError, match=r"not an HTTP/1\.x response"):
            await Connection(f"http://127.0.0.1:{port}", timeout_s=5).send(Connection.request("GET", "/", b"", {}))
        server.close()
        await server.wait_closed()

    asyncio.run(run())
