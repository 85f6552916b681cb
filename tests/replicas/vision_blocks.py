"""A vision chat Space in Blocks: an image (``gr.Image(type="filepath")``), a question box and
a Chatbot, as the Qwen-VL and LLaVA demos lay them out; the image input is part of the
chat event::

    textbox.submit(answer, [image, textbox, chatbot], [textbox, chatbot])

The scripted model describes the question and the image file it got (name, size in
bytes, sha256 prefix), or says it got none.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, file_facts, messages_format, stream

MAJOR = int(gr.__version__.split(".")[0])


def answer(image: str | None, question: str, history: list[Any]) -> Iterator[tuple[str, list[Any]]]:
    earlier = list(history or [])
    shown = [*earlier, {"role": "user", "content": question}]
    described = f"{describe(question, earlier)} {file_facts([image] if image else [])}"
    for text in stream(described, question):
        yield "", [*shown, {"role": "assistant", "content": text}]


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.Markdown("# Vision chat (replica)")
        with gr.Row():
            image = gr.Image(type="filepath", label="Image")
            with gr.Column():
                chatbot = gr.Chatbot(label="Chat", **messages_format(MAJOR))
                textbox = gr.Textbox(label="Question", placeholder="Ask about the image")
                send = gr.Button("Send", variant="primary")
        textbox.submit(answer, [image, textbox, chatbot], [textbox, chatbot])
        send.click(answer, [image, textbox, chatbot], [textbox, chatbot])
        gr.ClearButton([textbox, chatbot, image])
    demo.queue()
    return demo
