"""The exact ``queue/data`` bodies a Gradio server sends for one Qwen2.5-Max turn."""

from __future__ import annotations

import orjson
from qwen_space.protocol import Turn
from qwen_space.protocol._chatbot import ChatbotFormat

SYSTEM = "You are a helpful assistant."
EVENT_ID = "5f0c3b1e2d4a4b6c8e9f0a1b2c3d4e5f"
QUERY = "Tell me a story"


def token(i: int) -> str:
    return f"w{i} "


def answer(tokens: int) -> str:
    return "".join(token(i) for i in range(tokens))


def history(turns: int) -> list[Turn]:
    return [Turn(f"question {i} " * 20, f"answer {i} " * 200) for i in range(turns)]


def body(tokens: int, chatbot_format: ChatbotFormat, history_turns: int, *, token_text: str | None = None) -> bytes:
    """Estimation, start, the first yield in full, one ``append`` diff per later token, the
    full completion and ``close_stream``: what Gradio sends for a cumulative generator."""
    turns = history(history_turns)
    chunks: list[bytes] = []

    def send(message: dict[str, object]) -> None:
        chunks.append(b"data: " + orjson.dumps(message) + b"\n\n")

    def chatbot(text: str) -> object:
        # The Chatbot's value as the server sends it (5.x/6.x messages carry metadata, options).
        value: list[object] = []
        for turn in [*turns, Turn(QUERY, text)]:
            if chatbot_format is ChatbotFormat.TUPLES:
                value.append([turn.user, turn.assistant])
                continue
            for role, said in (("user", turn.user), ("assistant", turn.assistant)):
                content = [{"type": "text", "text": said}] if chatbot_format is ChatbotFormat.NORMALISED else said
                value.append({"role": role, "metadata": None, "content": content, "options": None})
        return value

    piece = (lambda i: token_text) if token_text is not None else token
    path: list[object]
    if chatbot_format is ChatbotFormat.TUPLES:
        path = [history_turns, 1]
    else:
        path = [2 * history_turns + 1, "content", 0, "text"]
    send({"msg": "estimation", "event_id": EVENT_ID, "rank": 0, "queue_size": 1, "rank_eta": None})
    send({"msg": "process_starts", "event_id": EVENT_ID, "eta": None})
    first = {"data": ["", chatbot(piece(0)), SYSTEM], "is_generating": True, "duration": 0.02}
    send({"msg": "process_generating", "event_id": EVENT_ID, "output": first, "success": True, "time_limit": None})
    for i in range(1, tokens):
        output = {"data": [[], [["append", path, piece(i)]], []], "is_generating": True, "duration": 0.02}
        send({"msg": "process_generating", "event_id": EVENT_ID, "output": output, "success": True, "time_limit": None})
    final = "".join(piece(i) for i in range(tokens))
    last = {"data": ["", chatbot(final), SYSTEM], "is_generating": False, "duration": 0.02}
    send({"msg": "process_completed", "event_id": EVENT_ID, "output": last, "success": True, "title": None})
    send({"msg": "close_stream", "event_id": None})
    return b"".join(chunks)


def chatinterface_body(tokens: int) -> bytes:
    """What Gradio 6.31.0 sends for ``gr.ChatInterface``'s API event (benchmarks/paced_app.py,
    captured): the reply is a string (output 0), grown by an ``append`` at the root."""
    chunks: list[bytes] = []

    def send(message: dict[str, object]) -> None:
        chunks.append(b"data: " + orjson.dumps(message) + b"\n\n")

    def generating(data: list[object], done: bool = False) -> dict[str, object]:
        output = {"data": data, "is_generating": not done, "duration": 0.0013, "average_duration": 0.0018}
        output |= {"render_config": None, "changed_state_ids": [], "used_cache": None}
        return {"msg": "process_completed" if done else "process_generating", "event_id": EVENT_ID, "output": output}

    send({"msg": "estimation", "event_id": EVENT_ID, "rank": 0, "queue_size": 1, "rank_eta": None})
    send({"msg": "process_starts", "event_id": EVENT_ID, "eta": None})
    send(generating([token(0), None]) | {"success": True, "time_limit": None})
    for i in range(1, tokens):
        send(generating([[["append", [], token(i)]], []]) | {"success": True, "time_limit": None})
    send(generating([answer(tokens), None], done=True) | {"success": True, "title": None})
    send({"msg": "close_stream", "event_id": None})
    return b"".join(chunks)
