"""ChatStream against the typed pipeline it shortcuts.

The oracle is the plain composition: SSE events decoded to text, ``parse_message``,
``ChatJob.receive`` one message at a time. ChatStream must give the same events
(adjacent text deltas joined, as it joins them), the same final text, duration and
state, whatever the stream holds and however it is cut: Gradio's real per-token
messages, and every way a message can differ from the one before it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qwen_space.protocol import (
    ChatbotFormat,
    ChatEvent,
    ChatJob,
    ChatJobState,
    ChatStream,
    CloseStream,
    Completed,
    Correction,
    Failed,
    QwenSpaceError,
    SSEDecoder,
    TextDelta,
    Turn,
    build_history,
    parse_config,
    parse_message,
)

from .captures import block
from .strategies import chunked
from .test_read_chat_stream import CASES, TEXT, Case, capture_config, event_id_of

EVENT_ID = "e1"
SYSTEM = "You are a helpful assistant."
FORMATS = [ChatbotFormat.TUPLES, ChatbotFormat.MESSAGES, ChatbotFormat.NORMALISED]


def typed_pipeline(job: ChatJob, body: bytes) -> tuple[list[ChatEvent], bool, bool]:
    """What ChatStream does, one typed step at a time: (events, closed, broken)."""
    events: list[ChatEvent] = []
    closed = broken = False
    try:
        for sse_event in SSEDecoder().feed(body):
            message = parse_message(sse_event.data)
            if type(message) is CloseStream:
                closed = True
                continue
            if message.event_id not in (None, job.event_id):
                continue
            events += job.receive(message)
            if job.state.is_terminal:
                break
    except QwenSpaceError as error:
        broken = True
        events += job.fail(error)
    return events, closed, broken


def joined(events: list[ChatEvent]) -> list[object]:
    """Events with adjacent deltas joined and errors compared by kind and message."""
    out: list[object] = []
    for event in events:
        if isinstance(event, TextDelta) and out and isinstance(out[-1], TextDelta):
            out[-1] = TextDelta(out[-1].text + event.text)
        elif isinstance(event, Failed):
            out.append((type(event.error), str(event.error), event.error.partial_text))
        else:
            out.append(event)
    return out


def new_job(chatbot_format: ChatbotFormat) -> ChatJob:
    return ChatJob(event_id=EVENT_ID, reply_slot=1, reply_format=chatbot_format, owns_messages=True)


def check_equivalent(chatbot_format: ChatbotFormat, body: bytes, chunks: list[bytes]) -> ChatJob:
    expected_job = new_job(chatbot_format)
    expected, expected_closed, expected_broken = typed_pipeline(expected_job, body)
    job = new_job(chatbot_format)
    stream = ChatStream(job)
    events = [event for chunk in chunks for event in stream.feed(chunk)]
    assert joined(events) == joined(expected)
    assert job.state is expected_job.state
    assert job.text == expected_job.text
    assert job.server_duration == expected_job.server_duration
    assert stream.closed_by_server == expected_closed
    assert (stream.error is not None) == expected_broken
    return job


# --- Gradio-shaped streams ---------------------------------------------------------


def reply_path(chatbot_format: ChatbotFormat, turns: int) -> list[object]:
    if chatbot_format is ChatbotFormat.TUPLES:
        return [turns, 1]
    if chatbot_format is ChatbotFormat.MESSAGES:
        return [2 * turns + 1, "content"]
    return [2 * turns + 1, "content", 0, "text"]


def chatbot(chatbot_format: ChatbotFormat, turns: int, text: str) -> object:
    history = [Turn(f"q{i}", f"a{i}") for i in range(turns)]
    return build_history([*history, Turn("question", text)], chatbot_format)


def line(payload: object) -> bytes:
    return b"data: " + json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


# Mostly floats, as Gradio sends; null, integers and absence now and then.
_float_durations = st.floats(min_value=0, max_value=10, allow_nan=False)
_durations = st.one_of(*[_float_durations] * 6, st.just(None), st.integers(0, 3), st.just("absent"))
_pieces = st.text(st.characters(exclude_categories=["Cs"]), max_size=6)
# Deviations the job lives through; the fatal ones (a protocol violation ends the job)
# are drawn at most once per stream, so that most streams go on long enough for the
# shortcut to take over and be left again.
STEP_KINDS = [
    *["append"] * 20,
    "replace",
    "other_slot",
    "log",
    "heartbeat",
    "unknown",
    "foreign",
    "path_float",
    "reordered",
    "extra_key",
    "two_appends",
    "estimation_late",
]
FATAL_KINDS = ["confused", "junk", "not_an_object"]


@st.composite
def gradio_streams(draw: st.DrawFn) -> tuple[ChatbotFormat, bytes]:
    """One chat turn as a Gradio server streams it, with drawn deviations."""
    chatbot_format = draw(st.sampled_from(FORMATS))
    turns = draw(st.integers(0, 2))
    path = reply_path(chatbot_format, turns)
    # What this server sends besides data: fixed for the stream, like a real one.
    extras: list[dict[str, Any]] = [{}, {"render_config": None, "changed_state_ids": [], "used_cache": None}]
    extra = draw(st.sampled_from(extras))
    with_average = draw(st.booleans())
    with_time_limit = draw(st.booleans())
    out = [
        line({"msg": "estimation", "event_id": EVENT_ID, "rank": 0, "queue_size": 1, "rank_eta": None}),
        line({"msg": "process_starts", "event_id": EVENT_ID, "eta": None}),
    ]
    text = draw(_pieces)

    def generating(data: list[object], event_id: str = EVENT_ID, **changes: Any) -> dict[str, Any]:
        output: dict[str, Any] = {"data": data, "is_generating": True}
        duration = draw(_durations)
        if duration != "absent":
            output["duration"] = duration
        if with_average:
            output["average_duration"] = draw(_durations.filter(lambda d: d != "absent"))
        output.update(extra)
        message: dict[str, Any] = {"msg": "process_generating", "event_id": event_id, "output": output, "success": True}
        if with_time_limit:
            message["time_limit"] = None
        for key, value in changes.items():
            if key in ("is_generating", "path_float"):
                continue
            message[key] = value
        if "is_generating" in changes:
            output["is_generating"] = changes["is_generating"]
        return message

    def append(piece: str, **changes: Any) -> dict[str, Any]:
        edit_path = [float(str(path[0])), *path[1:]] if changes.get("path_float") else path
        return generating([[], [["append", edit_path, piece]], []], **changes)

    out.append(line(generating(["", chatbot(chatbot_format, turns, text), SYSTEM])))
    steps = draw(st.integers(0, 30))  # lists() would favour short streams
    kinds = draw(st.lists(st.sampled_from(STEP_KINDS), min_size=steps, max_size=steps))
    if draw(st.booleans()):
        kinds.insert(draw(st.integers(0, len(kinds))), draw(st.sampled_from(FATAL_KINDS)))
    for kind in kinds:
        piece = draw(_pieces)
        if kind == "append":
            out.append(line(append(piece)))
            text += piece
        elif kind == "two_appends":
            message = append(piece)
            message["output"]["data"][1].append(["append", path, "!"])
            out.append(line(message))
            text += piece + "!"
        elif kind == "replace":
            text = draw(_pieces)
            out.append(line(generating([[], [["replace", path, text]], []])))
        elif kind == "other_slot":
            message = append(piece)
            message["output"]["data"][0] = [["replace", [], piece]]
            out.append(line(message))
            text += piece
        elif kind == "log":
            out.append(line({"msg": "log", "event_id": EVENT_ID, "log": piece, "level": "info", "title": None}))
        elif kind == "heartbeat":
            out.append(line({"msg": "heartbeat"}))
        elif kind == "unknown":
            out.append(line({"msg": "something_new", "event_id": EVENT_ID, "output": {"data": [[], [[0, 1, 2]], []]}}))
        elif kind == "foreign":
            out.append(line(append(piece, event_id="other")))
        elif kind == "confused":
            confusions: list[dict[str, Any]] = [{"success": 1}, {"is_generating": 1}, {"time_limit": True}]
            out.append(line(append(piece, **draw(st.sampled_from(confusions)))))
        elif kind == "path_float":
            out.append(line(append(piece, path_float=True)))  # [1.0, 1] == [1, 1] to the typed path too
            text += piece
        elif kind == "reordered":
            message = append(piece)
            out.append(line(dict(reversed(list(message.items())))))
            text += piece
        elif kind == "extra_key":
            message = append(piece)
            message["output"]["new_field"] = draw(st.sampled_from([None, 1, "x", [1]]))
            out.append(line(message))
            text += piece
        elif kind == "junk":
            out.append(b"data: " + draw(st.sampled_from([b"{", b'{"msg":', b"\xff\xfe", b"nul", b"[1,"])) + b"\n\n")
        elif kind == "not_an_object":
            out.append(line(draw(st.sampled_from([[1, 2], "process_generating", 3, None]))))
        elif kind == "estimation_late":
            out.append(line({"msg": "estimation", "event_id": EVENT_ID, "rank": 0, "queue_size": 1}))
    ending = draw(st.sampled_from(["completed", "rewritten", "failed", "none", "after_end"]))
    final = text if ending != "rewritten" else text[:-1] + "#"
    completed = {
        "msg": "process_completed",
        "event_id": EVENT_ID,
        "output": {"data": ["", chatbot(chatbot_format, turns, final), SYSTEM], "is_generating": False},
        "success": True,
    }
    if ending == "failed":
        out.append(
            line({"msg": "process_completed", "event_id": EVENT_ID, "output": {"error": "boom"}, "success": False})
        )
    elif ending != "none":
        out.append(line(completed))
    if ending == "after_end":
        out.append(line(append("late")))
    if draw(st.booleans()):
        out.append(line({"msg": "close_stream", "event_id": None}))
    return chatbot_format, b"".join(out)


@settings(max_examples=300)
@given(gradio_streams(), st.data())
def test_chat_stream_equals_the_typed_pipeline(stream: tuple[ChatbotFormat, bytes], data: st.DataObject) -> None:
    chatbot_format, body = stream
    check_equivalent(chatbot_format, body, data.draw(chunked(body)))


@given(gradio_streams())
def test_one_chunk_and_one_byte_at_a_time(stream: tuple[ChatbotFormat, bytes]) -> None:
    chatbot_format, body = stream
    check_equivalent(chatbot_format, body, [body])
    check_equivalent(chatbot_format, body, [body[i : i + 1] for i in range(len(body))])


# --- examples --------------------------------------------------------------------------


def plain_turn(pieces: list[str], *, final: str | None = None) -> bytes:
    path = reply_path(ChatbotFormat.TUPLES, 0)
    out = [line({"msg": "process_starts", "event_id": EVENT_ID})]
    out.append(
        line({"msg": "process_generating", "event_id": EVENT_ID, "output": {"data": ["", [["q", pieces[0]]], SYSTEM]}})
    )
    for piece in pieces[1:]:
        output = {"data": [[], [["append", path, piece]], []], "is_generating": True, "duration": 0.25}
        out.append(line({"msg": "process_generating", "event_id": EVENT_ID, "output": output, "success": True}))
    answer = "".join(pieces) if final is None else final
    output = {"data": ["", [["q", answer]], SYSTEM], "duration": 0.25}
    out.append(line({"msg": "process_completed", "event_id": EVENT_ID, "output": output, "success": True}))
    out.append(line({"msg": "close_stream", "event_id": None}))
    return b"".join(out)


def test_appends_read_together_are_one_delta() -> None:
    job = new_job(ChatbotFormat.TUPLES)
    events = ChatStream(job).feed(plain_turn(["a", "b", "c", "d"]))
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("a"), TextDelta("b"), TextDelta("cd")]
    assert events[-1] == Completed("abcd", 1.0)


def test_a_rewritten_final_value_is_a_correction_with_what_was_shown() -> None:
    job = new_job(ChatbotFormat.TUPLES)
    events = ChatStream(job).feed(plain_turn(["a", "b", "c"], final="aXc"))
    assert Correction(retract=2, text="Xc", previous="abc") in events


def test_a_broken_message_mid_chunk_keeps_the_text_before_it() -> None:
    body = plain_turn(["a", "b", "c"])
    broken = body.replace(b'"append",[0,1],"c"', b'"append",[0,1],"c"}}}')
    job = new_job(ChatbotFormat.TUPLES)
    stream = ChatStream(job)
    events = stream.feed(broken)
    assert job.state is ChatJobState.FAILED
    assert stream.error is not None
    assert isinstance(events[-1], Failed)
    assert events[-1].error.partial_text == "ab"
    assert stream.feed(b"data: {}\n\n") == [], "nothing is read after the end"


def test_messages_of_other_events_are_counted_and_skipped() -> None:
    body = plain_turn(["a", "b"]).replace(b'"event_id":"e1"', b'"event_id":"zz"', 1)
    stream = ChatStream(new_job(ChatbotFormat.TUPLES))
    stream.feed(body)
    assert stream.foreign_messages == 1
    assert stream.closed_by_server is False, "the stream ends at the completion, before close_stream"


def test_a_final_message_larger_than_orjson_is_given_is_read_the_same() -> None:
    pieces = ["x" * 1000] * 400  # a 400 kB reply: its final message is decoded by json
    body = plain_turn(pieces)
    job = check_equivalent(ChatbotFormat.TUPLES, body, [body[i : i + 65536] for i in range(0, len(body), 65536)])
    assert job.text == "".join(pieces)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_captured_gradio_streams(case: Case) -> None:
    """Real bytes of Gradio 4.44, 5.50 and 6.31 servers: the same events both ways, in
    one chunk and one byte at a time."""
    capture = block(case.name)
    endpoint = parse_config(capture_config(case.version, case.outputs)).endpoint("/fn")
    assert endpoint.reply_slot is not None
    assert endpoint.reply_format is not None
    for chunks in ([capture.sse_body], [capture.sse_body[i : i + 1] for i in range(len(capture.sse_body))]):
        expected_job, job = (
            ChatJob(event_id=event_id_of(capture), reply_slot=endpoint.reply_slot, reply_format=endpoint.reply_format)
            for _ in range(2)
        )
        expected, _, _ = typed_pipeline(expected_job, capture.sse_body)
        stream = ChatStream(job)
        assert joined([event for chunk in chunks for event in stream.feed(chunk)]) == joined(expected)
        assert job.text == expected_job.text == case.text


def test_the_shortcut_takes_every_append_after_the_first_of_a_real_stream() -> None:
    """tok1..tok3 of Gradio 5's stream arrive together: tok1 goes the typed way and
    arms the shortcut, which takes tok2 and tok3 as one delta."""
    capture = block("v5_stream")
    endpoint = parse_config(capture_config("5.50.0", TEXT)).endpoint("/fn")
    assert endpoint.reply_slot is not None
    assert endpoint.reply_format is not None
    job = ChatJob(event_id=event_id_of(capture), reply_slot=endpoint.reply_slot, reply_format=endpoint.reply_format)
    events = ChatStream(job).feed(capture.sse_body)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["tok0 ", "tok1 ", "tok2 tok3 "]
