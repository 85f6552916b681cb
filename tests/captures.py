"""The shared wire captures (tests/data/gradio-protocol-captures.txt) as test data.

The file holds three kinds of block: curl transcripts (a join, then the raw
``queue/data`` body), timed transcripts (``[ 0.00s] data: ...``) and a logging-proxy
transcript with HTTP chunk sizes. For all three the ``data:`` lines are the server's
messages, so each block becomes the SSE body the server sent.
"""

import re
from dataclasses import dataclass
from pathlib import Path

CAPTURES = Path(__file__).parent / "data" / "gradio-protocol-captures.txt"

_HEADER = re.compile(r"^={5,} (.+?) ={5,}$")
_DATA_LINE = re.compile(r"^(?:\[\s*[\d.]+s\] )?(data: .*)$")


@dataclass(frozen=True)
class CaptureBlock:
    name: str
    text: str

    @property
    def timed(self) -> bool:
        return any(line.startswith("[") and "] data: " in line for line in self.text.split("\n"))

    @property
    def data_lines(self) -> list[str]:
        return [m.group(1) for line in self.text.split("\n") if (m := _DATA_LINE.match(line))]

    @property
    def sse_body(self) -> bytes:
        return "".join(f"{line}\n\n" for line in self.data_lines).encode("utf-8")


def capture_blocks() -> list[CaptureBlock]:
    # Split on "\n" only: the captures hold raw U+2028 and U+0085 inside JSON.
    text = CAPTURES.read_bytes().decode("utf-8")
    blocks: list[CaptureBlock] = []
    name: str | None = None
    lines: list[str] = []
    for line in text.split("\n"):
        header = _HEADER.match(line)
        if header:
            if name is not None:
                blocks.append(CaptureBlock(name, "\n".join(lines)))
            name, lines = header.group(1), []
        elif name is not None:
            lines.append(line)
    if name is not None:
        blocks.append(CaptureBlock(name, "\n".join(lines)))
    return blocks


def block(name: str) -> CaptureBlock:
    for candidate in capture_blocks():
        if candidate.name == name:
            return candidate
    raise KeyError(name)
