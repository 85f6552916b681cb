"""The Hub's ChatInterface template: ``respond(message, history, system_message, max_tokens,
temperature, top_p)`` with its four additional inputs, labelled as the template labels them.

Messages format on every release (``type="messages"`` on 4.44 and 5.x, the only format on 6.x).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, messages_format, stream

MAJOR = int(gr.__version__.split(".")[0])


def respond(
    message: str,
    history: list[Any],
    system_message: str,
    max_tokens: int,
    temperature: float,
    top_p: float,
) -> Iterator[str]:
    answer = describe(
        message,
        history,
        system=("System message", system_message),
        options=[("Max new tokens", max_tokens), ("Temperature", temperature), ("Top-p (nucleus sampling)", top_p)],
    )
    yield from stream(answer, message)


def build() -> gr.Blocks:
    return gr.ChatInterface(
        respond,
        additional_inputs=[
            gr.Textbox(value="You are a friendly Chatbot.", label="System message"),
            gr.Slider(minimum=1, maximum=2048, value=512, step=1, label="Max new tokens"),
            gr.Slider(minimum=0.1, maximum=4.0, value=0.7, step=0.1, label="Temperature"),
            gr.Slider(minimum=0.1, maximum=1.0, value=0.95, step=0.05, label="Top-p (nucleus sampling)"),
        ],
        **messages_format(MAJOR),
    )
