"""The token read (protocol/_token.py) is a fast path beside the plain one: a stream read
with it must give exactly what the plain way gives, whatever arrives.

Each example is a job's stream: the first value of a reply laid out as one of the
chatbot formats, then reads drawn from token messages with every field the token read
checks mutated one way or another (other events, other paths, floats and booleans for
keys, empty or non-string text, changes in other outputs, integer durations, strings
for booleans, extra fields), framed in the ways a server or a proxy may frame them
(CR LF, a missing space, a comment or a field line before, two events in a read, a
read cut in two, invalid UTF-8, NaN, a BOM, JSON spread over lines), then the end.
The same reads go through a ``ChatStream`` and through one whose token read is
switched off, and everything they give and keep must be equal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qwen_space.protocol import (
    ChatEvent,
    ChatStream,
    Failed,
    QwenSpaceError,
    TextDelta,
    derive_contract,
    parse_config,
)
from qwen_space.protocol._chatbot import ChatbotFormat
from qwen_space.protocol._job import ChatJob
from qwen_space.protocol._sse import SSEDecoder
from qwen_space.protocol._stream import chat_job
from qwen_space.protocol._token import token_read

EVENT = "ev1"

# A reply's first value per format, and the path its appends grow at.
LAYOUTS: dict[ChatbotFormat, tuple[Any, list[Any]]] = {
    ChatbotFormat.TEXT: ("w0 ", []),
    ChatbotFormat.TUPLES: ([["q", "a"]], [0, 1]),
    ChatbotFormat.MESSAGES: ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], [1, "content"]),
    ChatbotFormat.NORMALISED: (
        [
            {"role": "user", "content": [{"type": "text", "text": "q"}]},
            {"role": "assistant", "content": [{"type": "text", "text": "a"}]},
        ],
        [1, "content", 0, "text"],
    ),
}


class PlainStream(ChatStream):
    """A ChatStream that reads every chunk the plain way."""

    def _token(self, chunk: bytes) -> list[ChatEvent] | None:
        return None


def odd(value: Any) -> st.SearchStrategy[Any]:
    """``value``, or something a hostile or newer server might send in its place."""
    return st.one_of(
        st.just(value),
        st.sampled_from([None, 0, 1, 1.5, True, False, "", "x", [], {}, -1, 2**70]),
    )


@st.composite
def token_message(draw: st.DrawFn, path: list[Any], slots: int, slot: int) -> dict[str, Any]:
    text = draw(st.one_of(st.text(min_size=1, max_size=6), odd("t")))
    edit_path = draw(
        st.one_of(
            st.just(path),
            st.just(path[:-1]),
            st.just([*path, 0]),
            st.just([float(k) if isinstance(k, int) else k for k in path]),
            st.just([True if k == 1 else k for k in path]),
            odd(path),
        )
    )
    edit: Any = draw(st.one_of(st.just(["append", edit_path, text]), st.just(["replace", edit_path, text]), odd(None)))
    edits = draw(st.one_of(st.just([edit]), st.just([edit, edit]), st.just([]), odd([edit])))
    data: list[Any] = [draw(st.one_of(st.just([]), odd([]))) if i != slot else edits for i in range(slots)]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, slots))]
    output: dict[str, Any] = {"data": data, "is_generating": True, "duration": 0.01, "average_duration": 0.02}
    for key in ("is_generating", "duration", "average_duration", "changed_state_ids"):
        if draw(st.integers(0, 5)) == 0:
            output[key] = draw(odd(output.get(key)))
        if draw(st.integers(0, 9)) == 0:
            output.pop(key, None)
    message: dict[str, Any] = {"msg": "process_generating", "event_id": EVENT, "output": output, "success": True}
    for key, usual in (("msg", "process_generating"), ("event_id", EVENT), ("success", True), ("time_limit", None)):
        if draw(st.integers(0, 6)) == 0:
            message[key] = draw(st.one_of(odd(usual), st.sampled_from(["process_streaming", "ev2", "heartbeat"])))
        if draw(st.integers(0, 12)) == 0:
            message.pop(key, None)
    if draw(st.integers(0, 8)) == 0:
        message["output"] = draw(odd(output))
    return message


def frame(message: dict[str, Any], how: str) -> list[bytes]:
    """The message as the reads a server, a proxy or a broken peer might send."""
    body = json.dumps(message, separators=(",", ":"), allow_nan=True).encode()
    event = b"data: " + body + b"\n\n"
    if how == "plain":
        return [event]
    if how == "crlf":
        return [b"data: " + body + b"\r\n\r\n"]
    if how == "no space":
        return [b"data:" + body + b"\n\n"]
    if how == "comment first":
        return [b": ping\n" + event]
    if how == "comment alone":
        return [b": ping\n", event]
    if how == "event field":  # six bytes that are not "data: ": a field the plain way drops
        return [b"event:" + body + b"\n\n"]
    if how == "field first":
        return [b"event: other\n", event]
    if how == "retry first":
        return [b"retry: 5\n", event]
    if how == "twice":
        return [event + event]
    if how == "cut":
        return [event[:9], event[9:]]
    if how == "lf held":
        return [event[:-1], b"\n"]
    if how == "cr end":
        return [b"data: " + body + b"\r", b"\n\r\n"]
    if how == "bad utf-8":
        return [event.replace(b'"t', b'"\xff', 1)]
    if how == "nan":
        return [event.replace(b'"duration":0.01', b'"duration":NaN', 1)]
    if how == "lines":
        return [b"data: " + json.dumps(message, indent=1).encode().replace(b"\n", b"\ndata: ") + b"\n\n"]
    if how == "json lines":  # raw line breaks inside the JSON: each line a field of its own
        return [b"data: " + json.dumps(message, indent=1).encode() + b"\n\n"]
    if how == "cr inside":
        return [event.replace(b',"', b',\r"', 1)]
    if how == "huge":
        return [event.replace(b'"t', b'"' + b"y" * 70_000, 1)]
    assert how == "bom"
    return [b"\xef\xbb\xbf" + event]


FRAMES = ["plain"] * 8 + [
    "crlf",
    "no space",
    "comment first",
    "comment alone",
    "field first",
    "event field",
    "retry first",
    "twice",
    "cut",
    "lf held",
    "cr end",
    "bad utf-8",
    "nan",
    "lines",
    "json lines",
    "cr inside",
    "huge",
    "bom",
]


@st.composite
def streams(draw: st.DrawFn) -> tuple[ChatbotFormat, int, list[bytes], int, bool]:
    chatbot_format = draw(st.sampled_from(list(LAYOUTS)))
    value, path = LAYOUTS[chatbot_format]
    slots = draw(st.integers(1, 3))
    slot = draw(st.integers(0, slots - 1))
    first: dict[str, Any] = {
        "msg": "process_generating",
        "event_id": EVENT,
        "output": {"data": [value if i == slot else None for i in range(slots)], "is_generating": True},
        "success": True,
    }
    reads: list[bytes] = []
    if draw(st.booleans()):
        reads += frame({"msg": "process_starts", "event_id": EVENT}, "plain")
    if draw(st.integers(0, 9)):  # nearly always: the first value, before the tokens
        reads += frame(first, draw(st.sampled_from(FRAMES)))
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.integers(0, 19)) == 0:
            reads += frame(first, "plain")  # a full value again (a process_streaming, say)
        reads += frame(draw(token_message(path, slots, slot)), draw(st.sampled_from(FRAMES)))
    if draw(st.booleans()):
        final = {
            "msg": "process_completed",
            "event_id": EVENT,
            "success": True,
            "output": {"data": first["output"]["data"]},
        }
        reads += frame(final, "plain")
    max_event_size = draw(st.sampled_from([16 * 1024 * 1024, 200, 1]))
    full_values = draw(st.integers(0, 5)) == 0  # sse_v1: every value whole, never a diff
    return chatbot_format, slot, reads, max_event_size, full_values


def shown(events: list[ChatEvent]) -> list[Any]:
    """Events as compared: by repr (a NaN duration, as sent, equals itself there), a
    failure by its error's class and text."""
    return [(type(e.error), str(e.error), e.error.partial_text) if isinstance(e, Failed) else repr(e) for e in events]


@given(streams())
def test_a_stream_read_with_the_token_read_gives_what_the_plain_way_gives(
    stream: tuple[ChatbotFormat, int, list[bytes], int, bool],
) -> None:
    chatbot_format, slot, reads, max_event_size, full_values = stream

    def start(kind: type[ChatStream]) -> ChatStream:
        job = ChatJob(event_id=EVENT, reply_slot=slot, reply_format=chatbot_format, full_values=full_values)
        return kind(job, max_event_size=max_event_size)

    fast, plain = start(ChatStream), start(PlainStream)
    for read in reads:
        assert shown(fast.feed(read)) == shown(plain.feed(read))
        # repr: a NaN duration (sent as NaN) equals itself there
        assert (fast.job.text, fast.job.state, repr(fast.job.server_duration)) == (
            plain.job.text,
            plain.job.state,
            repr(plain.job.server_duration),
        )
    assert shown(fast.end()) == shown(plain.end())
    assert (fast.foreign_messages, fast.closed_by_server) == (plain.foreign_messages, plain.closed_by_server)
    assert (type(fast.error), str(fast.error)) == (type(plain.error), str(plain.error))
    assert fast.job.final_outputs == plain.job.final_outputs


def test_the_token_read_takes_a_token_and_leaves_the_rest() -> None:
    """It is used at all: a token read is recognised; a comment line, another event, a
    change in another output are not."""
    message = {"msg": "process_generating", "event_id": EVENT, "output": {"data": [[["append", [], "hi"]], []]}}
    event = frame(message, "plain")[0]
    assert token_read(event, EVENT, 0) == ([], "hi", None)
    assert token_read(b": ping\n" + event, EVENT, 0) is None
    assert token_read(event, "ev2", 0) is None
    message["output"] = {"data": [[["append", [], "hi"]], [["replace", [], 1]]]}
    assert token_read(frame(message, "plain")[0], EVENT, 0) is None


RELEASES = Path(__file__).parent / "data" / "releases"


@pytest.mark.parametrize("version", ["4.29.0", "5.23.3", "6.0.2"])
def test_every_token_of_a_captured_stream_takes_the_token_read(version: str) -> None:
    """A real release's stream (the Qwen layout's tuples, and 6.x's content parts) read a
    message at a time, as at a model's pace: every token after the first value is a token
    read, and the reply is what the plain way reads."""
    taken = 0

    class Counting(ChatStream):
        def _token(self, chunk: bytes) -> list[ChatEvent] | None:
            nonlocal taken
            events = super()._token(chunk)
            taken += events is not None
            return events

    directory = RELEASES / f"gradio-{version}"
    config = parse_config((directory / "config.json").read_bytes())
    body = (directory / "stream.sse").read_bytes()
    event_id = json.loads(body.split(b"\n", 1)[0].removeprefix(b"data: "))["event_id"]
    stream = Counting(chat_job(config, derive_contract(config, "/model_chat"), event_id))
    reads = [message + b"\n\n" for message in body.split(b"\n\n") if message]
    deltas = [event.text for read in reads for event in stream.feed(read) if isinstance(event, TextDelta)]
    assert body.count(b'"append"') == 4
    assert taken == 4
    assert deltas == [f"tok{i} " for i in range(5)]


ODD_VALUES: list[Any] = [None, 0, 1, 1.5, True, False, "", "x", [], {}, -1, 2**70, [[]], ["append", [], "x"]]


def single_changes() -> list[tuple[str, dict[str, Any]]]:
    """A valid token message of the Qwen layout's tuples with one field changed or gone,
    for every field the token read checks."""

    def base() -> dict[str, Any]:
        output = {"data": [[], [["append", [0, 1], "tok"]], []], "is_generating": True, "duration": 0.01}
        return {"msg": "process_generating", "event_id": EVENT, "output": output | {"average_duration": 0.02}}

    cases: list[tuple[str, dict[str, Any]]] = [("as sent", base())]
    places: list[tuple[str, Any]] = [
        ("message", lambda m: m),
        ("output", lambda m: m["output"]),
        ("data", lambda m: m["output"]["data"]),
        ("edits", lambda m: m["output"]["data"][1]),
        ("edit", lambda m: m["output"]["data"][1][0]),
        ("path", lambda m: m["output"]["data"][1][0][1]),
    ]
    keys: dict[str, list[Any]] = {
        "message": ["msg", "event_id", "output", "success", "time_limit"],
        "output": ["data", "is_generating", "duration", "average_duration"],
        "data": [0, 1, 2],
        "edits": [0],
        "edit": [0, 1, 2],
        "path": [0, 1],
    }
    for place, find in places:
        for key in keys[place]:
            for value in ODD_VALUES:
                message = base()
                find(message)[key] = value
                cases.append((f"{place}[{key!r}] = {value!r}", message))
            if isinstance(key, str) and key in find(base()):
                message = base()
                del find(message)[key]
                cases.append((f"{place}[{key!r}] gone", message))
    return cases


@pytest.mark.parametrize(("change", "message"), single_changes(), ids=[c for c, _ in single_changes()])
def test_one_field_changed_reads_as_the_plain_way_reads_it(change: str, message: dict[str, Any]) -> None:
    first = {"msg": "process_generating", "event_id": EVENT, "output": {"data": [None, [["q", "a"]], None]}}
    final = {
        "msg": "process_completed",
        "event_id": EVENT,
        "success": True,
        "output": {"data": [None, [["q", "ab"]], None]},
    }
    reads = [frame(first, "plain")[0], frame(message, "plain")[0], frame(message, "plain")[0], frame(final, "plain")[0]]
    fast = ChatStream(ChatJob(event_id=EVENT, reply_slot=1, reply_format=ChatbotFormat.TUPLES))
    plain = PlainStream(ChatJob(event_id=EVENT, reply_slot=1, reply_format=ChatbotFormat.TUPLES))
    for read in reads:
        assert shown(fast.feed(read)) == shown(plain.feed(read)), change
        assert (fast.job.text, fast.job.state, fast.job.server_duration) == (
            plain.job.text,
            plain.job.state,
            plain.job.server_duration,
        )
    assert (type(fast.error), str(fast.error)) == (type(plain.error), str(plain.error))


@pytest.mark.parametrize("how", sorted(set(FRAMES)))
def test_a_token_framed_any_way_reads_as_the_plain_way_reads_it(how: str) -> None:
    first = {"msg": "process_generating", "event_id": EVENT, "output": {"data": [None, [["q", "a"]], None]}}
    output = {"data": [[], [["append", [0, 1], "tok"]], []], "is_generating": True, "duration": 0.01}
    token = {"msg": "process_generating", "event_id": EVENT, "output": output}
    reads = [*frame(first, "plain"), *frame(token, how), *frame(token, "plain")]
    # The limit a comment line before the token's line breaks and the line alone does not,
    # and the limits about the token's line itself (the decoder counts it without its LF).
    line = len(frame(token, "plain")[0]) - 2
    for limit in (16 * 1024 * 1024, line + len(": ping"), line + 1, line, line - 1, 200, 1):
        fast = ChatStream(
            ChatJob(event_id=EVENT, reply_slot=1, reply_format=ChatbotFormat.TUPLES), max_event_size=limit
        )
        plain = PlainStream(
            ChatJob(event_id=EVENT, reply_slot=1, reply_format=ChatbotFormat.TUPLES), max_event_size=limit
        )
        for read in reads:
            assert shown(fast.feed(read)) == shown(plain.feed(read)), (how, limit)
            assert (fast.job.text, fast.job.state) == (plain.job.text, plain.job.state)


def test_a_reopened_stream_reads_its_first_token_as_the_plain_way() -> None:
    """A stream opened again for the same job (after a close_stream) starts with a fresh
    decoder; its first read may be a token, and a BOM later in it is not the stream's."""
    first = {"msg": "process_generating", "event_id": EVENT, "output": {"data": [[["q", "a"]]]}}
    token = {"msg": "process_generating", "event_id": EVENT, "output": {"data": [[["append", [0, 1], "b"]]]}}
    jobs = [ChatJob(event_id=EVENT, reply_slot=0, reply_format=ChatbotFormat.TUPLES) for _ in range(2)]
    for job in jobs:
        ChatStream(job).feed(frame(first, "plain")[0])
    fast, plain = ChatStream(jobs[0]), PlainStream(jobs[1])
    for read in [*frame(token, "plain"), *frame(token, "bom"), *frame(token, "plain")]:
        assert shown(fast.feed(read)) == shown(plain.feed(read))
    assert fast.job.text == plain.job.text == "abb"


SSE_PIECES = [
    *(b"data: x", b"data:", b": c", b"event: e", b"id: 1", b"retry: 7"),
    *(b"\n", b"\r", b"\r\n", b"\xef\xbb\xbf", b"\n\n"),
    b"data: x\n\n" + b"y" * 50,  # an event, then the limit broken: the error comes with the next feed
]


@given(st.lists(st.sampled_from(SSE_PIECES), max_size=12), st.integers(1, 40))
def test_between_events_means_a_whole_event_reads_as_from_a_fresh_decoder(pieces: list[bytes], limit: int) -> None:
    """What the token read relies on, for any bytes before: when the decoder says it holds
    nothing of an event, a chunk of one whole event gives that event and leaves it so."""
    decoder = SSEDecoder(max_event_size=limit)
    try:
        for piece in pieces:
            decoder.feed(piece)
    except QwenSpaceError:
        return
    if not decoder.between_events:
        return
    fresh = SSEDecoder(max_event_size=limit)
    fresh.feed(b"\n")  # past the start, where a BOM would be skipped
    event = b'data: {"a":1}\n\n'
    assert outcome(decoder, event) == outcome(fresh, event)
    assert decoder.between_events == fresh.between_events


def outcome(decoder: SSEDecoder, chunk: bytes) -> object:
    try:  # an event's id is the stream's last one (the spec's rule): the stream's, not the event's
        return [(event.data, event.event, event.retry) for event in decoder.feed(chunk)]
    except QwenSpaceError as error:
        return type(error), str(error)


@pytest.mark.parametrize("full_values", [False, True])
def test_after_a_broken_edit_and_under_sse_v1_a_token_reads_as_the_plain_way(full_values: bool) -> None:
    """Two states where an append is not the reply's: the reply's output desynchronised by
    an edit that cannot apply, and sse_v1, where every value comes whole."""
    first = {"msg": "process_generating", "event_id": EVENT, "output": {"data": [[["q", "a"]]]}}
    broken = {"msg": "process_generating", "event_id": EVENT, "output": {"data": [[["append", [0, 1.0], "x"]]]}}
    token = {"msg": "process_generating", "event_id": EVENT, "output": {"data": [[["append", [0, 1], "b"]]]}}
    streams = [
        kind(ChatJob(event_id=EVENT, reply_slot=0, reply_format=ChatbotFormat.TUPLES, full_values=full_values))
        for kind in (ChatStream, PlainStream)
    ]
    for message in (first, token, broken, token, token):
        read = frame(message, "plain")[0]
        assert shown(streams[0].feed(read)) == shown(streams[1].feed(read))
        assert streams[0].job.text == streams[1].job.text


def test_a_job_takes_an_appended_token_only_while_it_follows_diffs_of_its_reply() -> None:
    """``ChatJob.appended`` refuses, changing nothing, before the first value, at another
    path, and after the end."""
    job = ChatJob(event_id=EVENT, reply_slot=0, reply_format=ChatbotFormat.TUPLES)
    assert job.appended([0, 1], "b", None) is None
    first = {"msg": "process_generating", "event_id": EVENT, "output": {"data": [[["q", "a"]]]}}
    stream = PlainStream(job)
    stream.feed(frame(first, "plain")[0])
    assert job.appended([0, 0], "b", None) is None
    assert job.appended([0, 1], "b", 0.5) == [TextDelta("b")]
    assert (job.text, job.server_duration) == ("ab", 0.5)
    final = {"msg": "process_completed", "event_id": EVENT, "success": True, "output": {"data": [[["q", "ab"]]]}}
    stream.feed(frame(final, "plain")[0])
    assert job.appended([0, 1], "c", None) is None
    assert job.text == "ab"
