"""A plain ChatInterface behind ``launch(auth=("user", "pass"))``: ``serve.py`` passes
``AUTH`` to ``gr.mount_gradio_app(auth=...)``, which installs the same login routes and
checks as ``launch()`` does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas import LOGIN
from tests.replicas.scripted import describe, messages_format, stream

MAJOR = int(gr.__version__.split(".")[0])
AUTH = LOGIN


def echo(message: str, history: list[Any]) -> Iterator[str]:
    yield from stream(describe(message, history), message)


def build() -> gr.Blocks:
    return gr.ChatInterface(echo, **messages_format(MAJOR))
