"""The chain apps (see the package docstring). Written against 5.x and 6.x; messages format."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

MAJOR = int(gr.__version__.split(".")[0])
_DELAY = 0.02


def answer(message: str, earlier_user_messages: int, system: str | None = None) -> str:
    """What every scripted model here says: the message and how much history reached it."""
    said = f"Echo: {message} (after {earlier_user_messages} earlier messages)"
    return said if system is None else f"{said} [system: {system}]"


def text_of(content: Any) -> str:
    """A message's text, whether content is a string (5.x) or a list of parts (6.x)."""
    if isinstance(content, str):
        return content
    if isinstance(content, (list, tuple)):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return ""


def users(history: list[Any]) -> list[str]:
    return [text_of(m["content"]) for m in history if isinstance(m, dict) and m.get("role") == "user"]


def words(text: str) -> Iterator[str]:
    """The text growing word by word."""
    parts = text.split(" ")
    for end in range(1, len(parts) + 1):
        time.sleep(_DELAY)
        yield " ".join(parts[:end])


def _chatbot(**kwargs: Any) -> gr.Chatbot:
    return gr.Chatbot(**({"type": "messages"} if MAJOR == 5 else {}), **kwargs)


def canonical() -> gr.Blocks:
    """Gradio's documented streaming chatbot (``chatbot_streaming`` demo)."""
    with gr.Blocks() as demo:
        chatbot = _chatbot(label="Chatbot")
        msg = gr.Textbox(label="Message")
        clear = gr.ClearButton([msg, chatbot])

        def user(user_message: str, history: list[Any]) -> tuple[str, list[Any]]:
            return "", [*history, {"role": "user", "content": user_message}]

        def bot(history: list[Any]) -> Iterator[list[Any]]:
            asked = users(history)
            reply = answer(asked[-1], len(asked) - 1)
            history = [*history, {"role": "assistant", "content": ""}]
            for text in words(reply):
                history[-1] = {"role": "assistant", "content": text}
                yield history

        msg.submit(user, [msg, chatbot], [msg, chatbot], queue=False).then(bot, chatbot, chatbot)
        clear.click(lambda: None, None, chatbot, queue=False)
    return demo


def canonical_multimodal() -> gr.Blocks:
    """Gradio's ``chatbot_multimodal`` demo: a MultimodalTextbox, disabled while the bot answers."""
    with gr.Blocks() as demo:
        chatbot = _chatbot(elem_id="chatbot")
        chat_input = gr.MultimodalTextbox(interactive=True, placeholder="Enter message or upload file...")

        def add_message(history: list[Any], message: dict[str, Any]) -> tuple[list[Any], Any]:
            for x in message["files"]:
                history.append({"role": "user", "content": {"path": x}})
            if message["text"] is not None:
                history.append({"role": "user", "content": message["text"]})
            return history, gr.MultimodalTextbox(value=None, interactive=False)

        def bot(history: list[Any]) -> Iterator[list[Any]]:
            asked = [u for u in users(history) if u]
            reply = answer(asked[-1] if asked else "", len(asked) - 1)
            history.append({"role": "assistant", "content": ""})
            for text in words(reply):
                history[-1]["content"] = text
                yield history

        chat_msg = chat_input.submit(add_message, [chatbot, chat_input], [chatbot, chat_input])
        bot_msg = chat_msg.then(bot, chatbot, chatbot, api_name="bot_response")
        bot_msg.then(lambda: gr.MultimodalTextbox(interactive=True), None, [chat_input])
        chatbot.like(lambda: None, None, None)
    return demo


def thinking_two_step() -> gr.Blocks:
    """A thinking chatbot whose second step reads the textbox (the first only shows the message)."""
    with gr.Blocks() as demo:
        chatbot = _chatbot(label="Chat")
        msg = gr.Textbox(label="Prompt")

        def show(message: str, history: list[Any]) -> list[Any]:
            return [*history, {"role": "user", "content": message}]

        def think(message: str, history: list[Any]) -> Iterator[tuple[str, list[Any]]]:
            asked = users(history)
            thought_text = f"Thinking about {message}."
            for text in words(thought_text):
                yield message, [*history, _thought(text, "pending")]
            done = [*history, _thought(thought_text, "done")]
            # One update carries the finished thought and the answer's first word.
            for text in words(answer(message, len(asked) - 1)):
                yield "", [*done, {"role": "assistant", "content": text}]

        msg.submit(show, [msg, chatbot], [chatbot], queue=False).then(think, [msg, chatbot], [msg, chatbot])
    return demo


def _thought(text: str, status: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text, "metadata": {"title": "Thinking", "status": status}}


def llama2_private() -> gr.Blocks:
    """The Hub's Llama-2-chat layout: every step private, the message saved to a State,
    shown, checked, then ``.success(generate)``."""
    with gr.Blocks() as demo:
        chatbot = _chatbot(label="Chatbot")
        with gr.Row():
            textbox = gr.Textbox(container=False, show_label=False, placeholder="Type a message...", scale=10)
            submit_button = gr.Button("Submit", variant="primary", scale=1, min_width=0)
        retry_button = gr.Button("🔄  Retry", variant="secondary")
        saved_input = gr.State()
        with gr.Accordion(label="Advanced options", open=False):
            system_prompt = gr.Textbox(label="System prompt", value="Be brief.", lines=6)
            max_new_tokens = gr.Slider(label="Max new tokens", minimum=1, maximum=2048, step=1, value=1024)
            temperature = gr.Slider(label="Temperature", minimum=0.1, maximum=4.0, step=0.1, value=1.0)

        def clear_and_save_textbox(message: str) -> tuple[str, str]:
            return "", message

        def display_input(message: str, history: list[Any]) -> list[Any]:
            return [*history, {"role": "user", "content": message}]

        def check_input_token_length(message: str, history: list[Any], system: str) -> None:
            if len(message) > 2000:
                raise gr.Error("The accumulated input is too long. Clear your chat history and try again.")

        def generate(
            message: str, history_with_input: list[Any], system: str, max_tokens: int, temp: float
        ) -> Iterator[list[Any]]:
            history = history_with_input[:-1]
            reply = answer(message, len(users(history)), system)
            for text in words(reply):
                yield [*history, {"role": "user", "content": message}, {"role": "assistant", "content": text}]

        def delete_prev_fn(history: list[Any]) -> tuple[list[Any], str]:
            message = text_of(history[-2]["content"]) if len(history) >= 2 else ""
            return history[:-2], message

        for trigger in (textbox.submit, submit_button.click):
            trigger(clear_and_save_textbox, textbox, [textbox, saved_input], api_name=False, queue=False).then(
                display_input, [saved_input, chatbot], chatbot, api_name=False, queue=False
            ).then(
                check_input_token_length, [saved_input, chatbot, system_prompt], None, api_name=False, queue=False
            ).success(
                generate, [saved_input, chatbot, system_prompt, max_new_tokens, temperature], chatbot, api_name=False
            )
        retry_button.click(delete_prev_fn, chatbot, [chatbot, saved_input], api_name=False, queue=False).then(
            display_input, [saved_input, chatbot], chatbot, api_name=False, queue=False
        ).then(generate, [saved_input, chatbot, system_prompt, max_new_tokens, temperature], chatbot, api_name=False)
    return demo


def state_history() -> gr.Blocks:
    """The model's history in a ``gr.State`` that only the chat event writes (ChatGLM's demo)."""
    with gr.Blocks() as demo:
        chatbot = _chatbot(label="ChatGLM")
        user_input = gr.Textbox(show_label=False, placeholder="Input...")
        submit = gr.Button("Submit")
        history = gr.State([])

        def predict(message: str, shown: list[Any], kept: list[str]) -> Iterator[tuple[list[Any], list[str]]]:
            reply = answer(message, len(kept))
            shown = [*shown, {"role": "user", "content": message}]
            for text in words(reply):
                yield [*shown, {"role": "assistant", "content": text}], kept
            yield [*shown, {"role": "assistant", "content": reply}], [*kept, message]

        submit.click(predict, [user_input, chatbot, history], [chatbot, history], show_progress="full")
        submit.click(lambda: "", None, [user_input])
    return demo


def placeholder() -> gr.Blocks:
    """The first step shows "Generating..." in the answer's place; the second replaces it."""
    with gr.Blocks() as demo:
        chatbot = _chatbot(label="Assistant")
        msg = gr.Textbox(label="Your message")

        def user(message: str, history: list[Any]) -> tuple[str, list[Any]]:
            return "", [
                *history,
                {"role": "user", "content": message},
                {"role": "assistant", "content": "Generating..."},
            ]

        def bot(history: list[Any]) -> Iterator[list[Any]]:
            asked = users(history)
            for text in words(answer(asked[-1], len(asked) - 1)):
                yield [*history[:-1], {"role": "assistant", "content": text}]

        msg.submit(user, [msg, chatbot], [msg, chatbot], queue=False).then(bot, chatbot, chatbot)
    return demo


def buttons() -> gr.Blocks:
    """The canonical chain with retry, undo and like handlers on the Chatbot and a Clear button."""
    with gr.Blocks() as demo:
        chatbot = _chatbot(label="Chatbot")
        msg = gr.Textbox(label="Message")
        clear = gr.Button("Clear")

        def user(user_message: str, history: list[Any]) -> tuple[str, list[Any]]:
            return "", [*history, {"role": "user", "content": user_message}]

        def bot(history: list[Any]) -> Iterator[list[Any]]:
            asked = users(history)
            for text in words(answer(asked[-1], len(asked) - 1)):
                yield [*history, {"role": "assistant", "content": text}]

        def retry(history: list[Any], retry_data: gr.RetryData) -> Iterator[list[Any]]:
            kept = history[: retry_data.index + 1]
            yield from bot(kept)

        def undo(history: list[Any], undo_data: gr.UndoData) -> tuple[list[Any], str]:
            return history[: undo_data.index], text_of(history[undo_data.index]["content"])

        def like(data: gr.LikeData) -> None:
            return None

        msg.submit(user, [msg, chatbot], [msg, chatbot], queue=False).then(bot, chatbot, chatbot)
        chatbot.retry(retry, chatbot, chatbot)
        chatbot.undo(undo, chatbot, [chatbot, msg])
        chatbot.like(like, None, None)
        clear.click(list, None, chatbot, queue=False)
    return demo


def _respond(prefix: str) -> Any:
    def respond(message: str, history: list[Any]) -> Iterator[str]:
        yield from words(f"{prefix} " + answer(message, len(users(history))))

    return respond


def tabbed() -> gr.Blocks:
    """Two ChatInterfaces in a TabbedInterface: two message boxes, two chats."""
    kind = {"type": "messages"} if MAJOR == 5 else {}
    first = gr.ChatInterface(_respond("First."), **kind)
    second = gr.ChatInterface(_respond("Second."), **kind)
    return gr.TabbedInterface([first, second], ["First", "Second"])


def qwen_extra_buttons() -> gr.Blocks:
    """The Qwen demo's layout (``model_chat(query, history, system)`` on submit and Send, the
    system prompt in a hidden box set by a button) plus two buttons bound to functions of
    the same signature. Tuples on 5.x, as the Qwen Space runs."""
    default_system = "You are a helpful assistant."

    def model_chat(query: str, history: Any, system: str) -> Iterator[tuple[str, Any, str]]:
        history = list(history or [])
        earlier = len(history) if MAJOR < 6 else len(users(history))
        reply = answer(query, earlier, system)
        for text in words(reply):
            yield "", _qwen_history(history, query, text), system

    def regenerate(query: str, history: Any, system: str) -> Iterator[tuple[str, Any, str]]:
        yield from model_chat("again", history, system)

    def summarize(query: str, history: Any, system: str) -> Iterator[tuple[str, Any, str]]:
        yield from model_chat("summary", history, system)

    def modify_system_session(system: str) -> tuple[str, str, list[Any]]:
        return system or default_system, system or default_system, []

    with gr.Blocks() as demo:
        with gr.Row():
            system_input = gr.Textbox(value=default_system, lines=1, label="System")
            modify_system = gr.Button("🛠️ Set system prompt and clear history", scale=2)
        system_state = gr.Textbox(value=default_system, visible=False)
        chatbot = gr.Chatbot(label="Qwen2.5-Max")
        textbox = gr.Textbox(lines=1, label="Input")
        with gr.Row():
            clear_history = gr.Button("🧹 Clear History")
            sumbit = gr.Button("🚀 Send")
            again = gr.Button("🔁 Regenerate")
            summary = gr.Button("📝 Summarize")
        textbox.submit(model_chat, [textbox, chatbot, system_state], [textbox, chatbot, system_state])
        sumbit.click(model_chat, [textbox, chatbot, system_state], [textbox, chatbot, system_state])
        again.click(regenerate, [textbox, chatbot, system_state], [textbox, chatbot, system_state])
        summary.click(summarize, [textbox, chatbot, system_state], [textbox, chatbot, system_state])
        clear_history.click(lambda: ("", []), [], [textbox, chatbot])
        modify_system.click(modify_system_session, [system_input], [system_state, system_input, chatbot])
    return demo


def _qwen_history(history: list[Any], query: str, text: str) -> list[Any]:
    if MAJOR >= 6:
        return [*history, {"role": "user", "content": query}, {"role": "assistant", "content": text}]
    return [*history, [query, text]]


def build(name: str) -> gr.Blocks:
    demo: gr.Blocks = globals()[name]()
    demo.queue()
    return demo
