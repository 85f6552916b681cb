"""The files a recorded chat sent and received, by name and sha256, for ``cassette diff``.

A file changed between two recordings shows in neither text: an upload is a multipart
body (stored as base64 when it is not UTF-8), a reply file a URL. Sent files are read
from the recording's upload requests (``{api_prefix}/upload``, one part per file, as
Gradio reads them); received files are the reply's files the client found, hashed from
their download when the recording fetched them (``space.download`` or ``--save-files``
inside the recording). Otherwise only their name and size are known, and the diff says so.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from yarl import URL

from ...protocol import ReplyFile
from .scrubbing import multipart_boundary
from .storage import Interaction

__all__ = ["RecordedFile", "file_lines", "received_files", "sent_files"]

_FILENAME = re.compile(rb'filename="([^"]*)"')
# Browsers (and qwen-space) escape these three in a part's file name.
_NAME_ESCAPES = {"%22": '"', "%0D": "\r", "%0A": "\n"}


@dataclass(frozen=True, slots=True)
class RecordedFile:
    """A file a recording holds: ``sha256`` (hex) and ``size`` when its bytes are in it."""

    name: str
    sha256: str | None
    size: int | None


def sent_files(interactions: Sequence[Interaction]) -> list[RecordedFile]:
    """Every file part of the recording's upload requests, in order."""
    files: list[RecordedFile] = []
    for interaction in interactions:
        body = interaction.request_bytes
        if interaction.method == "POST" and interaction.route.endswith("/upload") and body:
            files += _parts(body)
    return files


def received_files(interactions: Sequence[Interaction], reply: Sequence[ReplyFile]) -> list[RecordedFile]:
    """The reply's files, each with the bytes of its recorded download if there is one."""
    downloads: dict[str, bytes] = {}
    for interaction in interactions:
        if interaction.method == "GET" and interaction.status == 200:
            try:
                downloads[URL(interaction.uri).path] = interaction.response_bytes
            except (ValueError, TypeError):  # yarl refuses the URL: a hand-edited cassette
                continue
    files: list[RecordedFile] = []
    for file in reply:
        try:
            content = downloads.get(URL(file.url).path)
        except (ValueError, TypeError):
            content = None
        if content is None:
            files.append(RecordedFile(file.name, None, file.size))
        else:
            files.append(RecordedFile(file.name, hashlib.sha256(content).hexdigest(), len(content)))
    return files


def file_lines(kind: str, old: Sequence[RecordedFile], new: Sequence[RecordedFile]) -> list[str]:
    """One line per file of ``kind`` ("sent file", "reply file") added, removed or changed;
    files are paired by name (the n-th of a name with the n-th)."""
    lines: list[str] = []
    paired_old, paired_new = _by_name(old), _by_name(new)
    for key in [*paired_old, *(k for k in paired_new if k not in paired_old)]:
        a, b = paired_old.get(key), paired_new.get(key)
        name = _shown(key[0])
        if a is None and b is not None:
            lines.append(f"{kind} {name}: added ({_facts(b)})")
        elif b is None and a is not None:
            lines.append(f"{kind} {name}: removed ({_facts(a)})")
        elif a is not None and b is not None and (a.sha256, a.size) != (b.sha256, b.size):
            lines.append(f"{kind} {name}: {_facts(a)} -> {_facts(b)}")
    return lines


def _parts(body: bytes) -> list[RecordedFile]:
    boundary = multipart_boundary(body)
    if boundary is None:
        return []
    files: list[RecordedFile] = []
    # Between the first delimiter and the closing one: "\r\n" headers "\r\n\r\n" content "\r\n".
    for part in body.split(b"--" + boundary)[1:-1]:
        headers, separator, content = part.partition(b"\r\n\r\n")
        found = _FILENAME.search(headers)
        if not separator or found is None:
            continue
        content = content.removesuffix(b"\r\n")
        name = found.group(1).decode("utf-8", "replace")
        for escape, character in _NAME_ESCAPES.items():
            name = name.replace(escape, character)
        files.append(RecordedFile(name, hashlib.sha256(content).hexdigest(), len(content)))
    return files


def _by_name(files: Sequence[RecordedFile]) -> dict[tuple[str, int], RecordedFile]:
    seen: dict[str, int] = {}
    paired: dict[tuple[str, int], RecordedFile] = {}
    for file in files:
        number = seen.get(file.name, 0)
        seen[file.name] = number + 1
        paired[(file.name, number)] = file
    return paired


def _facts(file: RecordedFile) -> str:
    size = "size unknown" if file.size is None else f"{file.size:,} bytes"
    digest = "not downloaded in the recording" if file.sha256 is None else f"sha256 {file.sha256}"
    return f"{digest}, {size}"


def _shown(name: str) -> str:
    """The name quoted, control characters shown as escapes (a recording's text is not trusted)."""
    text = repr(name if len(name) <= 120 else name[:117] + "...")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
