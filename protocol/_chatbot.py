"""The value formats of ``gr.Chatbot``, as Gradio 4.x to 6.x send them.

* tuples: ``[[user, bot], ...]`` (4.x default, 5.x default with a warning, gone in 6.0);
* flat messages: ``[{"role", "content": str}, ...]`` (4.38+ and 5.x ``type="messages"``);
* normalised messages: ``content`` is a list of typed parts (6.x, the only format).

For each format this module reads the assistant's reply of the current turn, with
the *path* of the text that grows (so that an ``append`` at that path is known to be
a pure extension of the reply without reading the whole value), and builds the
history input that carries earlier turns as the Space's own chatbot value.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ._json import JSONValue
from ._shown import bounded

__all__ = ["ChatbotFormat", "Reply", "Turn", "content_text", "read_history", "read_reply"]


class ChatbotFormat(enum.Enum):
    """How a chat reply is laid out in an output value."""

    TUPLES = "tuples"
    MESSAGES = "messages"
    NORMALISED = "normalised"
    #: Not a chatbot: the output is the reply text itself (a Textbox).
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Turn:
    """One earlier exchange of a conversation."""

    user: str
    assistant: str


@dataclass(frozen=True, slots=True)
class Reply:
    """The reply text in an output value, and the path of its last growing piece."""

    text: str
    #: Path (inside the output slot) of the string that the server extends with
    #: ``append`` edits while it streams; ``None`` when the reply is not one string.
    growing_path: tuple[int | str, ...] | None


_EMPTY = Reply("", None)


def read_reply(value: JSONValue, chatbot_format: ChatbotFormat) -> Reply:
    """The assistant's reply of the current (last) turn; empty if there is none yet.

    Non-text content (files, components) is not part of the text reply.
    """
    if chatbot_format is ChatbotFormat.TEXT:
        if isinstance(value, str):
            return Reply(value, ())
        # A ChatInterface function may return a message dict or a list of them (5.x, 6.x).
        messages = [value] if isinstance(value, dict) else value if isinstance(value, list) else []
        answers = [
            m
            for m in messages
            if isinstance(m, dict) and m.get("role", "assistant") == "assistant" and not _is_thought(m)
        ]
        read = content_text(answers[-1].get("content")) if answers else None
        return Reply(read[0], None) if read is not None else _EMPTY
    if not isinstance(value, list) or not value:
        return _EMPTY
    if chatbot_format is ChatbotFormat.TUPLES:
        last = len(value) - 1
        # A file the bot sent after its text is a pair of its own: [null, {"file": ...}].
        while last > 0 and _is_file_pair(value[last]):
            last -= 1
        pair = value[last]
        if isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], str):
            return Reply(pair[1], (last, 1))
        return _EMPTY
    index = _last_assistant_message(value)
    if index is None:
        return _EMPTY
    message = value[index]
    assert isinstance(message, dict)
    content = message.get("content")
    if chatbot_format is ChatbotFormat.MESSAGES:
        return Reply(content, (index, "content")) if isinstance(content, str) else _EMPTY
    if not isinstance(content, list):
        return _EMPTY
    texts: list[str] = []
    last_text: int | None = None
    for position, part in enumerate(content):
        if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
            text = part["text"]
            assert isinstance(text, str)
            texts.append(text)
            last_text = position
    if last_text is None:
        return _EMPTY
    return Reply("".join(texts), (index, "content", last_text, "text"))


def _last_assistant_message(messages: list[JSONValue]) -> int | None:
    """Index of the last assistant answer after the last user message.

    Messages whose metadata has a title are "thoughts" (tool use, reasoning), shown
    folded in the UI: they are not the answer.
    """
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role == "user":
            return None
        if role == "assistant":
            if _is_thought(message) or not _holds_text(message.get("content")):
                continue  # a thought, or a file or component message after the text
            return index
    return None


def _holds_text(content: object) -> bool:
    if isinstance(content, list):
        return any(isinstance(part, dict) and part.get("type") == "text" for part in content)
    return not isinstance(content, dict)


def _is_file_pair(pair: object) -> bool:
    return isinstance(pair, list) and len(pair) == 2 and pair[0] is None and isinstance(pair[1], dict)


def _is_thought(message: Mapping[str, object]) -> bool:
    return thought_title(message.get("metadata")) is not None


def thought_title(metadata: object) -> str | None:
    """The title that makes a message a thought, or ``None``: the one rule for the answer
    and the reasoning, so no message is in neither. A title that is not a string (any
    JSON an app sends) is a thought still, titled by its bounded text."""
    title = metadata.get("title") if isinstance(metadata, dict) else None
    if not title:
        return None
    return title if isinstance(title, str) else bounded(title, 200)


def content_text(content: object) -> tuple[str, list[str]] | None:
    """A message's content as (its text, the kinds of its parts that are not text).

    A string is all text; a list of parts (OpenAI's content parts, Gradio 6's
    normalised content) gives its ``text`` parts joined. Any other shape: ``None``.
    """
    if isinstance(content, str):
        return content, []
    if not isinstance(content, Sequence) or isinstance(content, (bytes, bytearray)):
        return None
    texts: list[str] = []
    others: list[str] = []
    for part in content:
        if isinstance(part, Mapping) and part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        else:
            others.append(str(part.get("type")) if isinstance(part, Mapping) else type(part).__name__)
    return "".join(texts), others


def read_history(value: JSONValue) -> list[Turn]:
    """The turns of a chatbot history value in any format: what a request sends, read back."""
    if not isinstance(value, list):
        return []
    if value and isinstance(value[0], list):  # tuples
        return [Turn(*(_text(item) for item in pair)) for pair in value if isinstance(pair, list) and len(pair) == 2]
    turns: list[Turn] = []
    user: str | None = None
    for message in value:
        if not isinstance(message, dict):
            continue
        if message.get("role") == "user":
            user = _text(message.get("content"))
        elif message.get("role") == "assistant" and user is not None:
            turns.append(Turn(user, _text(message.get("content"))))
            user = None
    return turns


def _text(content: object) -> str:
    read = content_text(content)
    return "" if read is None else read[0]
