"""A plain streaming ChatInterface in tuples format (``[[user, bot], ...]`` history).

Gradio 6.0 removed tuples (``ChatInterface`` and ``Chatbot`` have no ``type``): not buildable there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import NotBuildableError, describe, stream

MAJOR = int(gr.__version__.split(".")[0])


def echo(message: str, history: list[Any]) -> Iterator[str]:
    yield from stream(describe(message, history), message)


def build() -> gr.Blocks:
    if MAJOR >= 6:
        raise NotBuildableError(f"Gradio {gr.__version__} has no tuples chatbot (removed in 6.0)")
    # Passed as a mapping: the keyword is gone from the Gradio 6 the type checker may see.
    tuples: dict[str, Any] = {"type": "tuples"}
    return gr.ChatInterface(echo, **tuples)
