"""A loopback HTTP server written on raw sockets, for what aiohttp's web server will
not send: headers that trickle in, chunked bodies that turn to garbage, bodies that
never end. Each route is a coroutine that writes the whole response itself.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from .fake_space import CONFIG, EVENT_ID

Route = Callable[[asyncio.StreamWriter], Awaitable[None]]


def response(body: bytes, content_type: str = "application/json", status: str = "200 OK") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body


async def config(writer: asyncio.StreamWriter) -> None:
    writer.write(response(CONFIG))


async def join(writer: asyncio.StreamWriter) -> None:
    writer.write(response(b'{"event_id":"' + EVENT_ID.encode() + b'"}'))


@dataclass
class RawSpace:
    routes: dict[str, Route] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self.routes = {"/config": config, "/gradio_api/queue/join": join, **self.routes}
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1].split("?")[0]
                length = next((int(x.split(":")[1]) for x in lines if x.lower().startswith("content-length:")), 0)
                await reader.readexactly(length)
                self.paths.append(path)
                route = self.routes.get(path)
                if route is None:
                    writer.write(response(b"not found", "text/plain", "404 Not Found"))
                else:
                    await route(writer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
