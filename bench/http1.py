"""A lean HTTP/1.1 keep-alive client for load generation on the server's own machine.

The load generator shares the 2 cores with the server it measures. httpx spent about 1.2 ms of CPU
per request there (the server spent about 4), CPU the server then did not get; this client writes
pre-encoded requests on a kept-alive connection and reads the status, headers and body, and spends
about 0.2 ms. It speaks only what the benchmark needs: one request at a time per
connection, bodies by ``Content-Length`` or chunked.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit


class HttpError(Exception):
    """The connection failed or the server answered with something that is not HTTP/1.1."""


class Connection:
    def __init__(self, url: str, timeout_s: float = 60.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"an http:// URL with a host is needed, not {url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.timeout_s = timeout_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @staticmethod
    def request(method: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
        """A complete request, to encode once and send many times."""
        head = [f"{method} {path} HTTP/1.1", "Host: load", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send an encoded request and return the response's status and body. On any failure the
        connection is dropped (the next send opens a new one) and ``HttpError`` is raised."""
        try:
            async with asyncio.timeout(self.timeout_s):
                if self._reader is not None and self._reader.at_eof():  # the server closed it since
                    await self.close()
                if self._writer is None:
                    self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
                assert self._reader is not None
                self._writer.write(request)
                return await self._response(self._reader)
        except (OSError, asyncio.IncompleteReadError, ValueError, HttpError) as e:  # TimeoutError is an OSError
            await self.close()
            raise HttpError(str(e) or type(e).__name__) from e

    async def _response(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        status_line = await reader.readuntil(b"\r\n")
        version, _, rest = status_line.partition(b" ")
        if not version.startswith(b"HTTP/1."):
            raise HttpError(f"not an HTTP/1.x status line: {status_line[:80]!r}")
        status = int(rest[:3])
        length: int | None = None
        chunked = close = False
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
            elif name == b"connection" and b"close" in value.lower():
                close = True
        if chunked:
            body = bytearray()
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                body += await reader.readexactly(size)
                await reader.readexactly(2)
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                pass
            data = bytes(body)
        elif length is not None:
            data = await reader.readexactly(length)
        else:  # the body runs to the end of the connection
            data = await reader.read()
            close = True
        if close or status >= 500:  # after an error the server may drop the connection without saying so
            await self.close()
        return status, data

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
