"""Live sessions ``serve`` keeps for Spaces whose model's history lives on the server.

Such an app (:attr:`HistoryMode.CONVERSATION`: a ``gr.State`` only its chat chain
writes) cannot be given earlier turns in a request; only the session that held them
knows them. So each chat ``serve`` answers for such a Space runs in a
:class:`Conversation`, kept after its reply under the exact messages the caller will
send back next time: the messages it was asked, plus the assistant reply it answered.
A request whose messages before its last user message(s) are one of those keys
continues that session; any other multi-turn request is refused (docs/ways-in.md).

Bounds: at most :data:`MAX_SESSIONS` per Space (the least recently used goes first),
each forgotten :data:`IDLE_SECONDS` after its last turn. A session is claimed by the
request continuing it: a second request continuing the same one meanwhile gets a 409
rather than waiting (it could only run on a State the first is changing, and a client
that sends two next turns at once has forked the chat). A turn that fails drops its
session: what the Space's State holds after a failure is not known.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

from ....protocol._chatbot import content_text
from ...core.conversation import Conversation
from .wire import Refusal

__all__ = ["IDLE_SECONDS", "MAX_SESSIONS", "Sessions", "history_unreachable", "session_key"]

#: Conversations kept per Space; each holds one session on the Space (its State).
MAX_SESSIONS = 64
#: Seconds a conversation is kept after its last turn.
IDLE_SECONDS = 30 * 60.0


def session_key(model: str, options: Mapping[str, object], messages: Sequence[Mapping[str, Any]]) -> str:
    """The key of a chat so far: the model, the Space inputs the request set, and each
    message's role and content exactly (OpenAI clients send back the reply they were
    given unchanged; other fields, such as ``name`` or a null ``refusal``, are not
    compared, and content as text parts is its text)."""
    said = [(message.get("role"), _content(message.get("content"))) for message in messages]
    # default=repr: a value JSON cannot say still keys (the request was JSON, so rarely).
    shape = json.dumps([model, sorted(options.items()), said], sort_keys=True, default=repr)
    return hashlib.sha256(shape.encode("utf-8", "surrogatepass")).hexdigest()


def _content(content: object) -> object:
    read = content_text(content)
    return read[0] if read is not None and not read[1] else content


def history_unreachable(space: str) -> Refusal:
    return Refusal(
        400,
        f"{space} keeps its model's history in the Space's own session state, which a request cannot fill: "
        "this server continues a conversation only when the messages are exactly those of one it answered "
        f"recently (the last {MAX_SESSIONS} per Space, for {int(IDLE_SECONDS // 60)} minutes), with the "
        "assistant replies as it gave them and the same parameters; start a new conversation (the system "
        "message and the first user message alone) or send the whole history as one user message",
        "invalid_request_error",
        "history_unreachable",
        param="messages",
    )


def conversation_busy() -> Refusal:
    return Refusal(
        409,
        "another request is continuing this conversation right now: its session on the Space takes one turn "
        "at a time; wait for that answer and send the next turn after it",
        "invalid_request_error",
        "conversation_busy",
        {"x-should-retry": "false"},
        param="messages",
    )


class Sessions:
    """One Space's conversations by the key of the chat so far (bounded, see the module)."""

    def __init__(self, limit: int | None = None, idle: float | None = None) -> None:
        self._limit = MAX_SESSIONS if limit is None else limit
        self._idle = IDLE_SECONDS if idle is None else idle
        self._kept: OrderedDict[str, tuple[float, Conversation]] = OrderedDict()
        self._busy: set[str] = set()

    def __len__(self) -> int:
        self._expire()
        return len(self._kept)

    def claim(self, key: str) -> Conversation | None:
        """The conversation kept under ``key``, taken out until :meth:`keep` puts it back;
        ``None`` if none is; raises the 409 :class:`Refusal` if a request holds it now."""
        self._expire()
        if key in self._busy:
            raise conversation_busy()
        found = self._kept.pop(key, None)
        if found is None:
            return None
        self._busy.add(key)
        return found[1]

    def release(self, key: str | None) -> None:
        """The request that claimed ``key`` is done with it (kept again or dropped)."""
        if key is not None:
            self._busy.discard(key)

    def keep(self, key: str, conversation: Conversation) -> None:
        self._expire()
        self._kept[key] = (time.monotonic(), conversation)
        self._kept.move_to_end(key)
        while len(self._kept) > self._limit:
            self._kept.popitem(last=False)

    def _expire(self) -> None:
        deadline = time.monotonic() - self._idle
        while self._kept:
            key, (at, _) = next(iter(self._kept.items()))
            if at >= deadline:
                break
            del self._kept[key]
