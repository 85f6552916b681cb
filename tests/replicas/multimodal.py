"""A multimodal ChatInterface: the message is ``{"text": ..., "files": [paths]}``, messages history."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, messages_format, stream

MAJOR = int(gr.__version__.split(".")[0])


def look(message: dict[str, Any], history: list[Any]) -> Iterator[str]:
    text = str(message.get("text") or "")
    files = [f if isinstance(f, str) else str(f.get("path", "")) for f in message.get("files") or []]
    yield from stream(describe(text, history, files=files), text)


def build() -> gr.Blocks:
    return gr.ChatInterface(look, multimodal=True, **messages_format(MAJOR))
