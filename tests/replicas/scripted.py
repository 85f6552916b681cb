"""The scripted model shared by the replica apps: it answers with what it received.

The answer names the message, the number of earlier turns and the last of them, the
system prompt and every option, in a fixed order, so tests compare exact texts::

    Message: "hi". Earlier turns: 1, the last: "a" -> "b". System message: "Be brief". Temperature: 0.7.

It streams word by word (each yield is the whole text so far, as chat functions yield).
Directives in the message reach the slow and failing paths without changing any layout:

* ``!tokens=N``  append N tokens ``tok0 tok1 ...`` to the answer;
* ``!delay=S``   sleep S seconds before each word (default 0);
* ``!fail``      raise ``ValueError`` after 2 words;
* ``!shape``     append the shape the history arrived in (tuples, messages or empty);
* ``!history-shape``  append each history entry's role and the kinds of its content
  (``user[file,text] assistant[text]``: text, empty, file, component, none), as the
  app's function received it;
* ``!id=NAME``   append ``yield NAME <unix time>`` to the file named by ``REPLICA_LOG`` for
  every yield, the format ``tests/live/conftest.py``'s ``Replica.yields`` counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path, PurePath
from typing import Any


def text_of(content: Any) -> str:
    """The text of a chat message's content in any release's shape (str, parts, file)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        # 6.x normalises content to typed parts, but the ChatInterface API event keeps a
        # multimodal message as it built it: bare strings beside {"path": ...} files.
        return "".join(
            p if isinstance(p, str) else str(p.get("text", ""))
            for p in content
            if isinstance(p, str) or (isinstance(p, dict) and p.get("type") == "text")
        )
    if isinstance(content, dict) and isinstance(content.get("text"), str):
        return str(content["text"])
    return ""


def turns_of(history: Sequence[Any] | None) -> list[tuple[str, str]]:
    """(user, assistant) text pairs of a history in tuples or messages shape.

    Thoughts (assistant messages whose metadata has a title) are not part of an answer;
    file-only messages (a user's upload) carry no text and are skipped.
    """
    history = list(history or [])
    if history and isinstance(history[0], (list, tuple)):
        return [(text_of(u), text_of(a)) for u, a in history if isinstance(u, str) or isinstance(a, str)]
    turns: list[tuple[str, str]] = []
    user: str | None = None
    answer: list[str] = []
    for message in history:
        if not isinstance(message, Mapping):
            continue
        metadata = message.get("metadata")
        if message.get("role") == "user":
            if user is not None and answer:
                turns.append((user, " ".join(answer)))
                answer = []
            text = text_of(message.get("content"))
            if text or user is None:
                user = text
        elif message.get("role") == "assistant" and not (isinstance(metadata, Mapping) and metadata.get("title")):
            answer.append(text_of(message.get("content")))
    if user is not None and answer:
        turns.append((user, " ".join(answer)))
    return turns


def show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def describe(
    message: str,
    history: Sequence[Any] | None,
    *,
    system: tuple[str, str] | None = None,
    options: Sequence[tuple[str, Any]] = (),
    files: Sequence[str] = (),
) -> str:
    """What the model received, as one line of text.

    ``system`` is (label, value); ``options`` are (label, value) in the app's input order.
    """
    turns = turns_of(history)
    parts = [f"Message: {show(message)}."]
    if files:
        parts.append(f"Files: {show([PurePath(f).name for f in files])}.")
    if turns:
        user, assistant = turns[-1]
        parts.append(f"Earlier turns: {len(turns)}, the last: {show(user)} -> {show(assistant)}.")
    else:
        parts.append("Earlier turns: 0.")
    if system is not None:
        parts.append(f"{system[0]}: {show(system[1])}.")
    parts.extend(f"{label}: {show(value)}." for label, value in options)
    if "!shape" in message:
        first = (history or [None])[0]
        shape = "tuples" if isinstance(first, (list, tuple)) else "messages" if isinstance(first, Mapping) else "empty"
        parts.append(f"History shape: {shape}.")
    if "!history-shape" in message:
        parts.append(f"History: {history_shape(history)}.")
    return " ".join(parts)


def history_shape(history: Sequence[Any] | None) -> str:
    """Each entry as ``role[kinds]`` (messages) or ``[user kinds|assistant kinds]`` (tuples)."""
    shown = []
    for entry in history or []:
        if isinstance(entry, Mapping):
            content = entry.get("content")
            items = content if isinstance(content, list) else [content]
            shown.append(f"{entry.get('role')}[{','.join(_kind(c) for c in items)}]")
        elif isinstance(entry, (list, tuple)):
            shown.append(f"[{'|'.join(_kind(side) for side in entry)}]")
    return " ".join(shown) or "empty"


def _kind(content: Any) -> str:
    if content is None:
        return "none"
    if isinstance(content, str):
        return "text" if content else "empty"
    if isinstance(content, tuple):
        return "file"
    if isinstance(content, Mapping):
        if content.get("type") == "text":
            return "text" if content.get("text") else "empty"
        if content.get("type") == "component":
            return "component"
        if content.get("type") == "file" or "file" in content or "path" in content:
            return "file"
    return "other"


def stream(answer: str, message: str) -> Iterator[str]:
    """``answer`` word by word, each yield the whole text so far, steered by ``message``'s directives."""
    words = answer.split(" ")
    if m := re.search(r"!tokens=(\d+)", message):
        words += [f"tok{i}" for i in range(int(m.group(1)))]
    delay = float(m.group(1)) if (m := re.search(r"!delay=([\d.]+)", message)) else 0.0
    marker = re.search(r"!id=(\S+)", message) if os.environ.get("REPLICA_LOG") else None
    for i in range(len(words)):
        if "!fail" in message and i == 2:
            raise ValueError("the scripted model failed on purpose (!fail)")
        if delay:
            time.sleep(delay)
        stamp = time.time()
        try:
            yield " ".join(words[: i + 1])
        finally:
            if marker:
                with open(os.environ["REPLICA_LOG"], "a", encoding="utf-8") as log:
                    log.write(f"yield {marker.group(1)} {stamp:.6f}\n")


class NotBuildableError(RuntimeError):
    """This Gradio release cannot build the app (``serve.py`` exits with status 3)."""


def messages_format(major: int) -> dict[str, Any]:
    """The keyword that asks for a messages chatbot: ``type`` before 6.0, the only format after."""
    return {"type": "messages"} if major < 6 else {}


def file_facts(paths: Sequence[str]) -> str:
    """Each file's name, size in bytes and sha256 prefix, so a test proves which bytes arrived."""
    facts = []
    for path in paths:
        data = Path(path).read_bytes()
        facts.append(f"{PurePath(path).name} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:12]})")
    return f"Files received: {show(facts)}." if facts else "Files received: none."


def files_in(content: Any) -> list[str]:
    """Server paths of the files in a chat message's content, in any release's shape.

    4.44 and 5.x preprocess a file message to ``(path,)`` or ``(path, alt_text)``, 6.x to
    a list of parts with ``"type": "file"``; postprocessed values hold
    ``{"file": {"path": ...}}`` and an app's own ``{"path": ...}``.
    """
    if isinstance(content, tuple):
        return [content[0]] if content and isinstance(content[0], str) else []
    paths: list[str] = []
    for item in content if isinstance(content, list) else [content]:
        if not isinstance(item, Mapping) or item.get("type") == "text":
            continue
        inner: Mapping[str, Any] = item["file"] if isinstance(item.get("file"), Mapping) else item
        if isinstance(inner.get("path"), str):
            paths.append(str(inner["path"]))
    return paths


def png_for(prompt: str) -> Path:
    """An 8x8 PNG whose colours derive from ``prompt``, written with the stdlib (its bytes do
    not depend on an imaging library's version) into the system's temp directory, which a
    launched app may serve."""
    import struct
    import tempfile
    import zlib

    digest = hashlib.sha256(prompt.encode()).digest()
    rows = b"".join(b"\x00" + bytes(digest[(x + y) % 30 + c] for x in range(8) for c in range(3)) for y in range(8))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")
    folder = Path(tempfile.gettempdir()) / "replica-images"
    folder.mkdir(exist_ok=True)
    target = folder / f"answer-{digest.hex()[:12]}.png"
    if not target.exists():
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(png)
        partial.replace(target)
    return target
