"""CPU cost per streamed token of the pure pipeline (SSE decoder + parser + chat job).

Builds the exact ``queue/data`` body a Gradio server sends for one Qwen2.5-Max turn
(first yield full, then one ``append`` diff per token, then the full completion),
for several answer lengths and chatbot formats, and times, in one run:

* floor: split the body into events and orjson-decode each data line, nothing else;
* qwen-space: ``ChatStream``, what the client runs (64 KiB chunks, as read from a socket);
* typed: ``read_chat_stream``, the same through every typed step (the reference).

The per-token cost must stay flat as the answer grows: no step may touch the
accumulated reply per token. Run: ``python benchmarks/protocol_cost.py``.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from qwen_space.protocol import (
    ChatbotFormat,
    ChatJob,
    ChatStream,
    SpaceConfig,
    TextDelta,
    Turn,
    build_history,
    parse_config,
    read_chat_stream,
)

CONFIGS = Path(__file__).resolve().parent.parent / "tests" / "data" / "configs"
SYSTEM = "You are a helpful assistant."


def body(tokens: int, chatbot_format: ChatbotFormat, history_turns: int) -> bytes:
    history = [Turn(f"question {i} " * 20, f"answer {i} " * 200) for i in range(history_turns)]
    chunks: list[bytes] = []

    def send(message: dict[str, object]) -> None:
        chunks.append(b"data: " + orjson.dumps(message) + b"\n\n")

    def chatbot(answer: str) -> object:
        return build_history([*history, Turn("Tell me a story", answer)], chatbot_format)

    path: list[object]
    if chatbot_format is ChatbotFormat.TUPLES:
        path = [history_turns, 1]
    else:
        path = [2 * history_turns + 1, "content", 0, "text"]
    send({"msg": "estimation", "event_id": "e", "rank": 0, "queue_size": 1, "rank_eta": None})
    send({"msg": "process_starts", "event_id": "e", "eta": None})
    send(
        {
            "msg": "process_generating",
            "event_id": "e",
            "output": {"data": ["", chatbot("w0 "), SYSTEM]},
            "success": True,
        }
    )
    for i in range(1, tokens):
        send(
            {
                "msg": "process_generating",
                "event_id": "e",
                "output": {"data": [[], [["append", path, f"w{i} "]], []], "is_generating": True, "duration": 0.02},
                "success": True,
                "time_limit": None,
            }
        )
    final = "".join(f"w{i} " for i in range(tokens))
    send(
        {"msg": "process_completed", "event_id": "e", "output": {"data": ["", chatbot(final), SYSTEM]}, "success": True}
    )
    send({"msg": "close_stream", "event_id": None})
    return b"".join(chunks)


def floor(stream: bytes) -> int:
    count = 0
    for event in stream.split(b"\n\n"):
        if event.startswith(b"data: "):
            orjson.loads(event[6:])
            count += 1
    return count


def chat_stream(config: SpaceConfig, stream: bytes) -> str:
    endpoint = config.endpoint("/model_chat")
    assert endpoint.reply_slot is not None
    assert endpoint.reply_format is not None
    job = ChatJob(event_id="e", reply_slot=endpoint.reply_slot, reply_format=endpoint.reply_format, owns_messages=True)
    reader = ChatStream(job)
    deltas = []
    for start in range(0, len(stream), 65536):
        deltas += [event.text for event in reader.feed(stream[start : start + 65536]) if type(event) is TextDelta]
    return "".join(deltas)


def best_of(runs: int, fn: Callable[..., object], *args: object) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        fn(*args)
        times.append(time.process_time() - start)
    return min(times)


def main() -> None:
    configs = {
        ChatbotFormat.TUPLES: parse_config(json.loads((CONFIGS / "gradio-5.50.0.json").read_text())),
        ChatbotFormat.NORMALISED: parse_config(json.loads((CONFIGS / "gradio-6.31.0.json").read_text())),
    }
    print(f"Python {platform.python_version()} on {platform.machine()}, {sys.platform}")
    print(
        f"{'format':<11} {'history':>7} {'tokens':>7} {'floor us/tok':>13} {'ours us/tok':>12} {'ratio':>6} "
        f"{'typed us/tok':>13}"
    )
    for chatbot_format, config in configs.items():
        for history_turns in (0, 20):
            for tokens in (1_000, 4_000, 16_000, 64_000):
                stream = body(tokens, chatbot_format, history_turns)
                runs = 5 if tokens <= 4_000 else 2
                result = read_chat_stream(config, stream, event_id="e")
                assert result.error is None, result.error
                assert len(result.deltas) == tokens
                assert chat_stream(config, stream) == result.text
                floor_s = best_of(runs, floor, stream)
                ours_s = best_of(runs, chat_stream, config, stream)
                typed_s = best_of(runs, lambda c, s: read_chat_stream(c, s, event_id="e"), config, stream)
                print(
                    f"{chatbot_format.value:<11} {history_turns:>7} {tokens:>7} {floor_s / tokens * 1e6:>13.2f} "
                    f"{ours_s / tokens * 1e6:>12.2f} {ours_s / floor_s:>6.2f} {typed_s / tokens * 1e6:>13.2f}"
                )


if __name__ == "__main__":
    main()
