"""``SyncSpaceClient``: :class:`SpaceClient` for code that is not async.

Scripts and notebooks get the async client's behaviour without learning asyncio:
the client runs on a private event loop in one background thread, and each call
waits for its result there. The caller's thread never runs a loop, so this works
where one is already running (Jupyter) too. Leaving a ``for`` loop early, Ctrl-C,
or closing the client cancels the job on the Space, as the async client does.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncGenerator, Awaitable, Coroutine, Generator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar, Unpack

from ...protocol import ChatContract, ChatEvent, Drift, ReplyFile, SpaceConfig, Turn
from ..core.client import ChatCompletion, SpaceClient
from ..core.conversation import Conversation
from ..core.files import LocalFile
from ..core.options import SyncClientOptions, check_options
from ..core.request import FileLike
from ..errors import ClientClosedError
from ..hub.space import SpaceInfo, SpaceStarting

__all__ = ["SyncConversation", "SyncSpaceClient"]

T = TypeVar("T")

# After Ctrl-C, how long to let the interrupted call post its /cancel before giving up.
_CLEANUP_SECONDS = 10.0


class SyncSpaceClient:
    """Blocking twin of :class:`SpaceClient` (its options but ``session=``: :class:`SyncClientOptions`;
    its typed errors)::

    with SyncSpaceClient() as space:
        for delta in space.chat([{"role": "user", "content": "Hi"}]):
            print(delta, end="", flush=True)

    There is no ``session=``: an ``aiohttp.ClientSession`` belongs to the event loop it
    was made on, and this client's loop is its own. ``sleep`` runs on that loop.
    """

    def __init__(self, url: str | None = None, **options: Unpack[SyncClientOptions]) -> None:
        if "session" in options:
            raise TypeError(
                "SyncSpaceClient takes no session=: an aiohttp.ClientSession belongs to the loop it was "
                "made on, and this client runs its own; leave it out"
            )
        check_options(options, SyncClientOptions.__optional_keys__, "SyncSpaceClient")
        # First, so that a bad argument raises before there is a thread to leak.
        self._client = SpaceClient(url, **options)
        self._closed = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="qwen-space-loop", daemon=True)
        self._thread.start()
        # A client dropped without close() must not leave its thread running.
        self._stop_loop = weakref.finalize(self, self._loop.call_soon_threadsafe, self._loop.stop)

    @property
    def url(self) -> str:
        return self._client.url

    @property
    def space_id(self) -> str | None:
        """The Space's id when one was given (see :attr:`SpaceClient.space_id`)."""
        return self._client.space_id

    @property
    def drifts(self) -> list[Drift]:
        """Non-breaking differences from the contract found in ``/config`` (after the first chat)."""
        return self._client.drifts

    def config(self) -> SpaceConfig:
        """The Space's ``/config``, fetched once and checked (see :meth:`SpaceClient.config`)."""
        return self._run(self._client.config())

    def contract(self) -> ChatContract:
        """The chat contract in use (see :meth:`SpaceClient.contract`)."""
        return self._run(self._client.contract())

    def fetch_config(self) -> SpaceConfig:
        """``/config`` without the contract check (see :meth:`SpaceClient.fetch_config`)."""
        return self._run(self._client.fetch_config())

    def space_info(self) -> SpaceInfo | None:
        """What the Hub says about the Space now (see :meth:`SpaceClient.space_info`)."""
        return self._run(self._client.space_info())

    def __repr__(self) -> str:
        return f"Sync{self._client!r}"

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Cancel every running chat on the Space, close the connections, stop the thread."""
        if self._closed:
            return
        self._closed = True
        try:
            self._run(self._client.aclose())
            self._run(self._loop.shutdown_asyncgens())
        finally:
            self._stop_loop()
            self._thread.join()
            self._loop.close()

    def chat(
        self,
        messages: Sequence[Mapping[str, Any]] | str,
        *,
        system: str | None = None,
        options: Mapping[str, object] | None = None,
        allow_empty: bool = False,
        files: Sequence[FileLike] = (),
    ) -> Generator[str, None, None]:
        """Stream the reply as text deltas (see :meth:`SpaceClient.chat`); leaving the loop
        early (or ``close()``) cancels the job on the Space."""
        return self._iterate(
            self._client.chat(messages, system=system, options=options, allow_empty=allow_empty, files=files)
        )

    def events(
        self,
        messages: Sequence[Mapping[str, Any]] | str,
        *,
        system: str | None = None,
        options: Mapping[str, object] | None = None,
        files: Sequence[FileLike] = (),
    ) -> Generator[ChatEvent | SpaceStarting, None, None]:
        """Stream the typed events of one chat (see :meth:`SpaceClient.events`)."""
        return self._iterate(self._client.events(messages, system=system, options=options, files=files))

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]] | str,
        *,
        system: str | None = None,
        options: Mapping[str, object] | None = None,
        allow_empty: bool = False,
        files: Sequence[FileLike] = (),
    ) -> ChatCompletion:
        """The whole reply with its metadata and files (see :meth:`SpaceClient.complete`)."""
        return self._run(
            self._client.complete(messages, system=system, options=options, allow_empty=allow_empty, files=files)
        )

    def download(self, file: ReplyFile, *, max_size: int | None = None) -> bytes:
        """The bytes of a reply file (see :meth:`SpaceClient.download`)."""
        return self._run(self._client.download(file, max_size=max_size))

    def save_file(self, file: ReplyFile, folder: str | os.PathLike[str]) -> Path:
        """Save a reply file into ``folder`` (see :meth:`SpaceClient.save_file`)."""
        return self._run(self._client.save_file(file, folder))

    def conversation(
        self, *, system: str | None = None, options: Mapping[str, object] | None = None
    ) -> SyncConversation:
        """A chat held across turns (see :meth:`SpaceClient.conversation`)."""
        return SyncConversation(self, self._client.conversation(system=system, options=options))

    def _iterate(self, stream: AsyncGenerator[T, None]) -> Generator[T, None, None]:
        suspended = False  # whether the stream waits at a yield (and so needs closing)
        try:
            while True:
                suspended = False
                try:
                    item = self._run(anext(stream))
                except StopAsyncIteration:
                    return
                suspended = True
                yield item
        finally:
            # break, an exception in the caller's loop body, or garbage collection:
            # the chat's own clean-up posts /cancel if the job is still running.
            # A step that raised (the chat failed, or Ctrl-C cancelled it, which runs
            # the same clean-up) has already closed the stream: closing it again while
            # that clean-up may still run would fail. (Once the client is closed,
            # closing it already cancelled the chat.)
            if suspended and self._thread.is_alive():
                self._run(stream.aclose())

    def _run(self, awaitable: Awaitable[T]) -> T:
        """Run ``awaitable`` on the private loop and wait for its result.

        If the wait is interrupted (Ctrl-C), the call is cancelled and given time to run
        its clean-up (which posts /cancel) before the interruption goes on.
        """
        if not self._thread.is_alive():
            if isinstance(awaitable, Coroutine):
                awaitable.close()
            raise ClientClosedError("this SyncSpaceClient is closed; create a new one")
        finished = threading.Event()
        future = asyncio.run_coroutine_threadsafe(_signalling(awaitable, finished), self._loop)
        try:
            result: T = future.result()
        except BaseException:
            if not future.done():
                future.cancel()
                finished.wait(_CLEANUP_SECONDS)
            raise
        return result


class SyncConversation:
    """Blocking twin of :class:`Conversation`: ``send(message)`` returns the reply,
    ``stream(message)`` yields it as text deltas; ``turns`` holds the exchanges so far."""

    def __init__(self, client: SyncSpaceClient, conversation: Conversation) -> None:
        self._client = client
        self._conversation = conversation

    @property
    def turns(self) -> list[Turn]:
        return self._conversation.turns

    @property
    def sent_files(self) -> list[tuple[LocalFile, ...]]:
        return self._conversation.sent_files

    @property
    def reply_files(self) -> list[tuple[ReplyFile, ...]]:
        return self._conversation.reply_files

    @property
    def session_hash(self) -> str:
        return self._conversation.session_hash

    def send(self, message: str, *, files: Sequence[FileLike] = ()) -> str:
        return self._client._run(self._conversation.send(message, files=files))

    def stream(self, message: str, *, files: Sequence[FileLike] = ()) -> Generator[str, None, None]:
        return self._client._iterate(self._conversation.stream(message, files=files))


async def _signalling(awaitable: Awaitable[T], finished: threading.Event) -> T:
    try:
        return await awaitable
    finally:
        finished.set()
