"""A faithful replica of the Qwen/Qwen2.5-Max-Demo Space, with a fake model.

Layout and event wiring follow the real Space's ``/config``: the Qwen demo template
with ``model_chat(query, history, system)`` yielding ``('', history, system)`` where
the history holds the whole answer so far (DashScope's cumulative streaming), on
``textbox.submit`` (fn 0) and ``sumbit.click`` (fn 1), ``concurrency_limit=40``, and
``queue(api_open=False)``. Instead of DashScope a deterministic fake model answers.

The fake model is steered by directives in the query, so that tests reach the
failing and slow paths without changing the app's layout (which would move fn
indexes and trigger ids away from the real Space's):

* ``!tokens=N``   answer with N tokens (default 8);
* ``!delay=S``    sleep S seconds before each token (default 0.01);
* ``!fail``       raise a ValueError after 2 tokens (hidden: ``show_error=False``);
* ``!fail0``      raise a ValueError before the first token;
* ``!grerror``    raise ``gr.Error("DashScope said no", title="Quota")`` after 2 tokens;
* ``!big=N``     answer with N times "x" in one yield;
* a prompt of "2000 words" gets 2,000 tokens; one longer than CONTEXT_CHARS fails
  before the first token, as DashScope refuses it;
* ``!echo``       answer with a JSON description of what the model received;
* ``!id=NAME``    append ``yield NAME <unix time>`` to the file named by ``REPLICA_LOG``
  for every yield (the time the value went to Gradio), so tests see when the server
  stops generating (a cancelled job) and benchmarks measure the delay from the yield
  to the client's delta.

Run: ``python app.py PORT`` (starts uvicorn on 127.0.0.1; works on 4.44, 5.x, 6.x).
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

GRADIO_MAJOR = int(gr.__version__.split(".")[0])
#: gr.Error takes a title from 5.2 on.
ERROR_TITLES = "title" in inspect.signature(gr.Error.__init__).parameters
default_system = "You are a helpful assistant."
TOKEN = "tok{} "
#: Roughly Qwen2.5-Max's 32k-token context, in characters.
CONTEXT_CHARS = 120_000


def _text(content: Any) -> str:
    """Text of a chatbot message content in any Gradio version's shape."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    if isinstance(content, dict):
        return str(content.get("text", ""))
    return "" if content is None else str(content)


def history_to_pairs(history: list[Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    if history and isinstance(history[0], dict):
        user = None
        for message in history:
            if message.get("role") == "user":
                user = _text(message.get("content"))
            elif message.get("role") == "assistant" and user is not None:
                pairs.append((user, _text(message.get("content"))))
                user = None
        return pairs
    return [(_text(h[0]), _text(h[1])) for h in history]


def pairs_to_history(pairs: list[tuple[str, str]]) -> list[Any]:
    if GRADIO_MAJOR >= 6:
        out: list[Any] = []
        for user, bot in pairs:
            out.append({"role": "user", "content": [{"type": "text", "text": user}]})
            out.append({"role": "assistant", "content": [{"type": "text", "text": bot}]})
        return out
    return [[user, bot] for user, bot in pairs]


def cumulative(pieces: Iterator[str]) -> Iterator[str]:
    """DashScope's non-incremental streaming: every yield is the whole text so far."""
    text = ""
    for piece in pieces:
        text += piece
        yield text


def fake_model(query: str, pairs: list[tuple[str, str]], system: str) -> tuple[Iterator[str], float, str | None]:
    tokens = int(m.group(1)) if (m := re.search(r"!tokens=(\d+)", query)) else 8
    delay = float(m.group(1)) if (m := re.search(r"!delay=([\d.]+)", query)) else 0.01
    if "2000 words" in query:
        tokens, delay = 2000, 0.001
    if m := re.search(r"!big=(\d+)", query):
        return iter(["x" * int(m.group(1))]), delay, None
    if "!echo" in query:
        described = json.dumps({"query": query, "history": pairs, "system": system}, ensure_ascii=False)
        return cumulative(iter(described[i : i + 7] for i in range(0, len(described), 7))), delay, None
    failure = next((f for f in ("!fail0", "!fail", "!grerror") if f in query), None)
    return cumulative(TOKEN.format(j) for j in range(tokens)), delay, failure


def model_chat(query: str | None, history: list[Any] | None, system: str) -> Iterator[tuple[str, list[Any], str]]:
    query = query or ""
    pairs = history_to_pairs(history or [])
    answers, delay, failure = fake_model(query, pairs, system)
    if len(query) + sum(len(u) + len(a) for u, a in pairs) > CONTEXT_CHARS:
        # What DashScope answers past the model's context; the app raises on it.
        raise ValueError("Request id: fake, Status code: 400, error code: InvalidParameter, Range of input length")
    if failure == "!fail0":
        raise ValueError("Request id: fake, Status code: 400, error code: InvalidParameter")
    marker = re.search(r"!id=(\S+)", query) if os.environ.get("REPLICA_LOG") else None
    for i, answer in enumerate(answers):
        if failure in ("!fail", "!grerror") and i == 2:
            if failure == "!fail":
                raise ValueError("Request id: fake, Status code: 429, error code: Throttling")
            if ERROR_TITLES:
                raise gr.Error("DashScope said no", title="Quota")
            raise gr.Error("DashScope said no")
        time.sleep(delay)
        value = "", pairs_to_history([*pairs, (query, answer)]), system
        if not marker:
            yield value
            continue
        # Stamped as the value goes to Gradio, written once Gradio comes back for the
        # next one (or closes the generator): the file write is not part of the delay
        # a benchmark measures from this stamp.
        stamp = time.time()
        try:
            yield value
        finally:
            with open(os.environ["REPLICA_LOG"], "a", encoding="utf-8") as log:
                log.write(f"yield {marker.group(1)} {stamp:.6f}\n")


def clear_session() -> tuple[str, list[Any]]:
    return "", []


def modify_system_session(system: str) -> tuple[str, str, list[Any]]:
    if system is None or len(system) == 0:
        system = default_system
    return system, system, []


def build() -> gr.Blocks:
    with gr.Blocks() as demo:
        gr.Markdown("""<center><font size=8>Qwen2.5-Max (replica)</center>""")
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

        textbox.submit(
            model_chat,
            inputs=[textbox, chatbot, system_state],
            outputs=[textbox, chatbot, system_input],
            concurrency_limit=40,
        )
        sumbit.click(
            model_chat,
            inputs=[textbox, chatbot, system_state],
            outputs=[textbox, chatbot, system_input],
            concurrency_limit=40,
        )
        clear_history.click(fn=clear_session, inputs=[], outputs=[textbox, chatbot])
        modify_system.click(
            fn=modify_system_session, inputs=[system_input], outputs=[system_state, system_input, chatbot]
        )
    demo.queue(api_open=False)
    return demo


def main() -> None:
    import uvicorn
    from fastapi import FastAPI

    port = int(sys.argv[1])
    # launch() defaults to show_error=False, as on the real Space; mount_gradio_app does not.
    demo = build()
    if "show_error" in inspect.signature(gr.mount_gradio_app).parameters:
        app = gr.mount_gradio_app(FastAPI(), demo, path="/", show_error=False)
    else:  # before 4.22 mount_gradio_app took no show_error: set what launch() would
        demo.show_error = False
        app = gr.mount_gradio_app(FastAPI(), demo, path="/")
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
