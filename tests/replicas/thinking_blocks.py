"""A Blocks chat app shaped like the Qwen3 demo: a model dropdown, a messages Chatbot, a Textbox.

``generate(message, history, model)`` yields ``("", history)``: first a thought (an assistant
message with ``metadata={"title": "Thinking", "status": "pending"}``, then ``"done"``), then
the answer as a plain assistant message. It is bound to the textbox's submit and to the Send
button's click with the same inputs and outputs; a Clear button empties the chat.

Gradio 4.44's message metadata has only ``title`` (its model drops ``status``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, messages_format, show, stream

MAJOR = int(gr.__version__.split(".")[0])
MODELS = ("alpha-1", "beta-2")


def generate(message: str, history: list[Any] | None, model: str) -> Iterator[tuple[str, list[Any]]]:
    message = message or ""
    earlier = list(history or [])
    shown = describe(message, earlier, options=[("Model", model)])
    thinking = f"{model} is thinking about {show(message)}."
    user = {"role": "user", "content": message}
    for text in stream(thinking, ""):
        yield "", [*earlier, user, thought(text, "pending")]
    for text in stream(shown, message):
        yield "", [*earlier, user, thought(thinking, "done"), {"role": "assistant", "content": text}]


def thought(text: str, status: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text, "metadata": {"title": "Thinking", "status": status}}


def clear() -> tuple[str, list[Any]]:
    return "", []


def build() -> gr.Blocks:
    demo = gr.Blocks()
    with demo:
        model = gr.Dropdown(choices=list(MODELS), value=MODELS[0], label="Model")
        chatbot = gr.Chatbot(label="Chat", **messages_format(MAJOR))
        textbox = gr.Textbox(label="Input", lines=1)
        with gr.Row():
            send = gr.Button("Send")
            clear_button = gr.Button("Clear")
        textbox.submit(generate, inputs=[textbox, chatbot, model], outputs=[textbox, chatbot])
        send.click(generate, inputs=[textbox, chatbot, model], outputs=[textbox, chatbot])
        clear_button.click(clear, inputs=[], outputs=[textbox, chatbot])
    demo.queue()
    return demo
