"""A chat whose event also fills a ``gr.Image`` beside the Chatbot (the picture of the
answer, as "chat with a diagram" Spaces show it)::

    msg.submit(respond, [msg, chatbot], [msg, chatbot, image])

The image is the prompt's deterministic PNG (``scripted.png_for``), set with the last yield.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, messages_format, png_for, stream

MAJOR = int(gr.__version__.split(".")[0])


def respond(message: str, chat_history: list[Any]) -> Iterator[tuple[str, list[Any], str | None]]:
    earlier = list(chat_history or [])
    history = [*earlier, {"role": "user", "content": message}]
    for text in stream(describe(message, earlier), message):
        yield "", [*history, {"role": "assistant", "content": text}], None
    yield "", [*history, {"role": "assistant", "content": text}], str(png_for(message))


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        with gr.Row():
            with gr.Column():
                chatbot = gr.Chatbot(label="Chat", **messages_format(MAJOR))
                msg = gr.Textbox(label="Message")
            image = gr.Image(label="Picture", type="filepath", interactive=False)
        msg.submit(respond, [msg, chatbot], [msg, chatbot, image])
    demo.queue()
    return demo
