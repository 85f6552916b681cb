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

from ...protocol import (
    ContractMismatchError,
    QwenSpaceError,
    SSEDecoder,
    parse_config,
    parse_message,
    read_chat_stream,
)
from ..core.errors import CassetteError
from ..core.qwen import QWEN_CONTRACT
from .cassette import load_interactions

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
    bodies = {i.route.rsplit("/", 1)[-1]: i.response_body for i in load_interactions(path)}
    missing = [route for route in ("config", "join", "data") if route not in bodies]
    if missing:
        raise CassetteError(f"{path} holds no /{missing[0]} answer: it is not a recording of a chat")
    config_body, join_body, data_body = bodies["config"], bodies["join"], bodies["data"]
    try:
        config = parse_config(config_body.encode())
    except QwenSpaceError as error:
        raise CassetteError(f"{path}: its /config answer is not a Gradio config ({error})") from None
    try:
        joined = json.loads(join_body)
    except ValueError:
        joined = None
    event_id = joined.get("event_id", "") if isinstance(joined, dict) else None
    if not isinstance(event_id, str):
        raise CassetteError(f"{path}: its queue/join answer is not Gradio's JSON with an event_id")
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
    try:
        result = read_chat_stream(config, data_body.encode(), event_id=event_id, api_name=QWEN_CONTRACT.api_name)
    except ContractMismatchError:
        reply, outcome = "", "no /model_chat endpoint"
    else:
        reply, outcome = result.text, "completed" if result.error is None else type(result.error).__name__
    return CassetteSummary(
        version=config.version,
        protocol=config.protocol,
        api_prefix=config.api_prefix or "(none)",
        endpoint=described,
        message_kinds=dict(sorted(kinds.items())),
        reply=reply,
        outcome=outcome,
    )


def _printable(value: object) -> str:
    """Text from a recording, with control characters (terminal escapes) shown, not sent."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))


def semantic_diff(old: Path, new: Path) -> list[str]:
    """One line per difference that matters; empty when the recordings agree."""
    a, b = summarise(old), summarise(new)
    lines = [
        f"{label}: {_printable(x)} -> {_printable(y)}"
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
