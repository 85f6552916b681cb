"""Every chat, text and error block of the shared captures through ``read_chat_stream``.

The captures come from a test app whose /config was not kept, so each case declares
the output components of the captured function: that is all ``read_chat_stream``
needs to find the reply. Timed blocks are left out: their transcript cut long lines
(``test_messages`` still checks every line's message kind).
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from qwen_space.protocol import (
    LogMessage,
    ProgressUpdate,
    QwenSpaceError,
    TextDelta,
    chat_stream,
    derive_contract,
    parse_config,
    read_chat_stream,
)
from qwen_space.protocol._job import ChatJobState
from qwen_space.protocol.errors import AppError, ChatRequestError, ContractMismatchError, StreamError

from .captures import CaptureBlock, block, capture_blocks


def capture_config(version: str, outputs: list[tuple[str, dict[str, Any]]], *, private: bool = False) -> dict[str, Any]:
    """A config whose chat event returns ``outputs``: a Chatbot reply is a Blocks chat's
    (a textbox and that Chatbot in), anything else a ChatInterface API's (a textbox and
    a State in, the State out after the reply). The client reads only chats, so this is
    the shape the captured values would have reached it in."""
    kind = outputs[0][0]
    if kind not in ("chatbot", "file") and [k for k, _ in outputs[1:2]] != ["state"]:
        outputs = [outputs[0], ("state", {}), *outputs[1:]]
    components = [{"id": i + 1, "type": k, "props": props} for i, (k, props) in enumerate(outputs)]
    message = len(outputs) + 1
    components.append({"id": message, "type": "textbox", "props": {}})
    # The Chatbot (or the State) is also an input; a file output makes no chat.
    inputs = [message] if kind == "file" else [message, 1 if kind == "chatbot" else 2]
    return {
        "version": version,
        "protocol": "sse_v3",
        "api_prefix": None if version.startswith("4") else "/gradio_api",
        "components": components,
        "dependencies": [
            {
                "id": 0,
                "api_name": False if private else "fn",
                "targets": [[None, "then"]],
                "inputs": inputs,
                "outputs": list(range(1, message)),
            }
        ],
    }


Outputs = list[tuple[str, dict[str, Any]]]
TEXT: Outputs = [("textbox", {})]
STATEFUL: Outputs = [("textbox", {}), ("state", {})]
TUPLES: Outputs = [("chatbot", {"type": "tuples"})]
MESSAGES: Outputs = [("chatbot", {"type": "messages"})]
NORMALISED: Outputs = [("chatbot", {})]  # 6.x chatbots have no type prop
CHAT_INTERFACE: Outputs = [("json", {}), ("state", {})]


@dataclass
class Case:
    name: str
    version: str
    outputs: list[tuple[str, dict[str, Any]]]
    text: str
    state: ChatJobState = ChatJobState.COMPLETED
    deltas: list[str] | None = None
    error: type[QwenSpaceError] | None = None
    space_message: str | None = None
    title: str | None = None
    logs: int = 0


FAILED = ChatJobState.FAILED
TOKENS = ["tok0 ", "tok1 ", "tok2 ", "tok3 "]
HELLO = ["Hello", " there", "!"]

CASES = [
    Case("v6_echo", "6.31.0", TEXT, "hello", deltas=["hello"]),
    Case("v5_echo", "5.50.0", TEXT, "hello"),
    Case("v4_echo", "4.44.1", TEXT, "hello"),
    Case("v6_stream", "6.31.0", TEXT, "tok0 tok1 tok2 tok3 ", deltas=TOKENS),
    Case("v5_stream", "5.50.0", TEXT, "tok0 tok1 tok2 tok3 ", deltas=TOKENS),
    Case("v4_stream", "4.44.1", TEXT, "tok0 tok1 tok2 tok3 ", deltas=TOKENS),
    Case("v6_chat_messages", "6.31.0", NORMALISED, "Hello there!", deltas=HELLO),
    Case("v5_chat_messages", "5.50.0", MESSAGES, "Hello there!", deltas=HELLO),
    Case("v4_chat_messages", "4.44.1", MESSAGES, "Hello there!", deltas=HELLO),
    Case("v5_chat_tuples", "5.50.0", TUPLES, "Hello there!", deltas=HELLO),
    Case("v4_chat_tuples", "4.44.1", TUPLES, "Hello there!", deltas=HELLO),
    Case("v6_chat_hist_norm", "6.31.0", NORMALISED, "Hello there!", deltas=HELLO),
    Case("v6_chat_hist_str", "6.31.0", NORMALISED, "", FAILED, error=AppError, title="Error"),
    Case(
        "v6e_chat_hist_str",
        "6.31.0",
        NORMALISED,
        "",
        FAILED,
        error=AppError,
        space_message="2 validation errors",
        title="Error",
    ),
    Case("v6_grerr", "6.31.0", TEXT, "", FAILED, error=AppError, space_message="Bad input: x", title="Custom title"),
    Case("v5_grerr", "5.50.0", TEXT, "", FAILED, error=AppError, space_message="Bad input: x", title="Custom title"),
    Case("v4_grerr", "4.44.1", TEXT, "", FAILED, error=AppError, space_message="Bad input: x"),
    Case("v6_exc", "6.31.0", TEXT, "", FAILED, error=AppError, title="Error"),
    Case("v6e_exc", "6.31.0", TEXT, "", FAILED, error=AppError, space_message="boom x", title="Error"),
    Case("v5_exc", "5.50.0", TEXT, "", FAILED, error=AppError, title="Error"),
    Case("v4_exc", "4.44.1", TEXT, "", FAILED, error=AppError),
    Case(
        "v6_midstream",
        "6.31.0",
        TEXT,
        "partial",
        FAILED,
        error=AppError,
        space_message="mid-stream failure",
        title="Error",
    ),
    Case(
        "v5_midstream",
        "5.50.0",
        TEXT,
        "partial",
        FAILED,
        error=AppError,
        space_message="mid-stream failure",
        title="Error",
    ),
    Case("v4_midstream", "4.44.1", TEXT, "partial", FAILED, error=AppError, space_message="mid-stream failure"),
    Case("v6_logs", "6.31.0", TEXT, "done x", logs=2),
    Case("v5_logs", "5.50.0", TEXT, "done x", logs=2),
    Case("v4_logs", "4.44.1", TEXT, "done x", logs=2),
    Case("st_7866_1", "6.31.0", STATEFUL, "x #1"),
    Case("st_7866_2", "6.31.0", STATEFUL, "x #2"),
    Case(
        "mism",
        "6.31.0",
        STATEFUL,
        "",
        FAILED,
        error=AppError,
        space_message="An event handler (counter)",
        title="Error",
    ),
    Case("mism2", "6.31.0", TEXT, "x"),
    Case("ci6_1", "6.31.0", CHAT_INTERFACE, "Echo: hello (0 prior)"),
    Case("ci6_2", "6.31.0", CHAT_INTERFACE, "Echo: hello (2 prior)"),
    Case("ci5_1", "5.50.0", CHAT_INTERFACE, "Echo: hello (0 prior)"),
    Case("x7870_valok", "6.31.0", TEXT, "ok abcd"),
    Case("x7870_noq", "6.31.0", TEXT, "noqueue z"),
    Case("x7871_noq", "5.50.0", TEXT, "noqueue z"),
    Case("v6_shrink", "6.31.0", [("json", {})], ""),
]
DEMO_CLOSE = next(b.name for b in capture_blocks() if b.name.startswith("4.44.1 demo.close()"))


def event_id_of(capture: CaptureBlock) -> str:
    match = re.search(r'"event_id":"([0-9a-f]{32})"', capture.text)
    assert match is not None
    return match.group(1)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_capture(case: Case) -> None:
    capture = block(case.name)
    result = read_chat_stream(
        capture_config(case.version, case.outputs), capture.sse_body, event_id=event_id_of(capture), api_name="/fn"
    )
    assert result.text == case.text
    assert result.state is case.state
    assert not result.corrections
    assert "".join(result.deltas) == result.text
    if case.deltas is not None:
        assert result.deltas == case.deltas
    assert len([e for e in result.events if isinstance(e, LogMessage)]) == case.logs
    if case.logs:
        assert len([e for e in result.events if isinstance(e, ProgressUpdate)]) == 3
    if case.error is None:
        assert result.error is None
        return
    assert type(result.error) is case.error
    assert result.error.partial_text == case.text
    assert isinstance(result.error, AppError)
    if case.space_message is None:
        assert result.error.space_message is None
        assert "hides its message" in str(result.error)
    else:
        assert result.error.space_message is not None
        assert result.error.space_message.startswith(case.space_message)
    assert result.error.title == case.title


def test_server_stopped_loop_of_gradio_4() -> None:
    capture = block(DEMO_CLOSE)
    result = read_chat_stream(
        capture_config("4.44.1", TEXT), capture.sse_body, event_id=event_id_of(capture), api_name="/fn"
    )
    assert type(result.error) is StreamError
    assert result.error.retryable
    assert result.text == result.error.partial_text == "tok0 "
    assert result.deltas == ["tok0 "]


def test_private_endpoint_is_not_read() -> None:
    capture = block("x7870_priv")
    with pytest.raises(ChatRequestError, match="no endpoint /fn"):
        read_chat_stream(
            capture_config("6.31.0", TEXT, private=True),
            capture.sse_body,
            event_id=event_id_of(capture),
            api_name="/fn",
        )


@pytest.mark.parametrize("name", ["f6", "f6b", "f4"])
def test_file_outputs_have_no_reply(name: str) -> None:
    capture = block(name)
    with pytest.raises(ContractMismatchError, match="is not a chat event"):
        read_chat_stream(
            capture_config("6.31.0", [("file", {})]), capture.sse_body, event_id=event_id_of(capture), api_name="/fn"
        )


def test_truncated_body_is_an_interrupted_stream() -> None:
    capture = block("v5_chat_tuples")
    body = capture.sse_body
    cut = body.index(b'"process_completed"')
    result = read_chat_stream(
        capture_config("5.50.0", TUPLES), body[:cut], event_id=event_id_of(capture), api_name="/fn"
    )
    assert result.state is FAILED
    assert result.text == "Hello there!"
    assert type(result.error).__name__ == "StreamInterruptedError"


def test_messages_after_the_end_are_not_read_as_the_client_does() -> None:
    """A recorded body and a live stream give the same answer: the client stops at the
    job's end, so a duplicate completion after it is never seen."""
    capture = block("v5_echo")
    completion = next(line for line in capture.data_lines if "process_completed" in line)
    body = capture.sse_body + f"{completion}\n\n".encode()
    config = capture_config("5.50.0", TEXT)
    result = read_chat_stream(config, body, event_id=event_id_of(capture), api_name="/fn")
    assert result.error is None
    assert result.state is ChatJobState.COMPLETED
    assert result.text == "hello"
    space = parse_config(config)
    live = chat_stream(space, derive_contract(space, "/fn"), event_id_of(capture))
    events = [event for i in range(len(body)) for event in live.feed(body[i : i + 1])] + live.end()
    assert events == result.events


def test_other_events_of_the_session_are_ignored() -> None:
    echo = block("v5_echo")
    stream = block("v5_stream")
    body = stream.sse_body.replace(b'data: {"msg":"close_stream","event_id":null}\n\n', b"") + echo.sse_body
    result = read_chat_stream(capture_config("5.50.0", TEXT), body, event_id=event_id_of(echo), api_name="/fn")
    assert result.text == "hello"
    assert [e for e in result.events if isinstance(e, TextDelta)] == [TextDelta("hello")]


def test_config_as_bytes_from_a_real_server() -> None:
    config = (Path(__file__).parent / "data" / "configs" / "gradio-5.50.0.json").read_bytes()
    body = (
        b'data: {"msg":"process_generating","event_id":"e","output":{"data":["",[["hi","Hel"]],"s"]},"success":true}\n\n'
        b'data: {"msg":"process_generating","event_id":"e","output":{"data":[[],[["append",[0,1],"lo"]],[]]},"success":true}\n\n'
        b'data: {"msg":"process_completed","event_id":"e","output":{"data":["",[["hi","Hello"]],"s"]},"success":true}\n\n'
        b'data: {"msg":"close_stream","event_id":null}\n\n'
    )
    result = read_chat_stream(config, body, event_id="e", api_name="/model_chat")
    assert (result.text, result.deltas, result.error) == ("Hello", ["Hel", "lo"], None)
