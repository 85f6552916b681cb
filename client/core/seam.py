"""The seam between a chat and the network: what a transport must do
(:class:`SpaceTransport`) and the values that cross it (a :class:`Deadline` per chat,
a request body streamed from disk, an :class:`Answer`, the :class:`StreamBody` of
the event stream). ``Transport`` (transport.py) is aiohttp's; ``MemoryTransport``
(qwen_space.client.testing) scripts a Space in memory for users' tests."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

from multidict import CIMultiDictProxy
from yarl import URL

__all__ = ["MAX_ANSWER_SIZE", "Answer", "Deadline", "SpaceTransport", "StreamBody", "StreamedBody"]

#: Join, cancel and error answers are a few hundred bytes; beyond this they are junk.
MAX_ANSWER_SIZE = 8 * 1024 * 1024


class Deadline:
    """A point in ``time.monotonic()`` time (the event loop's clock), or none."""

    __slots__ = ("at", "total")

    def __init__(self, total: float | None) -> None:
        self.total = total
        self.at = None if total is None else time.monotonic() + total

    def remaining(self) -> float | None:
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def bound(self, limit: float | None) -> float | None:
        """The smaller of ``limit`` and the time left (``None``: no bound at all)."""
        left = self.remaining()
        if left is None:
            return limit
        return left if limit is None else min(limit, left)

    @property
    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at


@dataclass(frozen=True, slots=True)
class StreamedBody:
    """A request body sent as it is produced (an upload read from disk), never held
    whole: ``chunks()`` yields its bytes, ``length`` in all, sent as the Content-Length
    (a proxy may refuse a chunked upload). ``chunks`` is called once per attempt.

    Each chunk must be a new ``bytes`` object: vcrpy, recording, keeps the chunks to
    join them into the cassette's body (and so needs no whole body from us).
    """

    chunks: Callable[[], AsyncIterator[bytes]]
    length: int


@dataclass(frozen=True, slots=True)
class Answer:
    """A small answer, read whole."""

    status: int
    content_type: str | None
    headers: CIMultiDictProxy[str]
    body: bytes


class StreamBody(Protocol):
    """An open event stream (``queue/data``): its bytes as they arrive, then its end.

    ``read`` returns the next bytes (``b""`` at the end) and raises only the package's
    errors: a failed read is already translated. ``aclose(drain=True)`` after the job's
    end reads the little that is left (Gradio's ``close_stream``) so that the connection
    is reused; ``aclose()`` closes it at once and wakes a reader. Closing twice is nothing.
    """

    async def read(self) -> bytes: ...

    async def aclose(self, *, drain: bool = False) -> None: ...


class SpaceTransport(Protocol):
    """What a client needs of a transport: every exchange with the Space goes through
    these. :class:`Transport` is aiohttp's; ``qwen_space.client.testing.MemoryTransport``
    answers from memory, for tests. Each raises only the package's errors."""

    @property
    def sends_token(self) -> bool: ...

    def use_token(self, send: bool) -> None: ...

    async def log_in(self, base: URL, *, within: float | None, deadline: Deadline | None = None) -> None: ...

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
    ) -> Answer: ...

    async def open_stream(self, url: URL, *, deadline: Deadline, idle: float | None) -> StreamBody: ...

    async def post_cancel(self, url: URL, body: bytes, *, within: float | None) -> None: ...

    async def close(self) -> None: ...
