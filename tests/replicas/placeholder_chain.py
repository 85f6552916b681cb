"""A Blocks chatbot whose first step shows a placeholder in the answer's place and whose
second streams the answer over it, as Spaces that want the user to see something at once
write Gradio's ``chatbot_streaming`` demo::

    def user(message, history):
        return "", history + [{"role": "user", "content": message},
                              {"role": "assistant", "content": "Generating..."}]
    def bot(history):
        ... history[-1]["content"] = partial_answer; yield history
    msg.submit(user, [msg, chatbot], [msg, chatbot], queue=False).then(bot, chatbot, chatbot)

The placeholder is replaced wholesale: a client must never show it as part of the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, messages_format, stream, text_of

MAJOR = int(gr.__version__.split(".")[0])
PLACEHOLDER = "Generating..."


def user(user_message: str, history: list[Any]) -> tuple[str, list[Any]]:
    return "", [
        *(history or []),
        {"role": "user", "content": user_message},
        {"role": "assistant", "content": PLACEHOLDER},
    ]


def bot(history: list[Any]) -> Iterator[list[Any]]:
    history = list(history or [])
    message = text_of(history[-2]["content"]) if len(history) >= 2 else ""
    for text in stream(describe(message, history[:-2]), message):
        history[-1] = {"role": "assistant", "content": text}
        yield history


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        chatbot = gr.Chatbot(label="Assistant", **messages_format(MAJOR))
        msg = gr.Textbox(label="Your message")
        msg.submit(user, [msg, chatbot], [msg, chatbot], queue=False).then(bot, chatbot, chatbot)
    return demo
