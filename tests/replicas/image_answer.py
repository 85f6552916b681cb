"""An image-generation chat: the answer is a text line, then an image message in the Chatbot
(``{"path": ...}`` content, as Gradio's chatbot demos add files). The image is an 8x8 PNG
whose bytes derive from the prompt (``scripted.png_for``), so a test compares them exactly.
With ``!image-only`` in the prompt the answer is the image alone, as image generators answer;
with ``!history-files`` the answer also describes the files of the earlier turns it received.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, file_facts, files_in, messages_format, png_for, stream

MAJOR = int(gr.__version__.split(".")[0])


def respond(prompt: str, chat_history: list[Any]) -> Iterator[tuple[str, list[Any]]]:
    earlier = list(chat_history or [])
    history = [*earlier, {"role": "user", "content": prompt}]
    if "!image-only" in prompt:
        yield "", [*history, {"role": "assistant", "content": {"path": str(png_for(prompt))}}]
        return
    answer = describe(prompt, earlier)
    if "!history-files" in prompt:
        answer += f" Earlier {file_facts([p for m in earlier for p in files_in(m.get('content'))])}"
    for text in stream(answer, prompt):
        yield "", [*history, {"role": "assistant", "content": text}]
    image = {"role": "assistant", "content": {"path": str(png_for(prompt))}}
    yield "", [*history, {"role": "assistant", "content": text}, image]


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        chatbot = gr.Chatbot(label="Images", **messages_format(MAJOR))
        msg = gr.Textbox(label="Prompt")
        msg.submit(respond, [msg, chatbot], [msg, chatbot])
    demo.queue()
    return demo
