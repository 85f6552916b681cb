"""What an OpenAI-style request selects on a chat Space, for every way in that speaks
OpenAI's terms (``serve``, the gpt4free providers): the choice of the Space's model
dropdown a model id names, the inputs OpenAI's sampling parameters go to, and the
reply as answer, thought and file pieces, and gpt4free's files as content parts."""

from __future__ import annotations

import base64
import contextlib
import io
import mimetypes
import os
import re
from collections.abc import AsyncGenerator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeAlias

from ...protocol import ChatContract, Completed, FileReply, JSONValue, ReasoningDelta, TextDelta
from ...protocol._chat_contract import ChatInput, OptionKind
from ...protocol.errors import FileTooLargeError, UsageError
from ..core.client import SpaceClient
from ..core.files import LocalFile
from ..core.reply import ReplyCheck
from ..errors import InvalidMessagesError

__all__ = [
    "Piece",
    "ReplyFileLike",
    "dropdown_choice",
    "file_markdown",
    "is_image",
    "model_dropdown",
    "reply_pieces",
    "sampling_options",
    "sampling_value",
    "with_media",
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
    the reply (the client's ``FileReply`` event's ``file``) as it arrives. Ends as
    ``chat()`` does (:class:`ReplyCheck`: a failure, a rewritten answer or an empty reply
    raises); a reply of thoughts or files alone is not empty: its answer is empty text."""
    check = ReplyCheck(streamed=True)
    thought = False
    async with contextlib.aclosing(space.events(messages, options=options)) as events:
        async for event in events:
            if type(event) is TextDelta:
                if check.shown is None:
                    yield False, event.text
                continue
            if isinstance(event, ReasoningDelta):
                thought = True
                yield True, event.text
            elif isinstance(event, FileReply):
                yield event.file
            elif isinstance(event, Completed) and event.reasoning and not thought:
                yield True, event.reasoning  # thoughts only in the completed reply
            check.see(event)


def with_media(provider: str, messages: object, kwargs: Mapping[str, object]) -> object:
    """``messages`` with gpt4free's files (``media=``, ``images=``, ``image=`` with
    ``image_name=``) as OpenAI content parts of the last user message, for the client
    to upload: unnamed images as ``image_url`` parts, other files as ``file`` parts, each as a
    data URL. Takes what gpt4free passes: a list of ``(data, name)`` pairs or of bare
    values, data being bytes, a data URL, a local path (``str`` or path-like), an open
    binary file or a PIL image. An http(s) URL is refused, as ``serve`` refuses it: the
    client never fetches from its own network. Raises :class:`InvalidMessagesError`."""
    given = [(name, kwargs.get(name)) for name in ("media", "images", "image") if _given(kwargs.get(name))]
    if not given:
        return messages
    if not isinstance(messages, list) or not messages or not isinstance(messages[-1], Mapping):
        return messages  # the client refuses these messages, saying why
    parts: list[dict[str, object]] = []
    for argument, value in given:
        items = value if isinstance(value, list) else [value]
        for item in items:
            data, name = item if isinstance(item, tuple) and len(item) == 2 else (item, None)
            if argument == "image" and name is None:
                name = kwargs.get("image_name")
            parts.append(_part(provider, argument, data, name if isinstance(name, str) else None))
    last = messages[-1]
    content = last.get("content")
    text = [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])
    return [*messages[:-1], {**last, "content": [*text, *parts]}]


def _part(provider: str, argument: str, data: object, name: str | None) -> dict[str, object]:
    if isinstance(data, str) and data.startswith("data:"):
        url = data
        mime = data[5:].split(";", 1)[0].split(",", 1)[0]
    else:
        raw, name = _read(provider, argument, data, name)
        mime = (mimetypes.guess_type(name)[0] if name else None) or _sniff(raw)
        url = f"data:{mime};base64,{base64.b64encode(raw).decode()}"
    if mime.startswith("image/") and not name:
        return {"type": "image_url", "image_url": {"url": url}}
    # An image_url part carries no name: a named image goes as a file part, so the
    # Space gets the name gpt4free was given.
    return {"type": "file", "file": {"file_data": url, "filename": name or "file"}}


#: What the upload cap's message names: gpt4free's providers keep the client's default cap.
_CAP_ARGUMENT = "SpaceClient(max_upload_size=...) (the gpt4free providers keep the default cap)"


def _read(provider: str, argument: str, data: object, name: str | None) -> tuple[bytes, str | None]:
    if isinstance(data, (bytes, bytearray)):
        return bytes(data), name
    if isinstance(data, str) and data.startswith(("http://", "https://")):
        raise InvalidMessagesError(
            f"{provider} does not fetch URLs ({argument}= holds {data[:80]!r}): pass the file's bytes, a path "
            "or a data URL"
        )
    if isinstance(data, (str, os.PathLike)):
        # A regular file within the upload cap, checked before a byte is read (a FIFO or
        # a huge file would otherwise hang or fill memory first).
        try:
            file = LocalFile.read(data, argument=_CAP_ARGUMENT)
        except FileTooLargeError:
            raise
        except UsageError as error:
            raise InvalidMessagesError(f"{provider} cannot read {argument}=: {error}") from None
        return file.content, name or file.name
    save = getattr(data, "save", None)
    if callable(save) and hasattr(data, "format"):  # a PIL image
        buffer = io.BytesIO()
        save(buffer, getattr(data, "format", None) or "PNG")
        return buffer.getvalue(), name
    read = getattr(data, "read", None)
    if callable(read):
        raw = read()
        if isinstance(raw, bytes):
            return raw, name or (Path(getattr(data, "name", "")).name or None)
    raise InvalidMessagesError(
        f"{provider} cannot send {argument}= of type {type(data).__name__}: pass bytes, a path, a data URL, an open "
        "binary file or a PIL image"
    )


# Magic numbers of the images gpt4free's own checks accept, for bytes without a name.
_MAGIC = ((b"\x89PNG\r\n\x1a\n", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif"))


def _sniff(raw: bytes) -> str:
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        return "image/webp"
    return next((mime for magic, mime in _MAGIC if raw.startswith(magic)), "application/octet-stream")


def _given(value: object) -> bool:
    # Not `value in (None, [])`: an image may be an array, whose == is elementwise.
    return value is not None and not (isinstance(value, (list, tuple)) and not value)
