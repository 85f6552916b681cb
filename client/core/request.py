"""OpenAI/gpt4free-shaped messages to a chat's parts: the query, earlier turns, the system
prompt, and the files attached to user messages.

Everything here runs before any network call, so bad input costs nothing and
fails with :class:`InvalidMessagesError` saying what to fix. Files come as OpenAI
content parts (``image_url`` and ``file`` with a ``data:`` URL, size-checked before
decoding) or as ``files=`` (paths or :class:`LocalFile`), which join the last user message.
The library never fetches a URL itself: an http(s) ``image_url`` is refused.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ...protocol import JSONValue, Turn
from ...protocol._file_names import guess_mime_type
from ...protocol._upload import parse_data_url
from ..errors import InvalidMessagesError
from .files import DEFAULT_MAX_UPLOAD_SIZE, LocalFile

#: What ``files=`` takes: paths, or files already read.
FileLike = str | os.PathLike[str] | LocalFile

__all__ = ["DEFAULT_MAX_PROMPT_CHARS", "DEFAULT_SYSTEM", "ChatRequest", "FileLike", "prepare_request"]

#: The original provider's system prompt when the conversation has none.
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
    #: The files of the query (the last user message and ``files=``), in order.
    files: tuple[LocalFile, ...] = ()
    #: The files of each earlier turn's user messages, parallel to ``history``.
    history_files: tuple[tuple[LocalFile, ...], ...] = ()
    #: The files of each earlier reply as the Space handed them out (``reply_file_data``):
    #: sent back as they are, not uploaded again.
    history_reply_files: tuple[tuple[dict[str, JSONValue], ...], ...] = ()

    @property
    def size(self) -> int:
        return len(self.query) + len(self.system or "") + sum(len(t.user) + len(t.assistant) for t in self.history)


def prepare_request(
    messages: object,
    *,
    system: str | None = None,
    max_chars: int = DEFAULT_MAX_PROMPT_CHARS,
    files: Sequence[FileLike] = (),
    max_upload_size: int = DEFAULT_MAX_UPLOAD_SIZE,
) -> ChatRequest:
    """Split ``messages`` into the Space's inputs.

    A string is one user message. System messages (anywhere) are joined with newlines
    into the system input, which ``system=`` replaces when given; the last message must
    be the user's query; earlier user/assistant messages become history turns, in order.
    ``files`` join the query's own files; each file is at most ``max_upload_size`` bytes.
    """
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    # Typed callers pass a sequence; gpt4free callers pass anything, so check.
    if isinstance(messages, bytes) or not isinstance(messages, Sequence):
        raise InvalidMessagesError("messages must be a list of {'role': ..., 'content': ...} dicts")
    if not messages:
        raise InvalidMessagesError("messages is empty: add at least one {'role': 'user', 'content': ...} message")
    if system is not None:
        if not isinstance(system, str):
            raise InvalidMessagesError(f"system must be a string, got {type(system).__name__}")
        _check_encodable(system, "system")
    parsed = [_parse(message, position, max_upload_size) for position, message in enumerate(messages)]
    systems = [text for role, text, _ in parsed if role == "system"]
    dialogue = [entry for entry in parsed if entry[0] != "system"]
    if not dialogue or dialogue[-1][0] != "user":
        raise InvalidMessagesError(
            "the last non-system message must come from the user (it is the question the Space answers)"
        )
    extra = _read_files(files, max_upload_size)
    if not dialogue[-1][1].strip() and not dialogue[-1][2] and not extra:
        raise InvalidMessagesError("the last user message is empty: there is nothing to answer")
    history, history_files, unanswered, unanswered_files = _turns(dialogue[:-1])
    request = ChatRequest(
        # User messages sent before the query without an answer are part of the question.
        query="\n".join([*unanswered, dialogue[-1][1]]),
        history=history,
        system=system if system is not None else ("\n".join(systems) if systems else None),
        files=(*unanswered_files, *dialogue[-1][2], *extra),
        history_files=history_files if any(history_files) else (),
    )
    if request.size > max_chars:
        raise InvalidMessagesError(
            f"the conversation has {request.size} characters, more than the limit of {max_chars}; "
            "the model behind the Space cannot take it: drop or summarise earlier turns (or raise max_prompt_chars)"
        )
    return request


def _parse(message: object, position: int, max_upload_size: int) -> tuple[str, str, tuple[LocalFile, ...]]:
    # type() first: isinstance against an ABC costs more than the rest of the check.
    if type(message) is not dict and not isinstance(message, Mapping):
        raise InvalidMessagesError(f"messages[{position}] must be a dict with 'role' and 'content'")
    role = message.get("role")
    if role not in _ROLES:
        raise InvalidMessagesError(f"messages[{position}] has role {role!r}; use one of {', '.join(_ROLES)}")
    assert isinstance(role, str)
    text, files = _content(message.get("content"), position, max_upload_size)
    _check_encodable(text, f"messages[{position}]")
    if files and role != "user":
        raise InvalidMessagesError(f"messages[{position}] ({role}) holds files; only user messages can attach files")
    return role, text, files


def _check_encodable(text: str, where: str) -> None:
    """Refuse text that UTF-8 cannot carry (lone surrogates, from broken decoding)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidMessagesError(
            f"{where} holds {text[exc.start : exc.end]!r} at character {exc.start}, which cannot be sent as UTF-8 "
            "(a lone surrogate, usually from text decoded with errors='surrogateescape'); fix the text"
        ) from None


def _content(content: object, position: int, max_upload_size: int) -> tuple[str, tuple[LocalFile, ...]]:
    """A message's text and files: a string, or OpenAI content parts."""
    if isinstance(content, str):
        return content, ()
    if isinstance(content, (bytes, bytearray)) or not isinstance(content, Sequence):
        raise InvalidMessagesError(
            f"messages[{position}]['content'] must be a string or a list of content parts, got {type(content).__name__}"
        )
    texts: list[str] = []
    files: list[LocalFile] = []
    for number, part in enumerate(content):
        where = f"messages[{position}]['content'][{number}]"
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind == "image_url":
            files.append(_image_part(part.get("image_url"), where, len(files), max_upload_size))
        elif kind == "file":
            files.append(_file_part(part.get("file"), where, len(files), max_upload_size))
        else:
            raise InvalidMessagesError(
                f"{where} is not a content part qwen-space takes ({str(kind or type(part).__name__)[:40]!r}); use "
                "{'type': 'text', 'text': ...}, {'type': 'image_url', 'image_url': {'url': 'data:...'}} or "
                "{'type': 'file', 'file': {'file_data': 'data:...', 'filename': ...}}"
            )
    return "".join(texts), tuple(files)


def _image_part(image: object, where: str, number: int, max_upload_size: int) -> LocalFile:
    url = image.get("url") if isinstance(image, Mapping) else image
    if not isinstance(url, str):
        raise InvalidMessagesError(f"{where} needs image_url.url, a data: URL")
    if url[:5].lower() != "data:":
        raise InvalidMessagesError(
            f"{where} has an image URL ({url[:60]!r}): qwen-space never fetches URLs itself; send the image "
            "as a data URL (data:image/png;base64,...) instead"
        )
    data = parse_data_url(url, limit=max_upload_size, argument="max_upload_size=")
    extension = guess_extension(data.mime_type)
    return LocalFile(f"image{number + 1 if number else ''}{extension}", data.data, data.mime_type)


def _file_part(file: object, where: str, number: int, max_upload_size: int) -> LocalFile:
    url = file.get("file_data") if isinstance(file, Mapping) else None
    if not isinstance(url, str):
        raise InvalidMessagesError(f"{where} needs file.file_data, a data: URL (file ids are not supported)")
    assert isinstance(file, Mapping)
    data = parse_data_url(url, limit=max_upload_size, argument="max_upload_size=")
    name = file.get("filename")
    if not isinstance(name, str) or not name:
        name = f"file{number + 1 if number else ''}{guess_extension(data.mime_type)}"
    return LocalFile(name, data.data, data.mime_type)


def guess_extension(mime_type: str) -> str:
    """A file extension for a media type, for parts that come without a name."""
    for extension in (".png", ".jpg", ".gif", ".webp", ".pdf", ".txt", ".wav", ".mp3", ".mp4", ".json", ".csv"):
        if guess_mime_type(f"x{extension}") == mime_type:
            return extension
    return ""


def _read_files(files: object, max_upload_size: int) -> tuple[LocalFile, ...]:
    if isinstance(files, (str, bytes, os.PathLike)) or not isinstance(files, Sequence):
        raise InvalidMessagesError("files must be a list of paths or LocalFile values")
    read: list[LocalFile] = []
    for item in files:
        if isinstance(item, LocalFile):
            read.append(item)
        elif isinstance(item, (str, os.PathLike)):
            read.append(LocalFile.at(item, max_size=max_upload_size))
        else:
            raise InvalidMessagesError(f"files holds a {type(item).__name__}; give paths or LocalFile values")
    return tuple(read)


def _turns(
    dialogue: list[tuple[str, str, tuple[LocalFile, ...]]],
) -> tuple[tuple[Turn, ...], tuple[tuple[LocalFile, ...], ...], list[str], list[LocalFile]]:
    """Pair user and assistant messages (runs of one role joined with newlines), with the
    files of each turn's user messages; also return the trailing user messages that got
    no answer, and their files."""
    turns: list[Turn] = []
    turn_files: list[tuple[LocalFile, ...]] = []
    user: list[str] = []
    files: list[LocalFile] = []
    for role, text, attached in dialogue:
        if role == "user":
            user.append(text)
            files.extend(attached)
        elif user or not turns:
            turns.append(Turn("\n".join(user), text))
            turn_files.append(tuple(files))
            user, files = [], []
        else:
            turns[-1] = Turn(turns[-1].user, f"{turns[-1].assistant}\n{text}")
    return tuple(turns), tuple(turn_files), user, files
