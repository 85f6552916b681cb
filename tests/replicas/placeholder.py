"""A Blocks chat that shows a status line while the model works, then replaces it wholesale
with the answer, as many Spaces wrapping a slow API do::

    history.append({"role": "assistant", "content": "⏳ Generating..."}); yield "", history
    ... history[-1]["content"] = partial_answer; yield "", history

Bound to the textbox's submit and the Send button's click.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.expected import STATUS
from tests.replicas.scripted import describe, messages_format, stream

MAJOR = int(gr.__version__.split(".")[0])


def respond(message: str, chat_history: list[Any]) -> Iterator[tuple[str, list[Any]]]:
    earlier = list(chat_history or [])
    history = [*earlier, {"role": "user", "content": message}, {"role": "assistant", "content": STATUS}]
    yield "", history
    for text in stream(describe(message, earlier), message):
        history[-1] = {"role": "assistant", "content": text}
        yield "", history


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        chatbot = gr.Chatbot(label="Assistant", **messages_format(MAJOR))
        msg = gr.Textbox(label="Message")
        send = gr.Button("Send")
        msg.submit(respond, [msg, chatbot], [msg, chatbot])
        send.click(respond, [msg, chatbot], [msg, chatbot])
    demo.queue()
    return demo
