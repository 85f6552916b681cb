"""A semantic diff of two cassettes, for reviewing a re-recording.

A textual diff of two recordings is all noise (event ids, timings, durations). This
compares what matters, the request first: the chat endpoint (fn index, trigger, input
and output types, chatbot format), the system prompt, each option by its label, the
earlier turns and the message; then the Space's version, protocol and prefix; then the
reply: its outcome, the kinds of messages the stream carried, and its text; and the files
sent and received, by name and sha256 (``file_diff``). The chat endpoint is the one the
recording joined, read with the contract derived from the recorded ``/config`` (any chat app).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ...protocol import (
    ChatContract,
    Completed,
    Failed,
    QwenSpaceError,
    SSEDecoder,
    chat_stream,
    derive_contract,
    parse_config,
)
from ...protocol._chat_contract import InputRole
from ...protocol._files import reply_files
from ...protocol._job import ChatJob
from ...protocol._messages import parse_message
from ...protocol.errors import ChatRequestError, ContractMismatchError
from ..errors import CassetteError
from .file_diff import RecordedFile, file_lines, received_files, sent_files
from .scenarios import RecordedChat, recorded_chat
from .storage import Interaction, load_interactions

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
    sent: tuple[RecordedFile, ...] = field(default=())
    received: tuple[RecordedFile, ...] = field(default=())
    #: The text of the multimodal box the chat sent (``{"text", "files"}``), if any.
    box_text: str | None = None


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
    except (ContractMismatchError, ChatRequestError) as error:  # a recorded fn_index the config lacks
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
    received: tuple[RecordedFile, ...] = ()
    if contract is not None:
        stream = chat_stream(config, contract, event_id)
        events = [e for line in data_body.encode().splitlines(keepends=True) for e in stream.feed(line)]
        events += stream.end()
        for chat_event in events:
            if isinstance(chat_event, Completed):
                reply, outcome = chat_event.text, "completed"
                break
            if isinstance(chat_event, Failed):
                reply, outcome = chat_event.error.partial_text, type(chat_event.error).__name__
                break
        received = _received(interactions, contract, stream.job, join_request, config.api_prefix)
    return CassetteSummary(
        version=config.version,
        protocol=config.protocol,
        api_prefix=config.api_prefix or "(none)",
        endpoint=described,
        message_kinds=dict(sorted(kinds.items())),
        reply=reply,
        outcome=outcome,
        sent=tuple(sent_files(interactions)),
        received=received,
        box_text=_box_text(interactions),
    )


def _box_text(interactions: list[Interaction]) -> str | None:
    """The text of the first MultimodalTextbox value a queued or predicted call sent."""
    for interaction in interactions:
        if not interaction.route.endswith(("/queue/join", "/run/predict")):
            continue
        try:
            data = json.loads(interaction.request_body or "").get("data")
        except (ValueError, AttributeError):
            continue
        for value in data if isinstance(data, list) else []:
            if isinstance(value, dict) and set(value) == {"text", "files"} and isinstance(value["text"], str):
                return value["text"]
    return None


def _received(
    interactions: list[Interaction], contract: ChatContract, job: ChatJob, join_request: str | None, prefix: str | None
) -> tuple[RecordedFile, ...]:
    """The reply's files as the client finds them: in the Chatbot beyond the history the
    request sent, and in the chat's file outputs."""
    if job.final_outputs is None:
        return ()
    try:
        data = json.loads(join_request or "").get("data")
    except (ValueError, AttributeError):
        data = None
    since = 0
    for spec, value in zip(contract.inputs, data if isinstance(data, list) else [], strict=False):
        if spec.role is InputRole.HISTORY and isinstance(value, list):
            since = len(value)
    config_uri = next((i.route for i in interactions if i.route.endswith("/config")), None)
    if config_uri is None:
        return ()  # no /config route to find the Space's root by (a hand-edited cassette)
    try:
        found = reply_files(
            job.final_outputs,
            contract.output_types,
            chatbot_slot=contract.reply_slot,
            since=since,
            root=config_uri.removesuffix("/config"),
            api_prefix=prefix or "",
        )
    except QwenSpaceError:
        return ()
    return tuple(received_files(interactions, found))


def _printable(value: object) -> str:
    """Text from a recording, with control characters (terminal escapes) shown, not sent."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(value))


def semantic_diff(old: Path, new: Path) -> list[str]:
    """One line per difference that matters, the request's first; empty when the
    recordings agree."""
    a, b = summarise(old), summarise(new)
    lines = [f"chat endpoint: {_printable(a.endpoint)} -> {_printable(b.endpoint)}"] if a.endpoint != b.endpoint else []
    request_a, request_b = _request(old), _request(new)
    lines += _request_diff(request_a, request_b)
    if isinstance(request_a, str) and isinstance(request_b, str) and a.box_text != b.box_text:
        # A chat with uploads cannot be asked for again, but its message box still says what it asked.
        lines.append(f"message: {_first_difference(a.box_text or '', b.box_text or '')}")
    lines += file_lines("sent file", a.sent, b.sent)
    lines += [
        f"{label}: {_printable(x)} -> {_printable(y)}"
        for label, x, y in (
            ("gradio version", a.version, b.version),
            ("protocol", a.protocol, b.protocol),
            ("api prefix", a.api_prefix, b.api_prefix),
            ("outcome", a.outcome, b.outcome),
        )
        if x != y
    ]
    for kind in sorted(set(a.message_kinds) | set(b.message_kinds)):
        x, y = a.message_kinds.get(kind, 0), b.message_kinds.get(kind, 0)
        if x != y:
            lines.append(f"{kind} messages: {x} -> {y}")
    if a.reply != b.reply:
        lines.append(f"reply: {len(a.reply)} -> {len(b.reply)} characters, {_first_difference(a.reply, b.reply)}")
    return lines + file_lines("reply file", a.received, b.received)


def _request(path: Path) -> tuple[RecordedChat, dict[str, object]] | str:
    """What the recording's chat asked for with its app's option defaults by label, or
    why that cannot be read (then only the answers are compared)."""
    try:
        chat = recorded_chat(path)
    except CassetteError as error:
        # Without the file's name: two recordings that cannot be read alike are not a difference.
        reason = str(error).removeprefix(f"{path}: ").removeprefix(str(path))
        return f"(not readable: {' '.join(reason.split())[:200]})"
    # recorded_chat read the same /config: it parses and has this chat event.
    config = next(i.response_body for i in load_interactions(path) if i.route.endswith("/config"))
    contract = derive_contract(parse_config(config.encode()), chat.endpoint)
    return chat, {s.label: s.default for s in contract.options if s.label is not None}


def _request_diff(
    old: tuple[RecordedChat, dict[str, object]] | str, new: tuple[RecordedChat, dict[str, object]] | str
) -> list[str]:
    if isinstance(old, str) or isinstance(new, str):
        shown_a, shown_b = (x if isinstance(x, str) else "(readable)" for x in (old, new))
        return [] if old == new else [f"request: {_printable(shown_a)} -> {_printable(shown_b)}"]
    (a, defaults_a), (b, defaults_b) = old, new
    system_a, turns_a, message_a = _parts(a)
    system_b, turns_b, message_b = _parts(b)
    lines = [] if system_a == system_b else [f"system prompt: {_shown(system_a)} -> {_shown(system_b)}"]
    for label in sorted(set(a.options) | set(b.options)):
        x, y = _option(a, defaults_a, label), _option(b, defaults_b, label)
        if x != y:
            lines.append(f"option {_shown(label)}: {x} -> {y}")
    if len(turns_a) != len(turns_b):
        lines.append(f"history: {len(turns_a)} -> {len(turns_b)} earlier messages")
    else:
        changed = next((i for i, (x, y) in enumerate(zip(turns_a, turns_b, strict=True)) if x != y), None)
        if changed is not None:
            lines.append(f"history message {changed + 1}: {_shown(turns_a[changed])} -> {_shown(turns_b[changed])}")
    if message_a != message_b:
        lines.append(f"message: {_first_difference(message_a, message_b)}")
    return lines


def _option(chat: RecordedChat, defaults: dict[str, object], label: str) -> str:
    """The option's value as sent: only those set away from the app's default are kept."""
    if label in chat.options:
        return _shown(chat.options[label])
    return f"{_shown(defaults[label])} (the app's default)" if label in defaults else "(the app's default)"


def _parts(chat: RecordedChat) -> tuple[object, list[object], str]:
    """The system prompt (None: the app's own), the earlier messages' texts, the message."""
    messages = chat.messages
    system = messages[0]["content"] if messages and messages[0]["role"] == "system" else None
    turns = [m["content"] for m in messages[1 if system is not None else 0 : -1]]
    return system, turns, str(messages[-1]["content"])


def _first_difference(x: str, y: str) -> str:
    common = next((i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), None)
    at = common if common is not None else min(len(x), len(y))
    return f"first difference at {at}: {_shown(x[at : at + 40])} -> {_shown(y[at : at + 40])}"


def _shown(value: object) -> str:
    text = repr(value)
    return _printable(text if len(text) <= 120 else text[:117] + "...")
