"""OpenAI/gpt4free-shaped messages to a chat's parts: the query, earlier turns, the system prompt.

Everything here runs before any network call, so bad input costs nothing and
fails with :class:`InvalidMessagesError` saying what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ...protocol import Turn, content_text
from .errors import InvalidMessagesError

__all__ = ["DEFAULT_MAX_PROMPT_CHARS", "DEFAULT_SYSTEM", "ChatRequest", "prepare_request"]

#: The seed provider's system prompt when the conversation has none.
DEFAULT_SYSTEM = "You are a helpful assistant."

#: Qwen2.5-Max takes about 32k tokens of context; far beyond that DashScope refuses
#: the request after a long queue wait, so refuse it here at once.
DEFAULT_MAX_PROMPT_CHARS = 400_000

_ROLES = ("system", "user", "assistant")


@dataclass(frozen=True, slots=True)
class ChatRequest:
    query: str
    history: tuple[Turn, ...]
    #: ``None``: none given, so the app's own default (the Qwen demo's is ``DEFAULT_SYSTEM``).
    system: str | None

    @property
    def size(self) -> int:
        return len(self.query) + len(self.system or "") + sum(len(t.user) + len(t.assistant) for t in self.history)


def prepare_request(
    messages: object,
    *,
    system: str | None = None,
    max_chars: int = DEFAULT_MAX_PROMPT_CHARS,
) -> ChatRequest:
    """Split ``messages`` into the Space's inputs.

    System messages (anywhere) are joined with newlines into the system input, which
    ``system=`` replaces when given; the last message must be the user's query;
    earlier user/assistant messages become history turns, in order.
    """
    # Typed callers pass a sequence; gpt4free callers pass anything, so check.
    if isinstance(messages, (str, bytes)) or not isinstance(messages, Sequence):
        raise InvalidMessagesError("messages must be a list of {'role': ..., 'content': ...} dicts")
    if not messages:
        raise InvalidMessagesError("messages is empty: add at least one {'role': 'user', 'content': ...} message")
    if system is not None:
        if not isinstance(system, str):
            raise InvalidMessagesError(f"system must be a string, got {type(system).__name__}")
        _check_encodable(system, "system")
    parsed = [_parse(message, position) for position, message in enumerate(messages)]
    systems = [text for role, text in parsed if role == "system"]
    dialogue = [(role, text) for role, text in parsed if role != "system"]
    if not dialogue or dialogue[-1][0] != "user":
        raise InvalidMessagesError(
            "the last non-system message must come from the user (it is the question the Space answers)"
        )
    if not dialogue[-1][1].strip():
        raise InvalidMessagesError("the last user message is empty: there is nothing to answer")
    history, unanswered = _turns(dialogue[:-1])
    request = ChatRequest(
        # User messages sent before the query without an answer are part of the question.
        query="\n".join([*unanswered, dialogue[-1][1]]),
        history=history,
        system=system if system is not None else ("\n".join(systems) if systems else None),
    )
    if request.size > max_chars:
        raise InvalidMessagesError(
            f"the conversation has {request.size} characters, more than the limit of {max_chars}; "
            "the model behind the Space cannot take it: drop or summarise earlier turns (or raise max_prompt_chars)"
        )
    return request


def _parse(message: object, position: int) -> tuple[str, str]:
    # type() first: isinstance against an ABC costs more than the rest of the check.
    if type(message) is not dict and not isinstance(message, Mapping):
        raise InvalidMessagesError(f"messages[{position}] must be a dict with 'role' and 'content'")
    role = message.get("role")
    if role not in _ROLES:
        raise InvalidMessagesError(f"messages[{position}] has role {role!r}; use one of {', '.join(_ROLES)}")
    assert isinstance(role, str)
    text = _text(message.get("content"), position)
    _check_encodable(text, f"messages[{position}]")
    return role, text


def _check_encodable(text: str, where: str) -> None:
    """Refuse text that UTF-8 cannot carry (lone surrogates, from broken decoding)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidMessagesError(
            f"{where} holds {text[exc.start : exc.end]!r} at character {exc.start}, which cannot be sent as UTF-8 "
            "(a lone surrogate, usually from text decoded with errors='surrogateescape'); fix the text"
        ) from None


def _text(content: object, position: int) -> str:
    read = content_text(content)
    if read is None:
        raise InvalidMessagesError(
            f"messages[{position}]['content'] must be a string, got {type(content).__name__}; "
            "messages carry text only (uploading files or images to a multimodal Space is not supported)"
        )
    text, others = read
    if others:
        # OpenAI's content-part form is accepted when every part is text.
        raise InvalidMessagesError(
            f"messages[{position}] has non-text content ({others[0]!r}); messages carry text only (uploading files "
            "or images to a multimodal Space is not supported)"
        )
    return text


def _turns(dialogue: list[tuple[str, str]]) -> tuple[tuple[Turn, ...], list[str]]:
    """Pair user and assistant messages (runs of one role joined with newlines); also
    return the trailing user messages that got no answer."""
    turns: list[Turn] = []
    user: list[str] = []
    for role, text in dialogue:
        if role == "user":
            user.append(text)
        elif user or not turns:
            turns.append(Turn("\n".join(user), text))
            user = []
        else:
            turns[-1] = Turn(turns[-1].user, f"{turns[-1].assistant}\n{text}")
    return tuple(turns), user
