"""ChatStream: the pipeline the client runs on every network read.

Three things are checked over generated Gradio streams (with hostile values in the
other outputs: lone surrogates, deep nesting, huge integers, NaN, floats for ints,
unknown fields) and over arbitrary bytes:

* ``feed`` never raises, whatever arrives;
* the answer does not depend on how the bytes are cut into reads: one chunk, one
  byte at a time and random chunks give the same events, with deltas joined;
* a completed chat shows exactly the Space's final reply, and the deltas and
  corrections a consumer applies always add up to the job's text.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qwen_space.protocol import (
    ChatEvent,
    ChatStream,
    Completed,
    Correction,
    Failed,
    QwenSpaceError,
    TextDelta,
    Turn,
    chat_stream,
    derive_contract,
    parse_config,
)
from qwen_space.protocol._chatbot import ChatbotFormat
from qwen_space.protocol._job import ChatJob, ChatJobState
from qwen_space.protocol._stream import chat_job

from .captures import block
from .chat_streams import chatbot_history
from .strategies import chunked
from .test_chain import CHAINS
from .test_read_chat_stream import CASES, TEXT, Case, capture_config, event_id_of

EVENT_ID = "e1"
SYSTEM = "You are a helpful assistant."
FORMATS = [ChatbotFormat.TUPLES, ChatbotFormat.MESSAGES, ChatbotFormat.NORMALISED]


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
    return ChatJob(event_id=EVENT_ID, reply_slot=1, reply_format=chatbot_format)


def run(chatbot_format: ChatbotFormat, chunks: list[bytes]) -> tuple[ChatJob, ChatStream, list[ChatEvent]]:
    job = new_job(chatbot_format)
    stream = ChatStream(job)
    events = [event for chunk in chunks for event in stream.feed(chunk)]
    events += stream.end()
    return job, stream, events


def shown_text(events: list[ChatEvent]) -> str:
    """What a consumer holds after applying every delta and correction."""
    text = ""
    for event in events:
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, Correction):
            assert text == event.previous
            text = text[: len(text) - event.retract] + event.text
    return text


def check_stream(chatbot_format: ChatbotFormat, body: bytes, chunks: list[bytes], final: str | None) -> ChatJob:
    """Run ``body`` cut three ways; ``final`` is the reply if the stream completes."""
    job, stream, events = run(chatbot_format, chunks)
    for other in ([body], [body[i : i + 1] for i in range(len(body))]):
        other_job, other_stream, other_events = run(chatbot_format, other)
        assert joined(other_events) == joined(events)
        assert (other_job.state, other_job.text, other_job.server_duration) == (
            job.state,
            job.text,
            job.server_duration,
        )
        assert (other_stream.error is None) == (stream.error is None)
    assert job.state.is_terminal, "every stream ends the job, if only by ending"
    assert sum(isinstance(event, (Completed, Failed)) for event in events) == 1
    assert shown_text(events) == job.text
    last = events[-1]
    if final is not None:
        assert isinstance(last, Completed)
        assert last.text == job.text == final
    elif isinstance(last, Completed):
        pytest.fail("the stream cannot complete, yet it did")
    else:
        assert isinstance(last, Failed)
        assert isinstance(last.error, QwenSpaceError)
        assert last.error.partial_text == job.text
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
    return chatbot_history([*history, Turn("question", text)], chatbot_format)


def line(payload: object) -> bytes:
    """One SSE event as Gradio writes it: raw UTF-8 where it can, ``\\u`` escapes for
    lone surrogates (which UTF-8 cannot carry), ``NaN`` as Python's json writes it."""
    try:
        return b"data: " + json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"
    except UnicodeEncodeError:
        return b"data: " + json.dumps(payload, separators=(",", ":")).encode() + b"\n\n"


GeneratedStream = tuple[ChatbotFormat, bytes, "str | None"]

# Mostly floats, as Gradio sends; null, integers and absence now and then.
_float_durations = st.floats(min_value=0, max_value=10, allow_nan=False)
_durations = st.one_of(*[_float_durations] * 6, st.just(None), st.integers(0, 3), st.just("absent"))
# Any code point, lone surrogates included: JSON can carry them as escapes.
_pieces = st.text(max_size=6)


def _deep(depth: int) -> object:
    value: object = "bottom"
    for _ in range(depth):
        value = [value]
    return value


# Values a Space may put in its other outputs; none of them may disturb the reply.
hostile_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**64 - 2, max_value=2**200)
    | st.floats()  # NaN and the infinities included
    | st.sampled_from([1, 1.0, True, 0, -0.0, "\udc00", "\ud800x", "\u2028", "\x00"])
    | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
) | st.integers(1, 600).map(_deep)

# Deviations the job lives through; the fatal ones (a protocol violation ends the job)
# are drawn at most once per stream, so that most streams go on.
STEP_KINDS = [
    *["append"] * 20,
    "replace",
    "other_slot",
    "hostile_other",
    "hostile_field",
    "log",
    "heartbeat",
    "unknown",
    "foreign",
    "path_float",
    "reordered",
    "two_appends",
    "estimation_late",
]
FATAL_KINDS = ["confused", "junk", "not_an_object"]


@st.composite
def gradio_streams(draw: st.DrawFn) -> GeneratedStream:
    """One chat turn as a Gradio server streams it, with drawn deviations, and the
    reply the client must show if the job completes (``None`` if it cannot)."""
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
    fatal = False

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

    first_other = draw(st.one_of(st.just(""), hostile_values))
    out.append(line(generating([first_other, chatbot(chatbot_format, turns, text), SYSTEM])))
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
        elif kind == "hostile_other":
            message = append(piece)
            slot = draw(st.sampled_from([0, 2]))
            message["output"]["data"][slot] = [["replace", [], draw(hostile_values)]]
            out.append(line(message))
            text += piece
        elif kind == "hostile_field":
            message = append(piece)
            where = draw(st.sampled_from([message, message["output"]]))
            where[draw(st.sampled_from(["new_field", "render_config", "changed_state_ids"]))] = draw(hostile_values)
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
            fatal = True
        elif kind == "path_float":
            # A path Gradio never writes: the reply is desynchronised until the final value.
            out.append(line(append(piece, path_float=True)))
            text += piece
        elif kind == "reordered":
            message = append(piece)
            out.append(line(dict(reversed(list(message.items())))))
            text += piece
        elif kind == "junk":
            out.append(b"data: " + draw(st.sampled_from([b"{", b'{"msg":', b"\xff\xfe", b"nul", b"[1,"])) + b"\n\n")
            fatal = True
        elif kind == "not_an_object":
            out.append(line(draw(st.sampled_from([[1, 2], "process_generating", 3, None]))))
            fatal = True
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
    completes = not fatal and ending in ("completed", "rewritten", "after_end")
    return chatbot_format, b"".join(out), final if completes else None


@settings(max_examples=300)
@given(gradio_streams(), st.data())
def test_any_chunking_gives_the_same_answer(stream: GeneratedStream, data: st.DataObject) -> None:
    chatbot_format, body, final = stream
    check_stream(chatbot_format, body, data.draw(chunked(body)), final)


@given(st.lists(st.binary(max_size=200), max_size=10), st.sampled_from(FORMATS))
def test_arbitrary_bytes_never_raise(chunks: list[bytes], chatbot_format: ChatbotFormat) -> None:
    job, _, events = run(chatbot_format, chunks)
    assert job.state.is_terminal
    assert isinstance(events[-1], (Completed, Failed))


@given(st.lists(st.binary(max_size=60), max_size=10), st.sampled_from(FORMATS))
def test_arbitrary_data_lines_never_raise(payloads: list[bytes], chatbot_format: ChatbotFormat) -> None:
    body = b"".join(b"data: " + payload.replace(b"\n", b" ").replace(b"\r", b" ") + b"\n\n" for payload in payloads)
    job, _, events = run(chatbot_format, [body])
    assert job.state.is_terminal
    assert isinstance(events[-1], (Completed, Failed))


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


def test_the_text_of_one_read_is_one_delta() -> None:
    body = plain_turn(["a", "b", "c", "d"])
    _, _, events = run(ChatbotFormat.TUPLES, [body])
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("abcd")]
    assert events[-1] == Completed("abcd", 1.0)
    _, _, apart = run(ChatbotFormat.TUPLES, body.splitlines(keepends=True))
    assert [e for e in apart if isinstance(e, TextDelta)] == [TextDelta(p) for p in "abcd"]


def test_a_rewritten_final_value_is_a_correction_with_what_was_shown() -> None:
    body = plain_turn(["a", "b", "c"], final="aXc")
    _, _, events = run(ChatbotFormat.TUPLES, body.splitlines(keepends=True))
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


def test_a_lone_surrogate_or_a_deep_list_in_another_output_is_harmless() -> None:
    """A healthy stream whose other outputs hold what UTF-8 cannot encode, or nest deep."""
    path = reply_path(ChatbotFormat.TUPLES, 0)
    for other in ("\udc00", _deep(300), 2**70, math.nan):
        body = plain_turn(["a", "b"]).replace(b"\n\n", b"\n\n", 1)
        tail = line(
            {
                "msg": "process_generating",
                "event_id": EVENT_ID,
                "output": {"data": [[["replace", [], other]], [["append", path, "c"]], []], "duration": 0.5},
                "success": True,
            }
        )
        body = body.replace(b'data: {"msg":"process_completed"', tail + b'data: {"msg":"process_completed"', 1)
        body = body.replace(b'[["q","ab"]]', b'[["q","abc"]]')
        assert tail in body
        job = check_stream(ChatbotFormat.TUPLES, body, [body], "abc")
        assert job.state is ChatJobState.COMPLETED


def test_a_long_final_message_is_read_whole() -> None:
    pieces = ["x" * 1000] * 400  # a 400 kB reply
    body = plain_turn(pieces)
    job = check_stream(
        ChatbotFormat.TUPLES, body, [body[i : i + 65536] for i in range(0, len(body), 65536)], "".join(pieces)
    )
    assert job.text == "".join(pieces)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_captured_gradio_streams(case: Case) -> None:
    """Real bytes of Gradio 4.44, 5.50 and 6.31 servers, in one chunk and one byte at a
    time: the same events, and the reply the server sent."""
    capture = block(case.name)
    config = parse_config(capture_config(case.version, case.outputs))
    contract = derive_contract(config, "/fn")
    results = []
    for chunks in ([capture.sse_body], [capture.sse_body[i : i + 1] for i in range(len(capture.sse_body))]):
        stream = chat_stream(config, contract, event_id_of(capture))
        job = stream.job
        events = [event for chunk in chunks for event in stream.feed(chunk)] + stream.end()
        assert job.text == case.text
        assert shown_text(events) == case.text
        results.append(joined(events))
    assert results[0] == results[1]


def test_each_read_of_a_real_stream_is_one_delta() -> None:
    """tok1..tok3 of Gradio 5's capture come in one read: one delta."""
    capture = block("v5_stream")
    config = parse_config(capture_config("5.50.0", TEXT))
    events = chat_stream(config, derive_contract(config, "/fn"), event_id_of(capture)).feed(capture.sse_body)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["tok0 tok1 tok2 tok3 "]


@pytest.mark.parametrize("version", ["4.44.1", "5.50.0", "6.31.0"])
def test_a_chain_step_reads_the_chatbot_only_where_it_writes_it(version: str) -> None:
    """chat_job's step rule: a step that writes the Chatbot reads the reply there, after
    the history sent and what earlier steps showed; any other step has no reply."""
    config = parse_config((CHAINS / version / "blocks_canonical.json").read_bytes())
    contract = derive_contract(config)
    bot = contract.steps[-1]
    assert contract.chatbot_id is not None
    writer = chat_job(config, contract, "e", step=bot, skip=2, shown="so far")
    assert (writer.reply_slot, writer.reply_format) == (bot.outputs.index(contract.chatbot_id), contract.reply_format)
    assert writer.text == "so far"
    other = replace(bot, outputs=(contract.chatbot_id + 1000,))
    silent = chat_job(config, contract, "e", step=other, skip=2, shown="so far")
    assert (silent.reply_slot, silent.reply_format, silent.text) == (1, ChatbotFormat.TEXT, "")
