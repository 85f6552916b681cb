"""A Space scripted in memory, for your tests: ``SpaceClient(url, transport=MemoryTransport(...))``.

Like ``httpx.MockTransport``, it replaces the network, not the client: your code runs
the real client (its parsing, events, errors) against answers you give, with no
socket and no Gradio. It is for testing code that *uses* qwen-space; it says nothing
about how a real Gradio release behaves (qwen-space's own tests run real Gradio servers
for that).

Give it the Space's ``/config`` (saved from ``https://OWNER-NAME.hf.space/config``), the
answer to ``queue/join`` and the bytes of the ``queue/data`` event stream, as the reads a
network would deliver them in. A :class:`QwenSpaceError` among the reads is raised by that
read (a connection that breaks mid-reply). Each chat reads the whole script again.
``run/predict`` answers ``predict`` (a ChatInterface's history goes in through it),
``/cancel`` succeeds, anything else is a 404. ``requests`` records what the client sent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ..protocol import JSONValue, QwenSpaceError
from .core.seam import MAX_ANSWER_SIZE, Answer, Deadline, StreamBody, StreamedBody
from .errors import ClientClosedError, UsageError

__all__ = ["MemoryTransport", "SentRequest"]

#: One read of the event stream, or the error that read raises.
Read = bytes | QwenSpaceError


@dataclass(frozen=True, slots=True)
class SentRequest:
    """One request the client made: its method, URL and body, and whether the token went with it."""

    method: str
    url: URL
    body: bytes | None
    token_sent: bool


def _reads(stream: object) -> tuple[Read, ...]:
    """The script's reads; a str, a number or a foreign exception would otherwise fail deep
    in the protocol instead of here."""
    reads: tuple[object, ...] = (
        (stream,) if isinstance(stream, bytes) else tuple(stream) if isinstance(stream, (list, tuple)) else ()
    )
    checked = tuple(r for r in reads if isinstance(r, (bytes, QwenSpaceError)))
    if not isinstance(stream, (bytes, list, tuple)) or len(checked) != len(reads):
        raise UsageError(
            "MemoryTransport's stream= is the stream's bytes, or a list of reads, each bytes or a "
            "QwenSpaceError to raise there (an empty bytes ends the stream, as a closed connection does)"
        )
    return checked


class MemoryTransport:
    """A ``SpaceTransport`` that answers from memory (see the module's text)."""

    def __init__(
        self,
        *,
        config: Mapping[str, JSONValue] | bytes,
        join: Mapping[str, JSONValue] | bytes,
        stream: bytes | Sequence[Read],
        predict: Mapping[str, JSONValue] | bytes = b'{"data": []}',
    ) -> None:
        self._config = _json(config)
        self._join = _json(join)
        self._predict = _json(predict)
        self._reads = _reads(stream)
        self._token = False
        self.requests: list[SentRequest] = []
        self.closed = False

    def __repr__(self) -> str:
        return f"<MemoryTransport requests={len(self.requests)} closed={self.closed}>"

    @property
    def sends_token(self) -> bool:
        return self._token

    def use_token(self, send: bool) -> None:
        self._token = send

    async def log_in(self, base: URL, *, within: float | None, deadline: Deadline | None = None) -> None:
        return None

    async def send(
        self,
        method: str,
        url: URL,
        *,
        what: str,
        phase: str,
        within: float | None,
        read: float | None = None,
        limit: int = MAX_ANSWER_SIZE,
        body: bytes | StreamedBody | None = None,
        deadline: Deadline | None = None,
        doing: str = "",
        cancel: bool = False,
        content_type: str = "application/json",
    ) -> Answer:
        if self.closed and not cancel:
            raise ClientClosedError("this SpaceClient is closed; create a new one")
        if isinstance(body, StreamedBody):
            body = b"".join([chunk async for chunk in body.chunks()])
        self.requests.append(SentRequest(method, url, body, self._token))
        path = url.path
        if method == "GET" and path.endswith("/config"):
            return _answer(200, self._config)
        if method == "POST" and path.endswith("/queue/join"):
            return _answer(200, self._join)
        if method == "POST" and path.endswith("/run/predict"):
            return _answer(200, self._predict)
        if method == "POST" and path.endswith("/cancel"):
            return _answer(200, b'{"success": true}')
        return _answer(404, b'{"detail": "Not Found"}')

    async def open_stream(self, url: URL, *, deadline: Deadline, idle: float | None) -> StreamBody:
        if self.closed:
            raise ClientClosedError("this SpaceClient is closed; create a new one")
        self.requests.append(SentRequest("GET", url, None, self._token))
        return _Reads(self._reads)

    async def post_cancel(self, url: URL, body: bytes, *, within: float | None) -> None:
        await self.send("POST", url, what="/cancel", phase="cancel", within=within, body=body, cancel=True)

    async def close(self) -> None:
        self.closed = True


class _Reads:
    """The scripted event stream: one element per read, then its end."""

    __slots__ = ("_next", "_reads")

    def __init__(self, reads: tuple[Read, ...]) -> None:
        self._reads = reads
        self._next = 0

    async def read(self) -> bytes:
        if self._next >= len(self._reads):
            return b""
        item = self._reads[self._next]
        self._next += 1
        if isinstance(item, QwenSpaceError):
            raise item
        return item

    async def aclose(self, *, drain: bool = False) -> None:
        self._next = len(self._reads)


def _json(value: Mapping[str, JSONValue] | bytes) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


def _answer(status: int, body: bytes) -> Answer:
    headers = CIMultiDictProxy(CIMultiDict({"Content-Type": "application/json"}))
    return Answer(status, "application/json", headers, body)
