import contextlib
import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qwen_space.protocol import SSEDecoder
from qwen_space.protocol._messages import (
    CloseStream,
    CompletionStatus,
    Estimation,
    Heartbeat,
    Log,
    MessageTag,
    ProcessCompleted,
    ProcessGenerating,
    ProcessStarts,
    ProcessStreaming,
    Progress,
    UnexpectedError,
    UnknownMessage,
    parse_message,
)
from qwen_space.protocol.errors import RemoteProtocolError

from .captures import CaptureBlock, capture_blocks
from .strategies import json_values

EID = "3148eb8abc7847e0bd2e5e44f12eb2bc"


def test_estimation() -> None:
    message = parse_message(f'{{"msg":"estimation","event_id":"{EID}","rank":2,"queue_size":5,"rank_eta":1.5}}')
    assert message == Estimation(event_id=EID, rank=2, queue_size=5, rank_eta=1.5)


def test_process_starts_accepts_bytes() -> None:
    assert parse_message(f'{{"msg":"process_starts","event_id":"{EID}","eta":null}}'.encode()) == ProcessStarts(
        event_id=EID
    )


def test_progress() -> None:
    message = parse_message(
        '{"msg":"progress","event_id":"e","progress_data":'
        '[{"index":1,"length":3,"unit":"steps","progress":null,"desc":"working"}]}'
    )
    assert isinstance(message, Progress)
    assert message.progress_data[0].index == 1
    assert message.progress_data[0].desc == "working"


def test_log_without_title_as_in_gradio_4() -> None:
    message = parse_message('{"msg":"log","event_id":"e","log":"hi","level":"warning","duration":10.0,"visible":true}')
    assert message == Log(event_id="e", log="hi", level="warning", duration=10.0, visible=True, title=None)


def test_generating_and_streaming() -> None:
    body = (
        '"event_id":"e","output":{"data":[[["append",[],"x"]]],"is_generating":true},"success":true,"time_limit":null'
    )
    generating = parse_message('{"msg":"process_generating",' + body + "}")
    streaming = parse_message('{"msg":"process_streaming",' + body + "}")
    assert isinstance(generating, ProcessGenerating)
    assert isinstance(streaming, ProcessStreaming)
    assert generating.output.data == [[["append", [], "x"]]]
    assert generating.output.is_generating is True


class TestCompletion:
    def test_success(self) -> None:
        message = parse_message('{"msg":"process_completed","event_id":"e","output":{"data":["hello"]},"success":true}')
        assert isinstance(message, ProcessCompleted)
        assert message.status is CompletionStatus.SUCCEEDED
        assert message.output is not None
        assert message.output.data == ["hello"]

    def test_cancelled(self) -> None:
        message = parse_message('{"msg":"process_completed","event_id":"e","output":{},"success":true,"title":null}')
        assert message == ProcessCompleted(event_id="e", status=CompletionStatus.CANCELLED)

    def test_hidden_error(self) -> None:
        message = parse_message('{"msg":"process_completed","event_id":"e","output":{"error":null},"success":false}')
        assert message == ProcessCompleted(event_id="e", status=CompletionStatus.FAILED, error=None, title=None)

    def test_gradio_4_quotes_are_removed(self) -> None:
        raw = '{"msg":"process_completed","event_id":"e","output":{"error":"\'Bad input: x\'"},"success":false}'
        message = parse_message(raw)
        assert isinstance(message, ProcessCompleted)
        assert message.error == "Bad input: x"

    def test_gradio_4_repr_escapes_are_undone(self) -> None:
        wrapped = repr('it\'s a "quote"\nand a line')
        message = parse_message(
            json.dumps({"msg": "process_completed", "event_id": "e", "output": {"error": wrapped}, "success": False})
        )
        assert isinstance(message, ProcessCompleted)
        assert message.error == 'it\'s a "quote"\nand a line'

    def test_title_from_output_or_top_level(self) -> None:
        mid_stream = parse_message(
            '{"msg":"process_completed","event_id":"e","output":{"error":"boom","title":"Error"},"success":false,"title":null}'
        )
        first_call = parse_message(
            '{"msg":"process_completed","event_id":"e","output":{"error":null},"success":false,"title":"Error"}'
        )
        assert isinstance(mid_stream, ProcessCompleted)
        assert isinstance(first_call, ProcessCompleted)
        assert (mid_stream.error, mid_stream.title) == ("boom", "Error")
        assert (first_call.error, first_call.title) == (None, "Error")

    def test_missing_success_is_a_protocol_error(self) -> None:
        with pytest.raises(RemoteProtocolError, match=r"process_completed\.success"):
            parse_message('{"msg":"process_completed","event_id":"e","output":{"data":[]}}')


def test_session_level_messages() -> None:
    assert parse_message('{"msg":"heartbeat","event_id":null}') == Heartbeat()
    assert parse_message('{"msg":"close_stream","event_id":null}') == CloseStream()
    assert parse_message(
        '{"msg":"unexpected_error","event_id":null,"message":"404: Not Found","session_not_found":true,"success":false}'
    ) == UnexpectedError(message="404: Not Found", session_not_found=True)
    assert parse_message(
        '{"msg":"unexpected_error","event_id":null,"message":"404: Session not found.","success":false}'
    ) == UnexpectedError(message="404: Session not found.", session_not_found=False)


def test_unknown_tag_keeps_the_payload() -> None:
    message = parse_message('{"msg":"send_hash","event_id":null,"extra":[1]}')
    assert message == UnknownMessage(
        tag="send_hash", event_id=None, payload={"msg": "send_hash", "event_id": None, "extra": [1]}
    )


def test_nan_from_old_servers_is_accepted() -> None:
    message = parse_message('{"msg":"estimation","event_id":"e","rank":0,"queue_size":1,"rank_eta":NaN}')
    assert isinstance(message, Estimation)
    assert message.rank_eta is not None
    assert message.rank_eta != message.rank_eta


def test_unicode_separators_survive() -> None:
    raw = '{"msg":"process_generating","event_id":"e","output":{"data":["a\u2028b\u0085c"]},"success":true}'
    message = parse_message(raw.encode())
    assert isinstance(message, ProcessGenerating)
    assert message.output.data == ["a\u2028b\u0085c"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ("[1, 2]", "JSON object"),
        ('{"event_id":"e"}', "message.msg"),
        ('{"msg":"estimation","event_id":"e","rank":"first"}', "estimation.rank"),
        ('{"msg":"estimation","event_id":"e","rank":true}', "estimation.rank"),
        ('{"msg":"process_starts","eta":1}', "process_starts.event_id"),
        ('{"msg":"process_generating","event_id":"e","output":{"data":"x"}}', "process_generating.output.data"),
        ('{"msg":"process_generating","event_id":"e","output":null}', "process_generating.output"),
        ('{"msg":"progress","event_id":"e","progress_data":[3]}', r"progress.progress_data\[0\]"),
        ('{"msg":"log","event_id":"e","log":5}', "log.log"),
        ('{"msg":"unexpected_error","message":{}}', "unexpected_error.message"),
        ("{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
    ],
)
def test_errors_name_the_field(raw: str | bytes, field: str) -> None:
    with pytest.raises(RemoteProtocolError, match=field):
        parse_message(raw)


@given(json_values)
def test_total_over_arbitrary_json(value: object) -> None:
    """Any JSON value parses to a message or raises RemoteProtocolError, nothing else."""
    with contextlib.suppress(RemoteProtocolError):
        parse_message(json.dumps(value))


_TAGS = st.sampled_from(
    [
        "estimation",
        "process_starts",
        "progress",
        "log",
        "process_generating",
        "process_streaming",
        "process_completed",
        "heartbeat",
        "close_stream",
        "unexpected_error",
    ]
)
_FIELDS = st.sampled_from(
    [
        "event_id",
        "rank",
        "queue_size",
        "rank_eta",
        "eta",
        "progress_data",
        "log",
        "level",
        "duration",
        "visible",
        "title",
        "output",
        "success",
        "time_limit",
        "message",
        "session_not_found",
    ]
)


@given(
    _TAGS, st.dictionaries(_FIELDS, json_values | st.fixed_dictionaries({"data": json_values, "error": json_values}))
)
def test_total_over_message_shaped_json(tag: str, fields: dict[str, object]) -> None:
    """Objects with a known tag and arbitrary field values parse or raise RemoteProtocolError."""
    with contextlib.suppress(RemoteProtocolError):
        parse_message(json.dumps({"msg": tag, **fields}))


@given(st.binary(max_size=200))
def test_total_over_arbitrary_bytes(raw: bytes) -> None:
    """Arbitrary bytes parse or raise RemoteProtocolError."""
    with contextlib.suppress(RemoteProtocolError):
        parse_message(raw)


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


_TRUNCATED_TAG = re.compile(r'^\{"msg":"([a-z_]+)","event_id":')


@pytest.mark.parametrize("capture", capture_blocks(), ids=lambda b: b.name[:40])
def test_every_capture_decodes_and_parses(capture: CaptureBlock) -> None:
    decoder = SSEDecoder()
    events = decoder.feed(capture.sse_body) + decoder.close()
    assert len(events) == len(capture.data_lines) > 0
    for event in events:
        if event.data == "ALIVE":
            # The session heartbeat route (/heartbeat/S) sends this non-JSON payload;
            # it never appears on queue/data, which is what parse_message reads.
            assert capture.name.startswith("gradio_client")
            continue
        if capture.timed and not _is_json(event.data):
            # The timed transcripts cut long lines at a fixed display width (the
            # servers' own bodies are complete, as the untimed blocks show). What is
            # left still names the message kind, which must be one we model.
            match = _TRUNCATED_TAG.match(event.data)
            assert match is not None, event.data
            assert match.group(1) in set(MessageTag)
            continue
        message = parse_message(event.data)
        assert not isinstance(message, UnknownMessage), event.data


_NUMERIC = ["rank", "queue_size", "rank_eta", "eta", "duration", "time_limit"]
#: Numbers no Space sends: integers far beyond a double's range (a 400-digit rank read
#: as a float would raise OverflowError), floats that overflow to infinity.
_ABSURD = st.one_of(
    st.integers(min_value=10**300, max_value=10**4000).map(str),
    st.integers(min_value=10**300, max_value=10**4000).map(lambda n: f"-{n}"),
    st.sampled_from(["1e400", "-1e400", "1" + "0" * 400, "1" + "0" * 400 + ".0", "NaN", "Infinity"]),
)


@given(_TAGS, st.sampled_from(_NUMERIC), _ABSURD)
def test_total_over_absurd_numbers(tag: str, field: str, number: str) -> None:
    """An absurd number anywhere a number goes parses or raises RemoteProtocolError."""
    documents = [
        f'{{"msg":"{tag}","event_id":"e","{field}":{number}}}',
        f'{{"msg":"{tag}","event_id":"e","success":true,"output":{{"data":[{number}],"{field}":{number}}}}}',
        f'{{"msg":"progress","event_id":"e","progress_data":[{{"index":{number},"length":{number},'
        f'"progress":{number}}}]}}',
    ]
    for document in documents:
        with contextlib.suppress(RemoteProtocolError):
            parse_message(document)


def test_a_400_digit_queue_rank_is_a_protocol_error() -> None:
    with pytest.raises(RemoteProtocolError, match=r"estimation\.rank: expected an integer"):
        parse_message('{"msg":"estimation","event_id":"e","rank":1' + "0" * 400 + "}")
