"""How a chat ends: the one terminal policy of every way a reply is read.

``SpaceClient.chat``/``complete``, a conversation, the CLI and the OpenAI-style ways
in (``serve``, gpt4free) all end a chat by the same rules, so that one reply is never
an answer by one door and an error by another.

An **empty reply** is one with no text, no reasoning and no files. A reply of files
alone (an image generator) or of thoughts alone is a reply: its text is empty.
``allow_empty=True`` turns the check off.
"""

from __future__ import annotations

from ...protocol import ChatEvent, Completed, Correction, Failed, FileReply
from ..errors import ReplyRewrittenError, empty_reply
from ..hub.space import SpaceStarting

__all__ = ["ReplyCheck"]


class ReplyCheck:
    """One chat's terminal policy, fed each of its events with :meth:`see`:

    - a ``Failed`` event raises its error;
    - ``Completed`` raises :class:`EmptyReplyError` for an empty reply (see the module)
      unless ``allow_empty``;
    - with ``streamed`` (the caller releases text as it comes and cannot take it back),
      ``Completed`` after the Space rewrote released text raises
      :class:`ReplyRewrittenError` with the final text and what was shown.

    Text deltas change none of this (``Completed`` holds the whole text), so a per-token
    path may skip feeding them; it releases a delta only while :attr:`shown` is ``None``.
    """

    __slots__ = ("_allow_empty", "_files", "_streamed", "shown")

    def __init__(self, *, allow_empty: bool = False, streamed: bool = False) -> None:
        self._allow_empty = allow_empty
        self._streamed = streamed
        self._files = False
        #: The text released when the Space first rewrote it; ``None`` until then.
        self.shown: str | None = None

    def see(self, event: ChatEvent | SpaceStarting) -> None:
        """Take the chat's next event; raise if it ends the chat as an error."""
        if isinstance(event, Correction):
            if self.shown is None:
                self.shown = event.previous
        elif isinstance(event, FileReply):
            self._files = True
        elif isinstance(event, Failed):
            raise event.error
        elif isinstance(event, Completed):
            if not (event.text or event.reasoning or self._files or self._allow_empty):
                raise empty_reply()
            if self._streamed and self.shown is not None:
                raise ReplyRewrittenError(
                    "the Space rewrote part of the reply after it was streamed; the complete reply is in "
                    "final_text (events() follows rewrites as they happen)",
                    final_text=event.text,
                    partial_text=self.shown,
                )
