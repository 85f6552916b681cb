"""The two costs issue 23 asked to be measured, each in one run (rows in docs/benchmarks.md).

* Holding the reply back (``HeldReply``, run on every chat so that a placeholder the app
  replaces never reaches the reader): CPU per chat of ``ChatStream`` alone and of
  ``ChatStream`` + ``HeldReply``, on the same Gradio stream of a Qwen2.5-Max turn
  (``streams.body``) fed *paced* (one read per SSE event, as a model streaming a token at
  a time arrives) and *burst* (64 KiB reads).
* Deriving the chat of a 1 MB ``/config`` with 4,000 events: the canonical chain replica
  (5.50.0) plus 2,000 buttons, each a two-step chain writing the Chatbot.

Run: ``python benchmarks/chain_cost.py`` (from the repository's root).
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qwen_space.protocol import ChatEvent, SpaceConfig, TextDelta, chat_stream, derive_contract, parse_config
from qwen_space.protocol._chatbot import ChatbotFormat
from qwen_space.protocol._held import HeldReply
from streams import EVENT_ID, answer, body

CONFIGS = Path(__file__).resolve().parent.parent / "tests" / "data" / "configs"


def reads(stream: bytes, paced: bool) -> list[bytes]:
    if not paced:
        return [stream[i : i + 65536] for i in range(0, len(stream), 65536)]
    return [event + b"\n\n" for event in stream.split(b"\n\n") if event]


def chat(config: SpaceConfig, chunks: list[bytes], held: bool) -> str:
    stream = chat_stream(config, derive_contract(config, "/model_chat"), EVENT_ID)
    job = stream.job
    holder = HeldReply() if held else None
    text: list[str] = []
    for chunk in chunks:
        batch: list[ChatEvent] = stream.feed(chunk)
        out = holder.batch(batch) if holder is not None else batch
        text += [e.text for e in out if isinstance(e, TextDelta)]
    if job.state.is_terminal:
        return "".join(text)
    tail = stream.end()
    out = holder.batch(tail) if holder is not None else tail
    return "".join(text) + "".join(e.text for e in out if isinstance(e, TextDelta))


def cpu_best_of(runs: int, fn: Callable[..., object], *args: object) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.process_time()
        fn(*args)
        best = min(best, time.process_time() - started)
    return best


def big_config(events: int, *, lean: bool) -> dict[str, Any]:
    """``lean``: the added events leave out the keys whose value is empty or false (a
    config of 1 MB); otherwise they carry every key Gradio 5.50.0 serves (3 MB)."""
    base = json.loads((CONFIGS / "replicas" / "5.50.0" / "blocks_canonical.json").read_text())
    components = list(base["components"])
    dependencies = list(base["dependencies"])
    next_id = max(c["id"] for c in components) + 1
    chatbot = next(c["id"] for c in components if c["type"] == "chatbot")
    template = next(d for d in dependencies if d.get("trigger_after") is not None)
    if lean:
        template = {k: v for k, v in template.items() if v or k in ("queue", "backend_fn", "id")}
    for n in range(events // 2):
        button = {"id": next_id + n, "type": "button", "props": {"value": f"Action number {n}", "visible": True}}
        components.append(button)
        root = dict(template, id=len(dependencies), targets=[[button["id"], "click"]], trigger_after=None)
        root["inputs"], root["outputs"], root["api_name"] = [chatbot], [chatbot], f"action_{n}"
        dependencies.append(root)
        dependencies.append(dict(template, id=len(dependencies), trigger_after=root["id"], api_name=f"action_{n}_then"))
    return dict(base, components=components, dependencies=dependencies)


def main() -> None:
    print(f"Python {platform.python_version()} on {platform.machine()}, {sys.platform}, load {os.getloadavg()[0]:.1f}")
    config = parse_config(json.loads((CONFIGS / "gradio-6.31.0.json").read_text()))
    print(f"{'feed':<6} {'tokens':>6} {'reads':>6} {'without ms':>11} {'held ms':>8} {'ratio':>6}")
    for paced in (True, False):
        for tokens in (1_000, 4_000):
            chunks = reads(body(tokens, ChatbotFormat.NORMALISED, 0), paced)
            assert chat(config, chunks, False) == chat(config, chunks, True) == answer(tokens)
            without = cpu_best_of(5, chat, config, chunks, False)
            held = cpu_best_of(5, chat, config, chunks, True)
            feed = "paced" if paced else "burst"
            print(
                f"{feed:<6} {tokens:>6} {len(chunks):>6} {without * 1e3:>11.1f} {held * 1e3:>8.1f} {held / without:>6.2f}"
            )
    for lean in (True, False):
        raw = json.dumps(big_config(4000, lean=lean)).encode()
        parsed: list[float] = []
        derived: list[float] = []
        for _ in range(5):
            started = time.perf_counter()
            space = parse_config(raw)
            middle = time.perf_counter()
            contract = derive_contract(space)
            parsed.append(middle - started)
            derived.append(time.perf_counter() - middle)
        assert len(contract.steps) == 2  # the message box's chain, not one of the buttons'
        events = len(json.loads(raw)["dependencies"])
        print(
            f"/config of {len(raw) / 1e6:.2f} MB, {events} events: parse {min(parsed) * 1e3:.0f} ms "
            f"(worst {max(parsed) * 1e3:.0f}), derive {min(derived) * 1e3:.0f} ms (worst {max(derived) * 1e3:.0f}); "
            "best of 5, wall clock"
        )


if __name__ == "__main__":
    main()
