"""Gradio's canonical Blocks chatbot (its ``chatbot_streaming`` demo): ``user`` appends the
message without the queue, then ``bot`` streams the answer into the Chatbot.

    msg.submit(user, [msg, chatbot], [msg, chatbot], queue=False).then(bot, chatbot, chatbot)

``bot`` reads only the Chatbot: the message is the last user entry, the turns before it
are the history. A Clear button empties the Chatbot without the queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, messages_format, stream, text_of

MAJOR = int(gr.__version__.split(".")[0])


def user(user_message: str, history: list[Any]) -> tuple[str, list[Any]]:
    return "", [*(history or []), {"role": "user", "content": user_message}]


def bot(history: list[Any]) -> Iterator[list[Any]]:
    history = list(history or [])
    message = text_of(history[-1]["content"]) if history else ""
    history.append({"role": "assistant", "content": ""})
    for text in stream(describe(message, history[:-2]), message):
        history[-1] = {"role": "assistant", "content": text}
        yield history


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        chatbot = gr.Chatbot(**messages_format(MAJOR))
        msg = gr.Textbox()
        clear = gr.Button("Clear")
        msg.submit(user, [msg, chatbot], [msg, chatbot], queue=False).then(bot, chatbot, chatbot)
        clear.click(lambda: None, None, chatbot, queue=False)
    return demo
