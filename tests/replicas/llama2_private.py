"""The Hub's Llama-2-chat Space layout (huggingface-projects/llama-2-7b-chat): every event
``api_name=False``; Enter saves the message to a State and clears the textbox, shows it
in the Chatbot, checks the input's length and only on success generates::

    textbox.submit(clear_and_save_textbox, textbox, [textbox, saved_input], queue=False)
      .then(display_input, [saved_input, chatbot], chatbot, queue=False)
      .then(check_input_token_length, [saved_input, chatbot, system_prompt], queue=False)
      .success(generate, [saved_input, chatbot, system_prompt, max_new_tokens, ...], chatbot)

Retry, Undo and Clear buttons as in the Space. Tuples on 4.44 and 5.x as the Space had
them; 6.x has only messages, so there the Chatbot holds messages (as a port would).
A message longer than ``MAX_INPUT_LENGTH`` characters fails the check with a ``gr.Error``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr

from tests.replicas.scripted import describe, stream, text_of

MAJOR = int(gr.__version__.split(".")[0])
DEFAULT_SYSTEM_PROMPT = "You are a helpful, respectful and honest assistant."
MAX_INPUT_LENGTH = 400


def pair(user: str, bot: str) -> list[Any]:
    if MAJOR >= 6:
        return [{"role": "user", "content": user}, {"role": "assistant", "content": bot}]
    return [[user, bot]]


def without_last_turn(history: list[Any]) -> tuple[list[Any], str]:
    history = list(history or [])
    if MAJOR >= 6:
        starts = [i for i, m in enumerate(history) if m.get("role") == "user"]
        if not starts:
            return history, ""
        return history[: starts[-1]], text_of(history[starts[-1]]["content"])
    if not history:
        return history, ""
    return history[:-1], text_of(history[-1][0])


def clear_and_save_textbox(message: str) -> tuple[str, str]:
    return "", message


def display_input(message: str, history: list[Any]) -> list[Any]:
    return [*(history or []), *pair(message, "")]


def delete_prev_fn(history: list[Any]) -> tuple[list[Any], str]:
    return without_last_turn(history)


def check_input_token_length(message: str, chat_history: list[Any], system_prompt: str) -> None:
    if len(message) > MAX_INPUT_LENGTH:
        raise gr.Error(f"The accumulated input is too long ({len(message)} > {MAX_INPUT_LENGTH}).")


def generate(
    message: str,
    history_with_input: list[Any],
    system_prompt: str,
    max_new_tokens: int,
    temperature: float,
    top_p: float,
    top_k: int,
) -> Iterator[list[Any]]:
    history, _ = without_last_turn(history_with_input)
    answer = describe(
        message,
        history,
        system=("System prompt", system_prompt),
        options=[("Max new tokens", max_new_tokens), ("Temperature", temperature), ("Top-p", top_p), ("Top-k", top_k)],
    )
    for text in stream(answer, message):
        yield [*history, *pair(message, text)]


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.Markdown("# Llama-2 7B Chat (replica)")
        with gr.Group():
            chatbot = gr.Chatbot(label="Chatbot", **({"type": "tuples"} if MAJOR == 5 else {}))
            with gr.Row():
                textbox = gr.Textbox(container=False, show_label=False, placeholder="Type a message...", scale=10)
                submit_button = gr.Button("Submit", variant="primary", scale=1, min_width=0)
        with gr.Row():
            retry_button = gr.Button("🔄  Retry", variant="secondary")
            undo_button = gr.Button("↩️ Undo", variant="secondary")
            clear_button = gr.Button("🗑️  Clear", variant="secondary")
        saved_input = gr.State()
        with gr.Accordion(label="Advanced options", open=False):
            system_prompt = gr.Textbox(label="System prompt", value=DEFAULT_SYSTEM_PROMPT, lines=6)
            max_new_tokens = gr.Slider(label="Max new tokens", minimum=1, maximum=2048, step=1, value=1024)
            temperature = gr.Slider(label="Temperature", minimum=0.1, maximum=4.0, step=0.1, value=1.0)
            top_p = gr.Slider(label="Top-p (nucleus sampling)", minimum=0.05, maximum=1.0, step=0.05, value=0.95)
            top_k = gr.Slider(label="Top-k", minimum=1, maximum=1000, step=1, value=50)
        options = [system_prompt, max_new_tokens, temperature, top_p, top_k]

        for trigger in (textbox.submit, submit_button.click):
            trigger(
                fn=clear_and_save_textbox, inputs=textbox, outputs=[textbox, saved_input], api_name=False, queue=False
            ).then(fn=display_input, inputs=[saved_input, chatbot], outputs=chatbot, api_name=False, queue=False).then(
                fn=check_input_token_length, inputs=[saved_input, chatbot, system_prompt], api_name=False, queue=False
            ).success(fn=generate, inputs=[saved_input, chatbot, *options], outputs=chatbot, api_name=False)

        retry_button.click(
            fn=delete_prev_fn, inputs=chatbot, outputs=[chatbot, saved_input], api_name=False, queue=False
        ).then(fn=display_input, inputs=[saved_input, chatbot], outputs=chatbot, api_name=False, queue=False).then(
            fn=generate, inputs=[saved_input, chatbot, *options], outputs=chatbot, api_name=False
        )
        undo_button.click(
            fn=delete_prev_fn, inputs=chatbot, outputs=[chatbot, saved_input], api_name=False, queue=False
        ).then(fn=lambda x: x, inputs=[saved_input], outputs=textbox, api_name=False, queue=False)
        clear_button.click(fn=lambda: ([], ""), outputs=[chatbot, saved_input], queue=False, api_name=False)
    demo.queue(max_size=20)
    return demo
