"""What ``serve`` makes of a request's messages for the Space it goes to: the system
message folded into the first user turn where the app has no system input, and the
live session a request for an app that keeps its history on the server continues
(``sessions``). No I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ....protocol import ChatContract
from ....protocol._chat_contract import HistoryMode, InputRole
from ....protocol._chatbot import content_text
from .sessions import history_unreachable
from .wire import Refusal

__all__ = ["HeldTurn", "fold_system", "held_turn", "takes_system"]


def takes_system(contract: ChatContract) -> bool:
    return any(slot.role is InputRole.SYSTEM for slot in contract.inputs)


def fold_system(contract: ChatContract, messages: list[Any]) -> list[Any] | None:
    """``messages`` with their system messages folded into the first user message, for an
    app without a system input (as chat templates without a system role do): the system
    texts joined by newlines, a blank line, then the user's text. ``None`` when nothing
    is folded (the app takes a system prompt, or none was sent)."""
    if takes_system(contract):
        return None
    systems = [_text(message) for message in messages if _role(message) == "system"]
    if not systems:
        return None
    folded = "\n".join(systems)
    out: list[Any] = []
    pending = folded if folded.strip() else None
    for message in messages:
        if _role(message) == "system":
            continue
        if pending is not None and _role(message) == "user":
            content = message.get("content")
            if isinstance(content, str):
                content = f"{pending}\n\n{content}"
            else:
                content = [{"type": "text", "text": f"{pending}\n\n"}, *content]
            message, pending = {**message, "content": content}, None
        out.append(message)
    return out


class HeldTurn:
    """A request to an app whose history lives on the server, as one conversation turn."""

    __slots__ = ("prefix", "query", "system")

    def __init__(self, prefix: list[Any] | None, query: str, system: str | None) -> None:
        #: The messages up to the last assistant reply (the key of the session it
        #: continues), ``None`` for a new conversation.
        self.prefix = prefix
        self.query = query
        self.system = system


def held_turn(contract: ChatContract, messages: list[Any], sent: list[Any], space: str) -> HeldTurn | None:
    """The turn ``messages`` (as the caller sent them; ``sent``: as they go to the Space,
    with the system message folded) asks of an app that keeps its history in a State;
    ``None`` for any other app. Refuses content a conversation turn cannot carry."""
    if contract.history is not HistoryMode.CONVERSATION:
        return None
    last = max((i for i, message in enumerate(messages) if _role(message) == "assistant"), default=None)
    tail = sent if last is None else messages[last + 1 :]
    if last is not None and any(_role(message) not in ("user",) for message in tail):
        raise history_unreachable(space)
    users = [message for message in tail if _role(message) == "user"]
    if any(not isinstance(message.get("content"), str) and _others(message) for message in users):
        raise Refusal(
            400,
            f"{space} keeps its model's history in its own session state, where this server sends text only: "
            "send the request without images or files",
            "invalid_request_error",
            "unsupported_content",
            param="messages",
        )
    query = "\n".join(_text(message) for message in users)
    systems = [_text(message) for message in sent if _role(message) == "system"]
    system = "\n".join(systems) if systems and last is None else None
    return HeldTurn(None if last is None else messages[: last + 1], query, system)


def _role(message: object) -> object:
    return message.get("role") if isinstance(message, Mapping) else None


def _text(message: Mapping[str, Any]) -> str:
    read = content_text(message.get("content"))
    return read[0] if read is not None else ""


def _others(message: Mapping[str, Any]) -> Sequence[str]:
    read = content_text(message.get("content"))
    return read[1] if read is not None else ()
