"""A lean HTTP/1.1 keep-alive client for load generation on the server's own machine.

The load generator shares the 2 cores with the server it measures, and CPU it spends is CPU the
server does not get. httpx spent about 1.2 ms per request there; a client on asyncio's streams about
0.2 ms. This one is a protocol (no stream reader, no await per header line) that hands each response
to httptools' C parser, the one uvicorn uses, and writes pre-encoded requests on a kept-alive
connection. It speaks only what the benchmark needs: one request at a time per connection; bodies
by ``Content-Length``, chunked, or to the end of the connection.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httptools


class HttpError(Exception):
    """The connection failed or the server answered with something that is not HTTP/1.1."""


#: (status, body, whether the connection may carry another request)
_Response = tuple[int, bytes, bool]


class _Protocol(asyncio.Protocol):
    """One connection: feeds what arrives to the parser and completes ``waiter`` with the response."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[_Response] | None = None
        self.closed = False
        self._parser = httptools.HttpResponseParser(self)
        self._body: list[bytes] = []
        self._headers_done = False
        self._framed = False  # Content-Length or Transfer-Encoding: else the body runs to the end

    # -- asyncio ----------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError as e:
            self._fail(HttpError(f"not an HTTP/1.x response: {e}"))
            if self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._headers_done and not self._framed:  # a body read to the end of the connection
            self._done(self._parser.get_status_code(), keep_alive=False)
        else:
            self._fail(HttpError(str(exc) if exc else "the server closed the connection"))

    # -- httptools' callbacks ---------------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._body, self._headers_done, self._framed = [], False, False

    def on_header(self, name: bytes, _value: bytes) -> None:
        if name.lower() in (b"content-length", b"transfer-encoding"):
            self._framed = True

    def on_headers_complete(self) -> None:
        self._headers_done = True

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._done(self._parser.get_status_code(), keep_alive=self._parser.should_keep_alive())

    # -----------------------------------------------------------------------------------------------
    def _done(self, status: int, *, keep_alive: bool) -> None:
        waiter, self.waiter = self.waiter, None
        self._headers_done = False
        if waiter is not None and not waiter.done():
            waiter.set_result((status, b"".join(self._body), keep_alive))

    def _fail(self, error: HttpError) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(error)


class Connection:
    def __init__(self, url: str, timeout_s: float = 60.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"an http:// URL with a host is needed, not {url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.timeout_s = timeout_s
        self._protocol: _Protocol | None = None

    @staticmethod
    def request(method: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        """A complete request, to encode once and send many times."""
        head = [f"{method} {path} HTTP/1.1", "Host: load", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send an encoded request and return the response's status and body. On any failure the
        connection is dropped (the next send opens a new one) and ``HttpError`` is raised."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.timeout_s):
                protocol = self._protocol
                if protocol is None or protocol.closed:  # none yet, or the server closed it since
                    await self.close()
                    _, protocol = await loop.create_connection(_Protocol, self.host, self.port)
                    self._protocol = protocol
                assert protocol.transport is not None
                waiter: asyncio.Future[_Response] = loop.create_future()
                protocol.waiter = waiter
                protocol.transport.write(request)
                status, data, keep_alive = await waiter
        except (OSError, ValueError, HttpError) as e:  # TimeoutError is an OSError
            await self.close()
            raise HttpError(str(e) or type(e).__name__) from e
        if not keep_alive or status >= 500:  # after an error the server may drop the connection unsaid
            await self.close()
        return status, data

    async def close(self) -> None:
        protocol, self._protocol = self._protocol, None
        if protocol is not None and protocol.transport is not None:
            protocol.transport.close()
