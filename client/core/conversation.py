"""A chat held across turns (``SpaceClient.conversation()``).

Most apps take the earlier turns in the request, so a conversation just sends them
each turn. Some keep their model's history in a ``gr.State`` that only their chat chain
writes (:attr:`HistoryMode.CONVERSATION`): there the turns exist only in the session
that held them, so every turn runs on one ``session_hash`` with the page's component
values kept, as one browser tab does.

Files are part of the turns, replayed as the browser's Chatbot holds them: a turn's
files before its text, uploaded again with each request since every request but a held
session's starts a fresh one; a reply's files after its text, as the Space handed them
out (the browser sends the Space's own FileData back, which a launched Space accepts
since it is in its cache). A turn may be files alone, and a reply may be files alone (an
image answer): both are turns.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from ...protocol import ChatContract, ChatEvent, Completed, FileReply, ReplyFile, TextDelta, Turn
from ...protocol._chat_contract import HistoryMode
from ...protocol._files import reply_file_data
from ...protocol.errors import RemoteProtocolError
from ..hub.space import SpaceStarting
from .chain import ChatSession
from .files import DEFAULT_MAX_UPLOAD_SIZE, LocalFile
from .reply import ReplyCheck
from .request import ChatRequest, FileLike, prepare_request

if TYPE_CHECKING:
    from .run import ChatRun

__all__ = ["Conversation"]


#: Starts one chat run: the request, options, and the session to hold it on (or none).
Start = Callable[[ChatRequest, Mapping[str, object], ChatSession | None], "ChatRun"]


class Conversation:
    """``await conversation.send("Hi")`` returns the reply; ``conversation.stream("Hi")``
    streams it. ``turns`` holds the exchanges so far."""

    def __init__(
        self,
        start: Start,
        contract: Callable[[], Awaitable[ChatContract]],
        *,
        system: str | None = None,
        options: Mapping[str, object] | None = None,
        max_upload_size: int = DEFAULT_MAX_UPLOAD_SIZE,
    ) -> None:
        self._start = start
        self._max_upload_size = max_upload_size
        self._contract = contract
        self._system = system
        self._options = dict(options or {})
        self._session = ChatSession()
        self.turns: list[Turn] = []
        #: The files the user sent in each turn, parallel to ``turns``.
        self.sent_files: list[tuple[LocalFile, ...]] = []
        #: The files of each turn's reply, parallel to ``turns``.
        self.reply_files: list[tuple[ReplyFile, ...]] = []

    @property
    def session_hash(self) -> str:
        """The session the turns run on where the app keeps history on the server."""
        return self._session.session_hash

    async def send(self, message: str, *, files: Sequence[FileLike] = ()) -> str:
        """Send ``message`` (with ``files``) as the next turn and return the whole reply's
        text (as the Space ended it; empty if the reply is files alone, then in
        ``reply_files[-1]``). Earlier turns are replayed with their files."""
        async with contextlib.aclosing(self.events(message, files=files)) as events:
            async for event in events:
                if isinstance(event, Completed):
                    return event.text
        raise RemoteProtocolError("the chat ended without a completion or a failure")  # pragma: no cover

    async def stream(self, message: str, *, files: Sequence[FileLike] = ()) -> AsyncGenerator[str, None]:
        """Stream the reply to ``message`` (the next turn) as text deltas. Raises the
        package error if the chat fails, :class:`ReplyRewrittenError` if the Space
        rewrote text already yielded (the turn is kept with the final text)."""
        # events() has judged the reply already: this check only follows rewrites.
        check = ReplyCheck(allow_empty=True, streamed=True)
        async with contextlib.aclosing(self.events(message, files=files)) as events:
            async for event in events:
                if type(event) is TextDelta:
                    if check.shown is None:
                        yield event.text
                else:
                    check.see(event)

    async def events(self, message: str, *, files: Sequence[FileLike] = ()) -> AsyncGenerator[ChatEvent, None]:
        """The typed events of the next turn, as ``SpaceClient.events`` yields them, but
        the turn ends by :class:`ReplyCheck` (a failure or an empty reply raises, and the
        turn is then not kept) and ``Completed`` keeps the turn."""
        contract = await self._contract()
        held = contract.history is HistoryMode.CONVERSATION
        messages: list[dict[str, str]] = []
        for turn in [] if held else self.turns:
            messages += [{"role": "user", "content": turn.user}, {"role": "assistant", "content": turn.assistant}]
        messages.append({"role": "user", "content": message})
        request = prepare_request(messages, system=self._system, files=files, max_upload_size=self._max_upload_size)
        # Only the Chatbot's files: an output beside it (a gr.Image) is not in the browser's history.
        if not held and (any(self.sent_files) or any(self.reply_files)):
            request = dataclasses.replace(
                request,
                history_files=tuple(self.sent_files),
                history_reply_files=tuple(
                    tuple(reply_file_data(f) for f in got if f.in_chat) for got in self.reply_files
                ),
            )
        run = self._start(request, self._options, self._session if held else None)
        received: list[ReplyFile] = []
        check = ReplyCheck()
        async with contextlib.aclosing(run.batches()) as batches:
            async for batch in batches:
                for event in batch:
                    check.see(event)
                    if isinstance(event, FileReply):
                        received.append(event.file)
                    if isinstance(event, Completed):
                        self.turns.append(Turn(message, event.text))
                        self.sent_files.append(request.files)
                        self.reply_files.append(tuple(received))
                        self._session.turns += 1
                    if not isinstance(event, SpaceStarting):
                        yield event
