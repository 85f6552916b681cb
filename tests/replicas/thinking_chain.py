"""Gradio's documented thinking chatbot (its ``chatbot_thoughts`` demo): the submit step
appends the user message and leaves the textbox as it is; the second step takes the
textbox and the Chatbot and streams a thought (``ChatMessage`` with
``metadata={"title": ...}``), then the answer.

    msg.submit(lambda m, h: (m, h + [ChatMessage(role="user", content=m)]), [msg, chatbot], [msg, chatbot])
       .then(simulate_thinking_chat, [msg, chatbot], chatbot)

As in the pattern the issue names, one yield carries the finished thought (its final
text, ``status: "done"`` where the release has it) and the first word of the answer.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import gradio as gr
from gradio import ChatMessage

from tests.replicas.scripted import describe, messages_format, show, stream, turns_of

MAJOR = int(gr.__version__.split(".")[0])


def metadata(status: str) -> dict[str, Any]:
    # 4.44's metadata has only a title; its model drops any other key.
    return {"title": "Thinking..."} if MAJOR == 4 else {"title": "Thinking...", "status": status}


def simulate_thinking_chat(message: str, history: list[Any]) -> Iterator[list[Any]]:
    history = list(history or [])
    earlier = history[:-1]
    thinking = f"Thinking about {show(message)} with {len(turns_of(earlier))} earlier turns."
    history.append(ChatMessage(role="assistant", content="", metadata=metadata("pending")))
    words = thinking.split(" ")
    for i in range(len(words) - 1):
        history[-1] = ChatMessage(role="assistant", content=" ".join(words[: i + 1]), metadata=metadata("pending"))
        yield history
    done = ChatMessage(role="assistant", content=thinking, metadata=metadata("done"))
    for text in stream(describe(message, earlier), message):
        yield [*history[:-1], done, ChatMessage(role="assistant", content=text)]


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.Markdown("# Thinking LLM Demo 🤔")
        chatbot = gr.Chatbot(render_markdown=True, **messages_format(MAJOR))
        msg = gr.Textbox(placeholder="Type your message...")
        msg.submit(
            lambda m, h: (m, [*(h or []), ChatMessage(role="user", content=m)]),
            [msg, chatbot],
            [msg, chatbot],
        ).then(simulate_thinking_chat, [msg, chatbot], chatbot)
    return demo
