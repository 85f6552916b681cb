"""``gr.ChatInterface(multimodal=True)``, the way multimodal chat Spaces start: the message is
``{"text": ..., "files": [paths]}``; the scripted model describes the text and each file
it received (name, size in bytes, sha256 prefix) so a test proves the exact bytes arrived.
With ``!history-files`` in the message it also describes the files of the earlier turns.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, file_facts, files_in, messages_format, stream

MAJOR = int(gr.__version__.split(".")[0])


def respond(message: dict[str, Any], history: list[Any]) -> Iterator[str]:
    text = str(message.get("text") or "")
    files = [p for f in message.get("files") or [] for p in ([f] if isinstance(f, str) else files_in(f))]
    answer = f"{describe(text, history)} {file_facts(files)}"
    if "!history-files" in text:
        earlier = [p for entry in history or [] for p in _files_of(entry)]
        answer += f" Earlier {file_facts(earlier)}"
    yield from stream(answer, text)


def _files_of(entry: Any) -> list[str]:
    """A history entry's files: a message's content, or each side of a (user, bot) pair."""
    if isinstance(entry, dict):
        return files_in(entry.get("content"))
    return [p for side in entry if side is not None for p in files_in(side)] if isinstance(entry, list) else []


def build() -> gr.Blocks:
    return gr.ChatInterface(respond, multimodal=True, title="Multimodal chat", **messages_format(MAJOR))
