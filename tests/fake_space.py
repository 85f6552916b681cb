"""A scriptable aiohttp server speaking the Gradio queue routes, for faults a real
Gradio server will not produce on demand (dropped streams, garbage, silence...).

It serves the /config captured from the replica under Gradio 5.50.0, so the client
under test resolves /model_chat exactly as it does against the real server.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

CONFIG = (Path(__file__).parent / "data" / "configs" / "gradio-5.50.0.json").read_bytes()
EVENT_ID = "0123456789abcdef0123456789abcdef"

StreamScript = Callable[[web.StreamResponse, "FakeSpace"], Awaitable[None]]


def sse(message: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n\n"


def tuples_chat(query: str, text: str) -> list[Any]:
    return ["", [[query, text]], "You are a helpful assistant."]


def generating(data: list[Any], event_id: str = EVENT_ID) -> bytes:
    return sse(
        {
            "msg": "process_generating",
            "event_id": event_id,
            "output": {"data": data, "is_generating": True},
            "success": True,
        }
    )


def completed(data: list[Any], event_id: str = EVENT_ID) -> bytes:
    return sse({"msg": "process_completed", "event_id": event_id, "output": {"data": data}, "success": True})


CLOSE_STREAM = sse({"msg": "close_stream", "event_id": None})
HEARTBEAT = sse({"msg": "heartbeat", "event_id": None})


def chat_body(query: str, pieces: list[str]) -> list[bytes]:
    """The messages of a normal streamed answer, one per element."""
    out = [sse({"msg": "estimation", "event_id": EVENT_ID, "rank": 0, "queue_size": 1, "rank_eta": None})]
    out.append(sse({"msg": "process_starts", "event_id": EVENT_ID, "eta": None}))
    text = pieces[0]
    out.append(generating(tuples_chat(query, text)))
    for piece in pieces[1:]:
        text += piece
        out.append(generating([[], [["append", [0, 1], piece]], []]))
    out.append(completed(tuples_chat(query, text)))
    out.append(CLOSE_STREAM)
    return out


@dataclass
class JoinAnswer:
    status: int = 200
    body: bytes = b'{"event_id":"' + EVENT_ID.encode() + b'"}'
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeSpace:
    stream: StreamScript | None = None
    joins: list[JoinAnswer] = field(default_factory=list)
    join_bodies: list[dict[str, Any]] = field(default_factory=list)
    join_headers: list[dict[str, str]] = field(default_factory=list)
    cancels: list[dict[str, Any]] = field(default_factory=list)
    data_opens: int = 0
    config: bytes = CONFIG
    data_cookies: list[str] = field(default_factory=list)
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/config", self._config)
        app.router.add_post("/gradio_api/queue/join", self._join)
        app.router.add_get("/gradio_api/queue/data", self._data)
        app.router.add_post("/gradio_api/cancel", self._cancel)
        return app

    async def _config(self, request: web.Request) -> web.Response:
        response = web.Response(body=self.config, content_type="application/json")
        # Like the Spaces proxy's replica-stickiness cookie: the client must keep it.
        response.set_cookie("spaces-jwt", "cookie-secret-42")
        return response

    async def _join(self, request: web.Request) -> web.Response:
        import asyncio

        self.join_bodies.append(json.loads(await request.read()))
        self.join_headers.append(dict(request.headers))
        answer = self.joins.pop(0) if self.joins else JoinAnswer()
        if answer.delay:
            await asyncio.sleep(answer.delay)
        return web.Response(
            status=answer.status, body=answer.body, headers={"Content-Type": answer.content_type, **answer.headers}
        )

    async def _data(self, request: web.Request) -> web.StreamResponse:
        self.data_opens += 1
        self.data_cookies.append(request.headers.get("Cookie", ""))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        assert self.stream is not None, "no stream script"
        await self.stream(response, self)
        return response

    async def _cancel(self, request: web.Request) -> web.Response:
        self.cancels.append(json.loads(await request.read()))
        return web.json_response({"success": True})


def script(*chunks: bytes, delay: float = 0.0, end: bool = True) -> StreamScript:
    """Write ``chunks`` (with ``delay`` between them); end the body if ``end``."""
    import asyncio

    async def run(response: web.StreamResponse, space: FakeSpace) -> None:
        for chunk in chunks:
            await response.write(chunk)
            if delay:
                await asyncio.sleep(delay)
        if end:
            await response.write_eof()
        else:
            await asyncio.sleep(3600)

    return run
