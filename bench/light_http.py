"""A minimal HTTP/1.1 client for the load generator: JSON POSTs over a pool of keep-alive connections.

httpx spent about 3 ms of CPU per request here, as much as the intake service it was measuring, on the same
two cores. This client writes each request as one buffer and reads the status line, headers and a
`Content-Length` body, which is all the services answer with. It is for the benchmark only.
"""

import asyncio
import json
from typing import Any


class HttpError(Exception):
    """The connection failed or the answer could not be read; the caller may retry."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length, keep_alive = 0, True
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.lower()
            if name == "content-length":
                length = int(value)
            elif name == "connection" and value.strip().lower() == "close":
                keep_alive = False
        body = await self.reader.readexactly(length) if length else b""
        return status, body, keep_alive

    def close(self) -> None:
        self.writer.close()


class LightClient:
    """POSTs JSON to one server, at most `connections` requests in flight, each connection reused."""

    def __init__(self, host: str, port: int, headers: dict[str, str], connections: int = 64) -> None:
        self.host, self.port = host, port
        self.fixed_headers = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(connections)

    async def post_json(self, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        payload = json.dumps(body, separators=(",", ":")).encode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n{self.fixed_headers}{extra}\r\n"
        ).encode() + payload
        async with self._slots:
            reused = bool(self._idle)
            connection = self._idle.pop() if reused else await self._connect()
            try:
                status, answer, keep_alive = await connection.exchange(request)
            except asyncio.IncompleteReadError as exc:
                connection.close()
                if not (reused and not exc.partial):
                    raise HttpError(f"{type(exc).__name__}: {exc}") from exc
                # The server closed a connection that had been idle (uvicorn keeps one open 5 s) before our
                # request reached it: nothing was answered, so send it once more on a new connection.
                connection = await self._connect()
                status, answer, keep_alive = await self._exchange_once(connection, request)
            except (OSError, asyncio.LimitOverrunError, ValueError, IndexError) as exc:
                connection.close()
                raise HttpError(f"{type(exc).__name__}: {exc}") from exc
            if keep_alive:
                self._idle.append(connection)
            else:
                connection.close()
            return status, answer

    @staticmethod
    async def _exchange_once(connection: _Connection, request: bytes) -> tuple[int, bytes, bool]:
        try:
            return await connection.exchange(request)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError, IndexError) as exc:
            connection.close()
            raise HttpError(f"{type(exc).__name__}: {exc}") from exc

    async def _connect(self) -> _Connection:
        try:
            reader, writer = await asyncio.open_connection(self.host, self.port)
        except OSError as exc:
            raise HttpError(f"cannot connect: {exc}") from exc
        return _Connection(reader, writer)

    async def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()
