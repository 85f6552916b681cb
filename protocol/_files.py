"""Files as Gradio values: what a call carries for an uploaded file, and the files a
reply holds.

A call names an uploaded file by a ``FileData`` value (the path the upload answered,
``meta`` marking it as a file: Gradio 4.44, 5.x and 6.x all take the same dict). A
MultimodalTextbox takes ``{"text", "files"}``; a Chatbot that shows the user's files
holds one entry per file, in the shape of its release (see :func:`user_file_entries`).

A reply's files are ``FileData`` values wherever the release puts them: a Chatbot
message's content (``{"file": ...}``, ``{"component": "image", "value": ...}``, 6.x
parts), a gr.Image or gr.File value, a gallery's entries. :func:`files_in` finds them
in any of these by their shape, so a new wrapper around a file does not hide it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from ._chatbot import ChatbotFormat
from ._file_names import guess_mime_type, percent_decoded, percent_encoded
from ._json import JSONValue
from ._release import Release
from .errors import RemoteProtocolError, UsageError

__all__ = [
    "FILE_COMPONENTS",
    "FILE_DATA_META",
    "ReplyFile",
    "chatbot_reply_files",
    "file_data",
    "file_part",
    "files_in",
    "multimodal_value",
    "reply_file_data",
    "reply_files",
    "user_file_entries",
]

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
FILE_DATA_META: dict[str, JSONValue] = {"_type": "gradio.FileData"}
#: Inputs that take one file (an uploaded ``FileData``): a vision chat's image, a document.
FILE_COMPONENTS = frozenset({"image", "file", "audio", "video"})
#: Outputs whose value holds files a reply may carry beside the Chatbot.
_FILE_OUTPUTS = FILE_COMPONENTS | {"gallery", "model3d"}


def file_data(path: str, *, name: str, size: int, mime_type: str | None = None) -> dict[str, JSONValue]:
    """The ``FileData`` value naming a file the Space's upload stored at ``path``."""
    if not isinstance(path, str) or not path:
        raise UsageError("an uploaded file's path must be the non-empty string the upload answered")
    return {"path": path, "orig_name": name, "size": size, "mime_type": mime_type, "meta": dict(FILE_DATA_META)}


def multimodal_value(text: str, files: Sequence[Mapping[str, JSONValue]]) -> dict[str, JSONValue]:
    """A MultimodalTextbox's value: the text and the uploaded files' ``FileData``."""
    return {"text": text, "files": [dict(f) for f in files]}


def user_file_entries(
    files: Sequence[Mapping[str, JSONValue]], *, chatbot: ChatbotFormat, release: Release, role: str = "user"
) -> list[JSONValue]:
    """The Chatbot entries a browser's chat holds for files sent by ``role`` (the user's
    uploads, or the assistant's reply files), one per file.

    Tuples (4.x, 5.x): ``[{"file": FileData, "alt_text": null}, null]`` (the file on the
    right for the assistant). Messages: ``{"role": ..., "content": {"file": ..., "alt_text": null}}``
    as ``release`` writes a message (:meth:`Release.message`: 4.44 refuses ``"metadata": null``;
    6.x holds a list of parts, the file one ``"type": "file"``).
    """
    if files and chatbot is ChatbotFormat.TEXT:
        raise UsageError(f"a {chatbot.value} output has no chat entries to put files in")
    uploads: list[JSONValue] = [{"file": dict(item), "alt_text": None} for item in files]
    if chatbot is ChatbotFormat.TUPLES:
        return [[upload, None] if role == "user" else [None, upload] for upload in uploads]
    return [release.message(role, upload, chatbot) for upload in uploads]


def file_part(file: Mapping[str, JSONValue]) -> dict[str, JSONValue]:
    """A file as one part of a 6.x normalised Chatbot message (``FileMessage``)."""
    return {"type": "file", "file": dict(file), "alt_text": None}


def reply_file_data(file: ReplyFile) -> dict[str, JSONValue]:
    """A reply's file as the ``FileData`` the browser's Chatbot sends back with the
    history: the path the Space handed out (its own cache, which a launched Space
    accepts back, unlike a path it did not hand out), its URL, name, size and type."""
    return {
        "path": file.path or file.url,
        "url": file.url,
        "orig_name": file.name,
        "size": file.size,
        "mime_type": file.mime_type,
        "meta": dict(FILE_DATA_META),
    }


@dataclass(frozen=True, slots=True)
class ReplyFile:
    """A file in a Space's reply.

    ``url`` is absolute (on the Space's origin, or wherever the app pointed);
    ``name`` is the name the app gave, unsanitised (use ``safe_filename`` before
    saving it); ``mime_type`` is the Space's, or guessed from the name; ``size`` in
    bytes when the Space said; ``path`` the Space's own name for it (its ``FileData``
    path); ``in_chat`` whether it is in the Chatbot's reply (not an output beside it): those
    go back in a later turn's history, as the browser's Chatbot holds them (:func:`reply_file_data`).
    """

    url: str
    name: str
    mime_type: str
    size: int | None = None
    path: str | None = field(default=None, compare=False)
    in_chat: bool = field(default=False, compare=False)


def files_in(value: object, *, root: str, api_prefix: str = "") -> tuple[ReplyFile, ...]:
    """Every file in an output value, in order, each once.

    ``root`` is the Space's base URL and ``api_prefix`` its config's (``/gradio_api``
    on 5.x and 6.x, none on 4.x): a file without an absolute URL is served there.
    """
    found: dict[str, ReplyFile] = {}
    stack: list[object] = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            if _is_file_data(item):
                reply = _reply_file(item, root, api_prefix)
                found.setdefault(reply.url, reply)
            else:
                stack.extend(reversed(list(item.values())))
        elif isinstance(item, list | tuple):
            stack.extend(reversed(item))
    return tuple(found.values())


def chatbot_reply_files(value: object, *, root: str, api_prefix: str = "", since: int = 0) -> tuple[ReplyFile, ...]:
    """The files of the assistant's entries of a Chatbot value from entry ``since`` on
    (the user's own files, earlier in the chat, are not the reply's)."""
    if not isinstance(value, list):
        raise RemoteProtocolError(f"a Chatbot value must be a list, got {type(value).__name__}")
    replies: list[object] = []
    for entry in value[since:]:
        if isinstance(entry, Mapping) and entry.get("role") == "assistant":
            replies.append(entry.get("content"))
        elif isinstance(entry, list) and len(entry) == 2:
            replies.append(entry[1])
    return files_in(replies, root=root, api_prefix=api_prefix)


def reply_files(
    outputs: Sequence[JSONValue],
    output_types: Sequence[str],
    *,
    chatbot_slot: int | None,
    since: int,
    root: str,
    api_prefix: str = "",
) -> tuple[ReplyFile, ...]:
    """The files of a chat's final outputs: the Chatbot's (``chatbot_slot``) assistant
    entries from ``since`` on, then every file-like output's, each once. A
    ``chatbot_slot`` whose value is not a list (a ChatInterface API's reply) is searched whole."""
    found: dict[str, ReplyFile] = {}
    for slot, value in enumerate(outputs):
        kind = output_types[slot] if slot < len(output_types) else ""
        if slot == chatbot_slot:
            files = tuple(
                replace(f, in_chat=True)
                for f in (
                    chatbot_reply_files(value, root=root, api_prefix=api_prefix, since=since)
                    if isinstance(value, list)
                    else files_in(value, root=root, api_prefix=api_prefix)
                )
            )
        elif kind in _FILE_OUTPUTS:
            files = files_in(value, root=root, api_prefix=api_prefix)
        else:
            continue
        for file in files:
            found.setdefault(file.url, file)
    return tuple(found.values())


def _is_file_data(item: Mapping[object, object]) -> bool:
    meta = item.get("meta")
    marked = isinstance(meta, Mapping) and meta.get("_type") == "gradio.FileData"
    return isinstance(item.get("path"), str) and (marked or isinstance(item.get("url"), str))


def _reply_file(item: Mapping[object, object], root: str, api_prefix: str) -> ReplyFile:
    path = item.get("path")
    url = item.get("url")
    assert isinstance(path, str)
    address = _absolute(url, root) if isinstance(url, str) and url else f"{root.rstrip('/')}{api_prefix}/file={path}"
    orig = item.get("orig_name")
    name = orig if isinstance(orig, str) and orig else _last_segment(path) or _last_segment(address) or "file"
    mime = item.get("mime_type")
    size = item.get("size")
    return ReplyFile(
        url=_printable(address),
        name=name,
        mime_type=mime if isinstance(mime, str) and "/" in mime else guess_mime_type(name),
        size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        path=path,
    )


def _printable(url: str) -> str:
    # The URL reaches terminals and Markdown links: escape sequences, line breaks, bidi
    # overrides and spaces are percent-encoded (as a browser's URL parser does), so what
    # is shown is what is fetched.
    return "".join(c if c.isprintable() and c != " " else percent_encoded(c) for c in url)


def _absolute(url: str, root: str) -> str:
    match = _SCHEME.match(url)
    scheme = match.group(1).lower() if match else ""
    if scheme in ("http", "https"):
        return url
    if scheme:
        raise RemoteProtocolError(
            f"a file in the reply has a {scheme}: URL, which is not a Space's file: {url[:100]!r}"
        )
    return f"{root.rstrip('/')}{'' if url.startswith('/') else '/'}{url}"


def _last_segment(path: str) -> str:
    base = path.split("?", 1)[0].split("#", 1)[0] if "://" in path else path
    return percent_decoded(base.replace("\\", "/").rsplit("/", 1)[-1].rsplit("=", 1)[-1]).decode("utf-8", "replace")
