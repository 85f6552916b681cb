"""What an OpenAI-style request selects on a chat Space, for every way in that speaks
OpenAI's terms (``serve``, the gpt4free providers): the choice of the Space's model
dropdown a model id names, the inputs OpenAI's sampling parameters go to, and the
reply as answer and thought pieces, and the refusal of files the ways in cannot send yet."""

from __future__ import annotations

import contextlib
import mimetypes
import re
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any, Protocol, TypeAlias

from ...protocol import (
    ChatContract,
    ChatInput,
    Completed,
    Correction,
    Failed,
    JSONValue,
    OptionKind,
    ReasoningDelta,
    TextDelta,
)
from ..core.client import SpaceClient
from ..core.errors import InvalidMessagesError, ReplyRewrittenError, empty_reply

__all__ = [
    "Piece",
    "ReplyFileLike",
    "dropdown_choice",
    "file_markdown",
    "is_image",
    "model_dropdown",
    "refuse_files",
    "reply_pieces",
    "sampling_options",
    "sampling_value",
]


class ReplyFileLike(Protocol):
    """A file of the reply as the client gives it (``ReplyFile``): its absolute URL on
    the Space, its name and its type."""

    @property
    def url(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def mime_type(self) -> str | None: ...


#: A piece of a reply: ``(True, text)`` thoughts, ``(False, text)`` answer, or a file.
Piece: TypeAlias = "tuple[bool, str] | ReplyFileLike"


def file_markdown(file: ReplyFileLike, after_text: bool) -> str:
    """A file of the reply as Markdown in the assistant's content: ``![name](URL)`` for an
    image, ``[name](URL)`` for another file, on a paragraph of its own."""
    name = _MD_NAME.sub(lambda found: "\\" + found.group() if found.group() in "\\[]()" else " ", file.name or "file")
    url = _MD_URL.sub(lambda found: f"%{ord(found.group()):02X}", file.url)
    link = f"{'!' if is_image(file) else ''}[{name}]({url})"
    return f"\n\n{link}" if after_text else link


# In a link's text, brackets, parentheses and the backslash are escaped, line breaks
# become spaces; in its URL, what would end it or break its line is percent-encoded.
_MD_NAME = re.compile(r"[\\\[\]()\r\n]")
_MD_URL = re.compile(r"[()\s<>]")


def is_image(file: ReplyFileLike) -> bool:
    mime = file.mime_type or mimetypes.guess_type(file.name or file.url)[0] or ""
    return mime.startswith("image/")


def model_dropdown(contract: ChatContract) -> ChatInput | None:
    """The Space's model dropdown (one choice at a time), whose choices serve as models."""
    slot = contract.option_for(OptionKind.MODEL)
    return slot if slot is not None and slot.choices and not slot.multiselect else None


def dropdown_choice(contract: ChatContract, wanted: str) -> tuple[ChatInput, JSONValue] | None:
    """The model dropdown and its choice named ``wanted`` (compared as text, so a
    numeric choice is found by its digits), if the Space has both."""
    slot = model_dropdown(contract)
    if slot is None:
        return None
    found = next((choice for choice in slot.choices or () if str(choice) == wanted), None)
    return None if found is None else (slot, found)


def sampling_options(contract: ChatContract, values: Mapping[OptionKind, object]) -> dict[str, object]:
    """OpenAI-style sampling settings (by the :class:`OptionKind` they are) as the
    Space's options by label; a setting the Space has no input for is left out
    (ignored, as OpenAI-compatible servers do with what a model does not take)."""
    options: dict[str, object] = {}
    for kind, value in values.items():
        slot = contract.option_for(kind)
        if slot is not None and slot.label is not None and value is not None:
            options[slot.label] = sampling_value(slot, value)
    return options


def sampling_value(slot: ChatInput, value: object) -> object:
    """``value`` for the input ``slot``: a token limit above the input's maximum
    becomes that maximum ("at most N tokens" is kept by any smaller limit)."""
    if (
        slot.kind is OptionKind.MAX_TOKENS
        and slot.maximum is not None
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value > slot.maximum
    ):
        return int(slot.maximum) if float(slot.maximum).is_integer() else slot.maximum
    return value


async def reply_pieces(
    space: SpaceClient, messages: Sequence[Mapping[str, Any]], options: Mapping[str, object]
) -> AsyncGenerator[Piece, None]:
    """The answer as :meth:`SpaceClient.chat` streams it, with the thoughts beside it:
    ``(True, text)`` for reasoning, ``(False, text)`` for the answer, and each file of
    the reply (the client's ``FileReply`` event's ``file``) as it arrives. Raises the package
    error as ``chat()`` does (a rewritten answer, an empty one); a reply of thoughts
    alone is not empty: its answer is empty text."""
    shown: str | None = None  # set at the first rewrite: the answer sent by then
    sent: list[str] = []
    thought = files = False
    async with contextlib.aclosing(space.events(messages, options=options)) as events:
        async for event in events:
            if type(event) is TextDelta:
                if shown is None:
                    sent.append(event.text)
                    yield False, event.text
            elif isinstance(event, ReasoningDelta):
                thought = True
                yield True, event.text
            elif (file := getattr(event, "file", None)) is not None:
                files = True
                yield file
            elif isinstance(event, Correction):
                if shown is None:
                    shown = "".join(sent)
            elif isinstance(event, Failed):
                raise event.error
            elif isinstance(event, Completed):
                if not event.text and not event.reasoning and not files:
                    raise empty_reply()
                if event.reasoning and not thought:
                    yield True, event.reasoning  # thoughts only in the completed reply
                if shown is not None:
                    raise ReplyRewrittenError(
                        "the Space rewrote part of the reply after it was streamed",
                        final_text=event.text,
                        partial_text=shown,
                    )


def refuse_files(provider: str, kwargs: Mapping[str, object]) -> None:
    """Refuse gpt4free's files (``media=``, ``images=``, and ``image=``, which gpt4free's
    clients turn into ``media`` but a direct call passes as is): the providers send text
    only for now, and a question without its image would be answered as if it had none."""
    given = [name for name in ("media", "images", "image") if _given(kwargs.get(name))]
    if given:
        raise InvalidMessagesError(
            f"{provider} sends text only ({given[0]}= was given): send the request without images or other files"
        )


def _given(value: object) -> bool:
    # Not `value in (None, [])`: an image may be an array, whose == is elementwise.
    return value is not None and not (isinstance(value, (list, tuple)) and not value)
