"""A ``gr.ChatInterface`` streaming at a model's pace, for benchmarks/paced.py.

The function is the one Gradio's ChatInterface guide streams with: it yields the
reply so far after each token. A message ``tokens=N`` asks for N tokens (default 8),
and a short sleep before each yield keeps the server slower than any client, so
every token reaches the wire on its own, as it does from a model generating it
(paced.py counts the reads to check it). Run: ``python paced_app.py PORT``.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

MAJOR = int(gr.__version__.split(".")[0])
#: Seconds before each token; sets the pace, not the cost a client pays per token.
PACE = 0.001


def respond(message: str, history: list[Any]) -> Iterator[str]:
    tokens = int(m.group(1)) if (m := re.search(r"tokens=(\d+)", message)) else 8
    reply = ""
    for i in range(tokens):
        time.sleep(PACE)
        reply += f"tok{i} "
        yield reply


def main() -> None:
    # Messages format everywhere: 5.x asks for it, 6.x has no other.
    demo = gr.ChatInterface(respond, **({"type": "messages"} if MAJOR == 5 else {}))
    demo.queue(default_concurrency_limit=None)
    demo.launch(server_name="127.0.0.1", server_port=int(sys.argv[1]), show_error=False)


if __name__ == "__main__":
    main()
