"""Gradio's ``chatbot_multimodal`` demo: a MultimodalTextbox whose files go into the Chatbot.

``add_message`` appends the files (each a file message) and the text to the Chatbot and
locks the box; ``bot`` answers; a last step unlocks the box; the Chatbot has a like
event. As in the demo, 4.44 and 5.x append one message per file and one for the text,
6.x one user message whose content lists them. The scripted ``bot`` describes the text
and every file of the last user turn (name, size, sha256 prefix).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, file_facts, files_in, messages_format, stream, text_of

MAJOR = int(gr.__version__.split(".")[0])


def print_like_dislike(x: gr.LikeData) -> None:
    print(x.index, x.value, x.liked)


def add_message(history: list[Any], message: dict[str, Any]) -> tuple[list[Any], Any]:
    history = list(history or [])
    if MAJOR >= 6:
        content: list[Any] = [{"path": x} for x in message["files"]]
        if message["text"] is not None:
            content.append(message["text"])
        history.append({"role": "user", "content": content})
    else:
        for x in message["files"]:
            history.append({"role": "user", "content": {"path": x}})
        if message["text"] is not None:
            history.append({"role": "user", "content": message["text"]})
    return history, gr.MultimodalTextbox(value=None, interactive=False)


def last_turn(history: list[Any]) -> tuple[list[Any], str, list[str]]:
    """The history before the last user turn, that turn's text and its files."""
    start = len(history)
    while start > 0 and history[start - 1].get("role") == "user":
        start -= 1
    text = " ".join(t for m in history[start:] if (t := text_of(m.get("content"))))
    files = [p for m in history[start:] for p in files_in(m.get("content"))]
    return history[:start], text, files


def bot(history: list[Any]) -> Iterator[list[Any]]:
    history = list(history or [])
    earlier, message, files = last_turn(history)
    answer = f"{describe(message, earlier)} {file_facts(files)}"
    history.append({"role": "assistant", "content": ""})
    for text in stream(answer, message):
        history[-1] = {"role": "assistant", "content": text}
        yield history


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        chatbot = gr.Chatbot(elem_id="chatbot", **messages_format(MAJOR))
        chat_input = gr.MultimodalTextbox(
            interactive=True,
            file_count="multiple",
            placeholder="Enter message or upload file...",
            show_label=False,
        )
        chat_msg = chat_input.submit(add_message, [chatbot, chat_input], [chatbot, chat_input])
        bot_msg = chat_msg.then(bot, chatbot, chatbot, api_name="bot_response")
        bot_msg.then(lambda: gr.MultimodalTextbox(interactive=True), None, [chat_input])
        chatbot.like(print_like_dislike, None, None)
    return demo
