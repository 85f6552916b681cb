"""CPU cost per streamed token of the pure pipeline (``ChatStream``), beside a floor.

Uses the exact ``queue/data`` bodies a Gradio server sends for one Qwen2.5-Max turn
(``streams.body``) for several answer lengths and chatbot formats, and times, in one
run:

* floor: split the body into events and orjson-decode each data line, nothing else;
* qwen-space: ``ChatStream``, what the client runs (64 KiB chunks, as read from a socket).

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
from qwen_space.protocol import ChatbotFormat, SpaceConfig, TextDelta, derive_contract, parse_config
from qwen_space.protocol import chat_stream as new_stream
from streams import EVENT_ID, answer, body

CONFIGS = Path(__file__).resolve().parent.parent / "tests" / "data" / "configs"


def floor(stream: bytes) -> int:
    count = 0
    for event in stream.split(b"\n\n"):
        if event.startswith(b"data: "):
            orjson.loads(event[6:])
            count += 1
    return count


def chat_stream(config: SpaceConfig, stream: bytes) -> str:
    reader = new_stream(config, derive_contract(config, "/model_chat"), EVENT_ID)
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
    print(f"{'format':<11} {'history':>7} {'tokens':>7} {'floor us/tok':>13} {'ours us/tok':>12} {'ratio':>6}")
    sizes = [int(arg) for arg in sys.argv[1:]] or [1_000, 4_000, 16_000, 64_000]
    for chatbot_format, config in configs.items():
        for history_turns in (0, 20):
            for tokens in sizes:
                stream = body(tokens, chatbot_format, history_turns)
                runs = 5 if tokens <= 4_000 else 2
                assert chat_stream(config, stream) == answer(tokens)
                floor_s = best_of(runs, floor, stream)
                ours_s = best_of(runs, chat_stream, config, stream)
                print(
                    f"{chatbot_format.value:<11} {history_turns:>7} {tokens:>7} {floor_s / tokens * 1e6:>13.2f} "
                    f"{ours_s / tokens * 1e6:>12.2f} {ours_s / floor_s:>6.2f}"
                )


if __name__ == "__main__":
    main()
