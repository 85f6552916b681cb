"""The Qwen2.5-Max demo's layout (see ``tests/replica/app.py``) plus two buttons bound to
other functions of the chat's signature, as forks of the demo add them:
``model_chat(query, history, system)`` on the textbox's submit and the Send button's
click (fn 0 and 1), a hidden system textbox fed by "Set system prompt", and
"✍️ Rewrite" and "📝 Summarize", each ``(query, history, system)`` -> ``('', history, system)``.

Tuples on 4.44 and 5.x as the demo has them, messages on 6.x.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, stream

MAJOR = int(gr.__version__.split(".")[0])
default_system = "You are a helpful assistant."
Chat = Callable[[str | None, list[Any] | None, str], Iterator[tuple[str, list[Any], str]]]


def shown(history: list[Any], query: str, answer: str) -> list[Any]:
    if MAJOR >= 6:
        return [*history, {"role": "user", "content": query}, {"role": "assistant", "content": answer}]
    return [*history, [query, answer]]


def chat_as(task: str | None) -> Chat:
    def chat(query: str | None, history: list[Any] | None, system: str) -> Iterator[tuple[str, list[Any], str]]:
        query = query or ""
        history = list(history or [])
        answer = describe(query, history, system=("System", system))
        if task is not None:
            answer = f"{task}: {answer}"
        for text in stream(answer, query):
            yield "", shown(history, query, text), system

    return chat


model_chat = chat_as(None)
model_rewrite = chat_as("Rewritten")
model_summarize = chat_as("Summary")


def clear_session() -> tuple[str, list[Any]]:
    return "", []


def modify_system_session(system: str) -> tuple[str, str, list[Any]]:
    if system is None or len(system) == 0:
        system = default_system
    return system, system, []


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.Markdown("""<center><font size=8>Qwen2.5-Max (replica with extra buttons)</center>""")
        with gr.Row():
            with gr.Column(scale=3):
                system_input = gr.Textbox(value=default_system, lines=1, label="System")
            with gr.Column(scale=1):
                modify_system = gr.Button("🛠️ Set system prompt and clear history", scale=2)
            system_state = gr.Textbox(value=default_system, visible=False)
        chatbot = gr.Chatbot(label="Qwen2.5-Max")
        textbox = gr.Textbox(lines=1, label="Input")
        with gr.Row():
            clear_history = gr.Button("🧹 Clear history")
            sumbit = gr.Button("🚀 Send")
        with gr.Row():
            rewrite = gr.Button("✍️ Rewrite")
            summarize = gr.Button("📝 Summarize")
        chat_io: dict[str, Any] = {
            "inputs": [textbox, chatbot, system_state],
            "outputs": [textbox, chatbot, system_input],
            "concurrency_limit": 40,
        }
        textbox.submit(model_chat, **chat_io)
        sumbit.click(model_chat, **chat_io)
        rewrite.click(model_rewrite, **chat_io)
        summarize.click(model_summarize, **chat_io)
        clear_history.click(fn=clear_session, inputs=[], outputs=[textbox, chatbot])
        modify_system.click(
            fn=modify_system_session, inputs=[system_input], outputs=[system_state, system_input, chatbot]
        )
    demo.queue(api_open=False)
    return demo
