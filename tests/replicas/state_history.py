"""ChatGLM's web demo layout (THUDM/ChatGLM-6B ``web_demo.py``; the Qwen web demos keep a
``task_history`` State the same way): the model's history is a ``gr.State`` of
``(query, response)`` pairs that only the chat event writes; the Chatbot only displays.

    submitBtn.click(predict, [user_input, chatbot, max_length, top_p, temperature, history], [chatbot, history])
    submitBtn.click(reset_user_input, [], [user_input])
    emptyBtn.click(reset_state, outputs=[chatbot, history])

There is no submit on the (multi-line) textbox: the Submit button is the way in. The
scripted model describes the State's history, not the Chatbot's: a client that sends
earlier turns in the Chatbot without the session that wrote the State reaches a model
that saw none. Tuples on 4.44 and 5.x as the demo has them, messages on 6.x.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, stream

MAJOR = int(gr.__version__.split(".")[0])


def shown(chatbot: list[Any], query: str, response: str) -> list[Any]:
    if MAJOR >= 6:
        return [*chatbot, {"role": "user", "content": query}, {"role": "assistant", "content": response}]
    return [*chatbot, [query, response]]


def predict(
    query: str, chatbot: list[Any], max_length: int, top_p: float, temperature: float, history: list[Any]
) -> Iterator[tuple[list[Any], list[Any]]]:
    history = [list(turn) for turn in history or []]
    answer = describe(
        query, history, options=[("Maximum length", max_length), ("Top P", top_p), ("Temperature", temperature)]
    )
    for response in stream(answer, query):
        yield shown(list(chatbot or []), query, response), [*history, [query, response]]


def reset_user_input() -> Any:
    return gr.update(value="")


def reset_state() -> tuple[list[Any], list[Any]]:
    return [], []


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.HTML("""<h1 align="center">ChatGLM (replica)</h1>""")
        chatbot = gr.Chatbot(**({"type": "tuples"} if MAJOR == 5 else {}))
        with gr.Row():
            with gr.Column(scale=4):
                with gr.Column(scale=12):
                    user_input = gr.Textbox(show_label=False, placeholder="Input...", lines=10, container=False)
                with gr.Column(min_width=32, scale=1):
                    submit_btn = gr.Button("Submit", variant="primary")
            with gr.Column(scale=1):
                empty_btn = gr.Button("Clear History")
                max_length = gr.Slider(0, 4096, value=2048, step=1.0, label="Maximum length", interactive=True)
                top_p = gr.Slider(0, 1, value=0.7, step=0.01, label="Top P", interactive=True)
                temperature = gr.Slider(0, 1, value=0.95, step=0.01, label="Temperature", interactive=True)
        history = gr.State([])
        submit_btn.click(
            predict,
            [user_input, chatbot, max_length, top_p, temperature, history],
            [chatbot, history],
            show_progress="full",
        )
        submit_btn.click(reset_user_input, [], [user_input])
        empty_btn.click(reset_state, outputs=[chatbot, history], show_progress="full")
    demo.queue()
    return demo
