"""``gr.ChatInterface(multimodal=True)``, the way multimodal chat Spaces start: the message is
``{"text": ..., "files": [paths]}``; the scripted model describes the text and each file
it received (name, size in bytes, sha256 prefix) so a test proves the exact bytes arrived.
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
    yield from stream(f"{describe(text, history)} {file_facts(files)}", text)


def build() -> gr.Blocks:
    return gr.ChatInterface(respond, multimodal=True, title="Multimodal chat", **messages_format(MAJOR))
