"""A ``gr.TabbedInterface`` of two ChatInterfaces, as Spaces offering two models do: each tab
its own message box and chain. Their answers start with the tab's model name so a test
can tell which one answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, messages_format, stream

MAJOR = int(gr.__version__.split(".")[0])
TABS = ("Alpha", "Beta")


def model(name: str) -> Callable[[str, list[Any]], Iterator[str]]:
    def chat(message: str, history: list[Any]) -> Iterator[str]:
        yield from stream(f"{name} says: {describe(message, history)}", message)

    chat.__name__ = f"chat_{name.lower()}"
    return chat


def build() -> gr.Blocks:
    chats = [gr.ChatInterface(model(name), title=name, **messages_format(MAJOR)) for name in TABS]
    return gr.TabbedInterface(chats, list(TABS))
