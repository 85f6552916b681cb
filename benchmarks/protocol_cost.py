"""CPU cost per streamed token of the pure pipeline (``ChatStream``), beside a floor.

Uses the exact ``queue/data`` bodies a Gradio server sends for one Qwen2.5-Max turn
(``streams.body``) for several answer lengths and chatbot formats, and times, in one
run:

* floor: split the body into events and orjson-decode each data line, nothing else;
* qwen-space: ``ChatStream``, what the client runs (64 KiB chunks, as read from a socket).

The per-token cost must stay flat as the answer grows: no step may touch the
accumulated reply per token.

Then the *paced* unit, a token per read as a model streams: 4,000-token streams fed one
SSE event per call through ``ChatStream`` + ``HeldReply`` (what the client runs on each
read), µs per event beside the floor's orjson decode of it, for the Qwen layout's stream
and ``gr.ChatInterface``'s (Gradio 6.31.0). *Hot*: back to back, everything in the
CPU's caches. *Cold*: 8 MiB copied between two events (not counted), as a read that
waited on the network finds the caches after the event loop and other processes ran;
in a real paced chat each read is cold, so the cold figure is the one that adds up.

Run: ``python benchmarks/protocol_cost.py [TOKENS ...]``.
"""

from __future__ import annotations

import json
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
from qwen_space.protocol import ChatStream, SpaceConfig, TextDelta, derive_contract, parse_config
from qwen_space.protocol import chat_stream as new_stream
from qwen_space.protocol._chatbot import ChatbotFormat
from qwen_space.protocol._held import HeldReply
from qwen_space.protocol._job import ChatJob
from streams import EVENT_ID, answer, body, chatinterface_body

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


def per_event(feed: Callable[[bytes], object], events: list[bytes], *, cold: bool) -> float:
    """µs per event, timed around each call alone; ``cold``: caches flushed before each."""
    scratch, junk = bytearray(8 << 20), bytes(8 << 20)
    total = 0
    for event in events:
        if cold:
            scratch[:] = junk
        started = time.perf_counter_ns()
        feed(event)
        total += time.perf_counter_ns() - started
    return total / len(events) / 1e3


def paced_reader(reply: tuple[int, ChatbotFormat]) -> Callable[[bytes], object]:
    """A fresh chat's feed: one read's bytes through ChatStream and HeldReply."""
    job = ChatJob(event_id=EVENT_ID, reply_slot=reply[0], reply_format=reply[1])
    stream, held = ChatStream(job), HeldReply()
    return lambda chunk: held.batch(stream.feed(chunk))


def paced(config: SpaceConfig) -> None:
    print("\npaced, 4,000 tokens, µs per event (best of 5); hot, then cold")
    print(f"{'stream':<14} {'floor':>7} {'ours':>7} {'ratio':>6} {'floor':>7} {'ours':>7} {'ratio':>6}")
    qwen = derive_contract(config, "/model_chat")
    streams = {
        "qwen-layout": ((qwen.reply_slot, qwen.reply_format), body(4_000, ChatbotFormat.NORMALISED, 0)),
        # The reply is the API event's output 0, a string (the endpoint as /config derives it).
        "chatinterface": ((0, ChatbotFormat.TEXT), chatinterface_body(4_000)),
    }
    for name, (reply, stream) in streams.items():
        events = [event + b"\n\n" for event in stream.split(b"\n\n") if event]
        cells = []
        for cold in (False, True):
            floor_us = min(per_event(lambda e: orjson.loads(e[6:]), events, cold=cold) for _ in range(5))
            ours_us = min(per_event(paced_reader(reply), events, cold=cold) for _ in range(5))
            cells.append(f"{floor_us:>7.2f} {ours_us:>7.2f} {ours_us / floor_us:>6.2f}")
        print(f"{name:<14} {' '.join(cells)}")


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
    paced(configs[ChatbotFormat.NORMALISED])


if __name__ == "__main__":
    main()
