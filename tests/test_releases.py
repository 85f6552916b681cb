"""Captures from real Gradio releases (tests/data/releases, written by
tests/replica/capture.py): each release's /config resolves the chat endpoint with the
right chatbot format, and its recorded stream streams, whatever its protocol."""

import json
from pathlib import Path

import pytest
from qwen_space.client import QWEN_CONTRACT
from qwen_space.protocol import (
    Completed,
    TextDelta,
    chat_stream,
    check_contract,
    derive_contract,
    parse_config,
    read_chat_stream,
)
from qwen_space.protocol._chatbot import ChatbotFormat
from qwen_space.protocol._contract import DriftKind
from qwen_space.protocol._release import SUPPORTED_PROTOCOLS, Release

RELEASES = Path(__file__).parent / "data" / "releases"
VERSIONS = sorted(path.name.removeprefix("gradio-") for path in RELEASES.iterdir())
ANSWER = "tok0 tok1 tok2 tok3 tok4 "


def test_every_supported_protocol_has_a_captured_release() -> None:
    protocols = {json.loads((RELEASES / f"gradio-{v}" / "config.json").read_bytes())["protocol"] for v in VERSIONS}
    assert protocols == set(SUPPORTED_PROTOCOLS)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_chat_endpoint_and_its_chatbot_format(version: str) -> None:
    config = parse_config((RELEASES / f"gradio-{version}" / "config.json").read_bytes())
    contract = derive_contract(config, "/model_chat")
    assert config.version == version
    assert (contract.fn_index, contract.trigger_id) == (0, 11)
    # Before 4.38 a chatbot has no type prop and only does tuples; 5.x says tuples; 6.x normalises.
    expected = ChatbotFormat.NORMALISED if config.release.gradio_major >= 6 else ChatbotFormat.TUPLES
    assert contract.reply_format is expected
    drifts = check_contract(config, QWEN_CONTRACT)
    assert not any(drift.breaking for drift in drifts)
    # `info` and `contract check` report the format the Space really has.
    assert (DriftKind.CHATBOT_FORMAT in {d.kind for d in drifts}) == (config.release.gradio_major >= 6)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_recorded_stream_streams(version: str) -> None:
    directory = RELEASES / f"gradio-{version}"
    config = parse_config((directory / "config.json").read_bytes())
    body = (directory / "stream.sse").read_bytes()
    event_id = json.loads(body.split(b"\n", 1)[0].removeprefix(b"data: "))["event_id"]
    stream = chat_stream(config, derive_contract(config, "/model_chat"), event_id)
    deltas: list[str] = []
    completed: list[Completed] = []
    # One message per read, as the server flushed them 50 ms apart.
    for message in body.split(b"\n\n"):
        for event in stream.feed(message + b"\n\n"):
            if isinstance(event, TextDelta):
                assert not completed, "no text after the completion"
                deltas.append(event.text)
            elif isinstance(event, Completed):
                completed.append(event)
            else:
                assert type(event).__name__ in ("QueuePosition", "Started"), event
    assert [c.text for c in completed] == [ANSWER]
    assert deltas == [f"tok{i} " for i in range(5)], "one delta per yield, as it was generated"


@pytest.mark.parametrize("version", VERSIONS)
def test_a_recorded_body_reads_as_the_client_reads_it(version: str) -> None:
    """read_chat_stream and the client's stream come from one constructor: on every
    release (sse_v1's whole values too) the body gives the five deltas it streamed."""
    directory = RELEASES / f"gradio-{version}"
    body = (directory / "stream.sse").read_bytes()
    event_id = json.loads(body.split(b"\n", 1)[0].removeprefix(b"data: "))["event_id"]
    result = read_chat_stream((directory / "config.json").read_bytes(), body, event_id=event_id, api_name="/model_chat")
    assert (result.text, result.error) == (ANSWER, None)
    assert result.deltas == [f"tok{i} " for i in range(5)]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_release_profile_says_what_the_capture_shows(version: str) -> None:
    """One Release per /config answers every version question, checked against what each
    real server sent: whole values only on sse_v1, close_stream only where it was sent."""
    directory = RELEASES / f"gradio-{version}"
    raw = json.loads((directory / "config.json").read_bytes())
    release = parse_config(raw).release
    body = (directory / "stream.sse").read_bytes()
    assert (release.protocol, release.gradio_major) == (raw["protocol"], int(version.split(".")[0]))
    assert release.sends_diffs == (b'["append"' in body)
    assert release.closes_stream == (b'"close_stream"' in body)
    prefix = (raw.get("api_prefix") or "").rstrip("/")
    assert release.route("join") == f"{prefix}/queue/join"
    assert release.route("file") == f"{prefix}/file="
    assert (release.route("config"), release.route("login")) == ("/config", "/login")


def test_the_history_message_rule_of_each_release() -> None:
    def release(version: str) -> Release:
        raw = json.loads((RELEASES / f"gradio-{version}" / "config.json").read_bytes())
        return parse_config(raw).release

    assert release("4.29.0").message("user", "hi", ChatbotFormat.MESSAGES) == {"role": "user", "content": "hi"}
    assert release("5.23.3").message("user", "hi", ChatbotFormat.MESSAGES) == {
        "role": "user",
        "metadata": None,
        "content": "hi",
        "options": None,
    }
    assert release("6.0.2").message("user", "hi", ChatbotFormat.NORMALISED) == {
        "role": "user",
        "metadata": None,
        "content": [{"type": "text", "text": "hi"}],
        "options": None,
    }
