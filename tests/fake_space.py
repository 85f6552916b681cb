"""A scriptable aiohttp server speaking the Gradio queue routes, for faults a real
Gradio server will not produce on demand (dropped streams, garbage, silence...).

It serves the /config captured from the replica under Gradio 5.50.0, so the client
under test resolves /model_chat exactly as it does against the real server.
"""

import asyncio
import contextlib
import json
import threading
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
#: The job failed and the Space hides why (``show_error=False``).
HIDDEN_FAILURE = sse(
    {"msg": "process_completed", "event_id": EVENT_ID, "output": {"error": None}, "success": False, "title": None}
)


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
    hang: bool = False  # never answer (until the client leaves)
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
    # Set at the first cancel: a thread-safe event, so that a test on another thread
    # (the sync client's) can wait for it as well as one in the server's loop.
    cancel_seen: threading.Event = field(default_factory=threading.Event)

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
        self.join_bodies.append(json.loads(await request.read()))
        self.join_headers.append(dict(request.headers))
        answer = self.joins.pop(0) if self.joins else JoinAnswer()
        if answer.hang:
            await asyncio.Event().wait()
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
        self.cancel_seen.set()
        return web.json_response({"success": True})


async def wait_for_cancel(space: FakeSpace, within: float = 30) -> None:
    """Until the client has posted a cancel: the server's loop runs meanwhile."""
    if not await asyncio.to_thread(space.cancel_seen.wait, within):
        raise AssertionError(f"no cancel was posted within {within:g} s")


class Gate:
    """A point of a scripted stream where the server waits for the test: each
    ``open()`` lets one wait through. Opens are counted, so one that comes before the
    server reaches the gate is not lost."""

    def __init__(self) -> None:
        self._passes = asyncio.Semaphore(0)

    def open(self, times: int = 1) -> None:
        for _ in range(times):
            self._passes.release()

    async def passed(self) -> None:
        await self._passes.acquire()


@dataclass(frozen=True)
class Heartbeats:
    """Heartbeats ``every`` seconds, ``times`` of them or forever: for the tests whose
    subject is time passing (the idle and total timeouts), and only those."""

    every: float
    times: int | None = None


@dataclass(frozen=True)
class Pause:
    """The server waits this long before its next write, as a model does between tokens: the
    write after it reaches the client in a read of its own."""

    seconds: float


Step = bytes | Gate | Heartbeats | Pause


def script(*steps: Step, end: bool = True) -> StreamScript:
    """Write ``steps`` in order, waiting at each ``Gate`` for the test to open it; then
    end the body if ``end``, else hold it open until the client leaves."""

    async def run(response: web.StreamResponse, space: FakeSpace) -> None:
        for step in steps:
            if isinstance(step, Gate):
                await step.passed()
            elif isinstance(step, Pause):
                await asyncio.sleep(step.seconds)
            elif isinstance(step, Heartbeats):
                sent = 0
                while step.times is None or sent < step.times:
                    await asyncio.sleep(step.every)
                    await response.write(HEARTBEAT)
                    sent += 1
            else:
                await response.write(step)
        if end:
            await response.write_eof()
        else:
            await asyncio.Event().wait()

    return run


def under_way(query: str, pieces: list[str]) -> list[Step]:
    """An answer's first messages, each piece in a read of its own. The client holds each
    read's text back until the next read extends it, so a consumer gets every piece's text
    but the last while the server is still writing: a chat under way."""
    body = chat_body(query, pieces)
    steps: list[Step] = [*body[:3]]
    for message in body[3 : 2 + len(pieces)]:
        steps += [Pause(0.02), message]
    return steps


class Lockstep:
    """A normal answer written as fast as a streaming client reads it, and no faster.

    The client holds each snapshot of the reply back one read (a later one may replace
    it), so the text of piece N reaches the consumer once piece N+1 was read. The
    server writes the first two pieces, then each next message (piece N+1, then the
    completion) only once the consumer has received pieces up to N-1: a delta cannot
    arrive later than that without the client buffering. The consumer reports each
    delta to :meth:`received`; :meth:`check` then says whether the answer streamed.

    Each wait gives up after ``patience`` seconds (then the server writes on), so that
    a client that buffers the answer fails :meth:`check` instead of hanging the test.
    The first two pieces usually arrive in separate reads (the server pauses between
    them); when they do not, the first wait gives up and the check still holds.
    """

    def __init__(self, query: str, pieces: list[str], *, patience: float = 5) -> None:
        self.pieces = pieces
        self.patience = patience
        self._body = chat_body(query, pieces)
        self._ends = [len("".join(pieces[: i + 1])) for i in range(len(pieces))]
        self.written = 0  # reply messages written: the pieces, then the completion
        self.seen: list[tuple[int, str]] = []  # (messages written then, delta) per delta
        self._text = ""
        self._free = False
        self._arrived = asyncio.Event()

    def covered(self) -> int:
        """How many pieces the consumer has received whole."""
        return sum(1 for end in self._ends if end <= len(self._text))

    def received(self, delta: str) -> None:
        if not delta:
            return
        self.seen.append((self.written, delta))
        self._text += delta
        self._arrived.set()

    def release(self) -> None:
        """Write the rest without waiting (for a consumer that reads the whole answer)."""
        self._free = True
        self._arrived.set()

    async def _until_covered(self, pieces: int) -> None:
        loop = asyncio.get_running_loop()
        give_up = loop.time() + self.patience
        while not self._free and self.covered() < pieces:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(give_up):
                    await self._arrived.wait()
            if loop.time() >= give_up:
                return

    def script(self) -> StreamScript:
        body = self._body
        messages = body[2:-1]  # the pieces, then the completion

        async def run(response: web.StreamResponse, space: FakeSpace) -> None:
            for message in body[:2]:
                await response.write(message)
            for index, message in enumerate(messages):
                if index == 1:
                    await asyncio.sleep(0.02)  # let the first piece be read alone
                elif index > 1:
                    await self._until_covered(index - 1)
                await response.write(message)
                self.written += 1
            await response.write(body[-1])
            await response.write_eof()

        return run

    def check(self) -> None:
        """The consumer got the answer, each delta at most one message behind the server,
        and the first one before the server had written the end."""
        assert self._text == "".join(self.pieces)
        assert self.seen, "no delta"
        assert self.seen[0][0] < len(self.pieces) + 1, f"the first delta came after the end: {self.seen}"
        text = ""
        for written, delta in self.seen:
            text += delta
            covered = sum(1 for end in self._ends if end <= len(text))
            assert written <= covered + 1, f"{delta!r} came {written - covered} messages late: {self.seen}"
