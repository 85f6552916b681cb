"""A plain streaming ChatInterface in messages format (openai-style role/content history)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, messages_format, stream

MAJOR = int(gr.__version__.split(".")[0])


def echo(message: str, history: list[Any]) -> Iterator[str]:
    yield from stream(describe(message, history), message)


def build() -> gr.Blocks:
    return gr.ChatInterface(echo, **messages_format(MAJOR))
