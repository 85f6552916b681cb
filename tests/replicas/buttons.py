"""A Blocks chat with Retry, Undo and Clear buttons and a like event, laid out as the Hub's
older Blocks chat templates are, wired as Gradio's ``chatbot_retry_undo_like`` demo is:
the textbox's submit runs ``respond`` (which shows the user message, then streams the
answer) and, as a second listener of the same submit, clears the textbox.

``retry`` answers the last user message again; ``undo`` removes the last turn and puts its
message back into the textbox. Each has the chat function's shape, none is the chat.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, messages_format, stream, text_of

MAJOR = int(gr.__version__.split(".")[0])


def respond(prompt: str, history: list[Any]) -> Iterator[list[Any]]:
    history = [*(history or []), {"role": "user", "content": prompt}]
    yield history
    for text in stream(describe(prompt, history[:-1]), prompt):
        yield [*history, {"role": "assistant", "content": text}]


def last_user(history: list[Any]) -> int:
    return max((i for i, m in enumerate(history) if m.get("role") == "user"), default=-1)


def retry(history: list[Any]) -> Iterator[list[Any]]:
    history = list(history or [])
    if (index := last_user(history)) < 0:
        yield history
        return
    yield from respond(text_of(history[index]["content"]), history[:index])


def undo(history: list[Any]) -> tuple[list[Any], str]:
    history = list(history or [])
    if (index := last_user(history)) < 0:
        return history, ""
    return history[:index], text_of(history[index]["content"])


def clear() -> list[Any]:
    return []


def like(data: gr.LikeData) -> None:
    print("You upvoted this response: " if data.liked else "You downvoted this response: ", data.value)


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.Markdown("# Chat 🤗")
        chatbot = gr.Chatbot(label="Chatbot", **messages_format(MAJOR))
        with gr.Row():
            textbox = gr.Textbox(show_label=False, placeholder="Type a message...", scale=10)
            submit = gr.Button("Submit", variant="primary", scale=1)
        with gr.Row():
            retry_button = gr.Button("🔄  Retry", variant="secondary")
            undo_button = gr.Button("↩️ Undo", variant="secondary")
            clear_button = gr.Button("🗑️  Clear", variant="secondary")
        for trigger in (textbox.submit, submit.click):
            trigger(respond, [textbox, chatbot], [chatbot])
            trigger(lambda: "", None, [textbox])
        retry_button.click(retry, chatbot, chatbot)
        undo_button.click(undo, chatbot, [chatbot, textbox])
        clear_button.click(clear, None, chatbot, queue=False)
        chatbot.like(like, None, None)
    return demo
