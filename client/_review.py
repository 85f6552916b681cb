"""A semantic diff of two cassettes, for reviewing a re-recording.

A textual diff of two recordings is all noise (event ids, timings, durations). This
compares what matters: the Space's version, protocol and prefix, the chat endpoint
(fn index, trigger, input and output types, chatbot format), the kinds of messages
the stream carried, and the reply.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ..protocol import (
    QWEN_CONTRACT,
    ContractMismatchError,
    QwenSpaceError,
    SSEDecoder,
    parse_config,
    parse_message,
    read_chat_stream,
)
from ._cassette import _ReadableYAML
from ._errors import CassetteError

__all__ = ["CassetteSummary", "semantic_diff", "summarise"]


@dataclass(frozen=True, slots=True)
class CassetteSummary:
    version: str | None
    protocol: str
    api_prefix: str
    endpoint: str
    message_kinds: dict[str, int]
    reply: str
    outcome: str


def summarise(path: Path) -> CassetteSummary:
    try:
        cassette = _ReadableYAML.deserialize(path.read_text(encoding="utf-8"))
        responses = {
            interaction["request"]["uri"].split("?")[0].rsplit("/", 1)[-1]: interaction["response"]["body"]["string"]
            for interaction in cassette["interactions"]
        }
        config_body, join_body, data_body = responses["config"], responses["join"], responses["data"]
    except (OSError, KeyError, TypeError) as exc:
        raise CassetteError(f"{path} is not a qwen-space cassette ({exc!r})") from None
    config = parse_config(config_body.encode())
    try:
        endpoint = config.endpoint(QWEN_CONTRACT.api_name)
        fmt = endpoint.reply_format.value if endpoint.reply_format else "none"
        described = (
            f"fn {endpoint.fn_index}, trigger {endpoint.trigger_id}, "
            f"inputs [{', '.join(c.type for c in endpoint.inputs)}], "
            f"outputs [{', '.join(c.type for c in endpoint.outputs)}], chatbot {fmt}"
        )
    except ContractMismatchError:
        described = "no /model_chat endpoint"
    decoder = SSEDecoder()
    kinds: Counter[str] = Counter()
    for event in decoder.feed(data_body.encode()):
        try:
            kinds[type(parse_message(event.data)).__name__] += 1
        except QwenSpaceError:
            kinds["(unparseable)"] += 1
    event_id = json.loads(join_body).get("event_id", "")
    result = read_chat_stream(config, data_body.encode(), event_id=event_id)
    outcome = "completed" if result.error is None else type(result.error).__name__
    return CassetteSummary(
        version=config.version,
        protocol=config.protocol,
        api_prefix=config.api_prefix or "(none)",
        endpoint=described,
        message_kinds=dict(sorted(kinds.items())),
        reply=result.text,
        outcome=outcome,
    )


def semantic_diff(old: Path, new: Path) -> list[str]:
    """One line per difference that matters; empty when the recordings agree."""
    a, b = summarise(old), summarise(new)
    lines = [
        f"{label}: {x} -> {y}"
        for label, x, y in (
            ("gradio version", a.version, b.version),
            ("protocol", a.protocol, b.protocol),
            ("api prefix", a.api_prefix, b.api_prefix),
            ("chat endpoint", a.endpoint, b.endpoint),
            ("outcome", a.outcome, b.outcome),
        )
        if x != y
    ]
    for kind in sorted(set(a.message_kinds) | set(b.message_kinds)):
        x, y = a.message_kinds.get(kind, 0), b.message_kinds.get(kind, 0)
        if x != y:
            lines.append(f"{kind} messages: {x} -> {y}")
    if a.reply != b.reply:
        common = next((i for i, (p, q) in enumerate(zip(a.reply, b.reply, strict=False)) if p != q), None)
        at = common if common is not None else min(len(a.reply), len(b.reply))
        lines.append(
            f"reply: {len(a.reply)} -> {len(b.reply)} characters, first difference at {at}: "
            f"{a.reply[at : at + 40]!r} -> {b.reply[at : at + 40]!r}"
        )
    return lines
