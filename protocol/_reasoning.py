"""A chat reply split into its thoughts and its answer.

Messages-format chatbots mark thoughts and tool use as assistant messages whose
``metadata`` has a ``title`` (with ``status`` ``"pending"`` while they stream and
``"done"`` after, from 5.x; 4.44 keeps only the title). The UI folds them away; they
are not the answer. :func:`split_reply` reads the current turn (everything after the
last user message) of a Chatbot value, or the reply value of a ``gr.ChatInterface``
API (a string, one message dict or a list of them), and keeps the two apart. The
answer is what :func:`read_reply` reads, so the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._chatbot import ChatbotFormat, content_text, read_reply, thought_title
from ._json import JSONValue

__all__ = ["ReplyParts", "Thought", "split_reply"]


@dataclass(frozen=True, slots=True)
class Thought:
    """A folded message of the reply: reasoning, or a tool's use."""

    title: str
    text: str
    #: ``"pending"`` while it streams, ``"done"`` once finished; ``None`` when the app
    #: or the Gradio release (4.44) does not say.
    status: str | None = None


@dataclass(frozen=True, slots=True)
class ReplyParts:
    thoughts: tuple[Thought, ...]
    answer: str


_NOTHING = ReplyParts((), "")


def split_reply(value: JSONValue, reply_format: ChatbotFormat) -> ReplyParts:
    """The thoughts and the answer of the current turn in ``value`` (an output slot's value)."""
    if reply_format is ChatbotFormat.TUPLES:
        return ReplyParts((), read_reply(value, reply_format).text)
    if reply_format is ChatbotFormat.TEXT:
        if isinstance(value, str):
            return ReplyParts((), value)
        # A ChatInterface function may return a message dict or a list of them (5.x, 6.x).
        messages: list[JSONValue] = [value] if isinstance(value, dict) else value if isinstance(value, list) else []
        return _split(messages, None)
    if not isinstance(value, list):
        return _NOTHING
    start = 0
    for index in range(len(value) - 1, -1, -1):
        message = value[index]
        if isinstance(message, dict) and message.get("role") == "user":
            start = index + 1
            break
    return _split(value[start:], reply_format)


def _split(messages: list[JSONValue], reply_format: ChatbotFormat | None) -> ReplyParts:
    """``reply_format`` None: the ChatInterface API's own messages, whose content may be
    a string or parts whatever the release, and whose role may be left out."""
    assistant = [m for m in messages if isinstance(m, dict) and m.get("role", "assistant") == "assistant"]
    thoughts: list[Thought] = []
    for message in assistant:
        metadata = message.get("metadata")
        if (title := thought_title(metadata)) is not None:
            assert isinstance(metadata, dict)  # a title is in one
            status = metadata.get("status")
            thoughts.append(Thought(title, _text(message.get("content")), status if isinstance(status, str) else None))
    if reply_format is not None:
        return ReplyParts(tuple(thoughts), read_reply(messages, reply_format).text)
    answers = [m for m in assistant if thought_title(m.get("metadata")) is None]
    return ReplyParts(tuple(thoughts), _text(answers[-1].get("content")) if answers else "")


def _text(content: object) -> str:
    read = content_text(content)
    return "" if read is None else read[0]
