"""A semantic diff of two cassettes, for reviewing a re-recording.

A textual diff of two recordings is all noise (event ids, timings, durations). This
compares what matters: the Space's version, protocol and prefix, the chat endpoint
(fn index, trigger, input and output types, chatbot format), the kinds of messages
the stream carried, and the reply. The chat endpoint is the one the recording joined,
read with the contract derived from the recorded ``/config`` (any chat app).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ...protocol import (
    ChatContract,
    ChatJob,
    ChatStream,
    Completed,
    ContractMismatchError,
    Failed,
    QwenSpaceError,
    SSEDecoder,
    derive_contract,
    parse_config,
    parse_message,
)
from ..core.errors import CassetteError
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
    interactions = load_interactions(path)
    bodies = {i.route.rsplit("/", 1)[-1]: i.response_body for i in interactions}
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
    join_request = next((i.request_body for i in interactions if i.route.endswith("/queue/join")), None)
    try:
        fn_index = json.loads(join_request or "").get("fn_index")
    except (ValueError, AttributeError):
        fn_index = None
    if isinstance(fn_index, bool) or not isinstance(fn_index, int):
        fn_index = None  # the request's body says nothing: the event the client would choose
    contract: ChatContract | None
    try:
        contract = derive_contract(config, fn_index)
    except ContractMismatchError as error:
        contract = None
        described = f"no chat event ({' '.join(str(error).split())[:200]})"
    else:
        described = (
            f"{contract.api_name or '(unnamed)'} fn {contract.fn_index}, trigger {contract.trigger_id}, "
            f"inputs [{', '.join(contract.input_types)}], outputs [{', '.join(contract.output_types)}], "
            f"chatbot {contract.reply_format.value}"
        )
    decoder = SSEDecoder()
    kinds: Counter[str] = Counter()
    for event in decoder.feed(data_body.encode()):
        try:
            kinds[type(parse_message(event.data)).__name__] += 1
        except QwenSpaceError:
            kinds["(unparseable)"] += 1
    reply, outcome = "", "no chat event"
    if contract is not None:
        job = ChatJob(
            event_id=event_id,
            reply_slot=contract.reply_slot,
            reply_format=contract.reply_format,
            full_values=not config.sends_diffs,
        )
        stream = ChatStream(job)
        events = [e for line in data_body.encode().splitlines(keepends=True) for e in stream.feed(line)]
        events += stream.end()
        for chat_event in events:
            if isinstance(chat_event, Completed):
                reply, outcome = chat_event.text, "completed"
                break
            if isinstance(chat_event, Failed):
                reply, outcome = chat_event.error.partial_text, type(chat_event.error).__name__
                break
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
