"""Captures from real Gradio releases (tests/data/releases, written by
tests/replica/capture.py): each release's /config resolves the chat endpoint with the
right chatbot format, and its recorded stream streams, whatever its protocol."""

import json
from pathlib import Path

import pytest
from qwen_space.client import QWEN_CONTRACT
from qwen_space.protocol import (
    SUPPORTED_PROTOCOLS,
    ChatbotFormat,
    ChatJob,
    ChatStream,
    Completed,
    DriftKind,
    TextDelta,
    check_contract,
    parse_config,
)

RELEASES = Path(__file__).parent / "data" / "releases"
VERSIONS = sorted(path.name.removeprefix("gradio-") for path in RELEASES.iterdir())
ANSWER = "tok0 tok1 tok2 tok3 tok4 "


def test_every_supported_protocol_has_a_captured_release() -> None:
    protocols = {json.loads((RELEASES / f"gradio-{v}" / "config.json").read_bytes())["protocol"] for v in VERSIONS}
    assert protocols == set(SUPPORTED_PROTOCOLS)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_chat_endpoint_and_its_chatbot_format(version: str) -> None:
    config = parse_config((RELEASES / f"gradio-{version}" / "config.json").read_bytes())
    endpoint = config.endpoint("/model_chat")
    assert config.version == version
    assert (endpoint.fn_index, endpoint.trigger_id) == (0, 11)
    # Before 4.38 a chatbot has no type prop and only does tuples; 5.x says tuples; 6.x normalises.
    expected = ChatbotFormat.NORMALISED if config.gradio_major >= 6 else ChatbotFormat.TUPLES
    assert endpoint.reply_format is expected
    drifts = check_contract(config, QWEN_CONTRACT)
    assert not any(drift.breaking for drift in drifts)
    # `info` and `contract check` report the format the Space really has.
    assert (DriftKind.CHATBOT_FORMAT in {d.kind for d in drifts}) == (config.gradio_major >= 6)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_recorded_stream_streams(version: str) -> None:
    directory = RELEASES / f"gradio-{version}"
    config = parse_config((directory / "config.json").read_bytes())
    endpoint = config.endpoint("/model_chat")
    assert endpoint.reply_slot is not None
    assert endpoint.reply_format is not None
    body = (directory / "stream.sse").read_bytes()
    event_id = json.loads(body.split(b"\n", 1)[0].removeprefix(b"data: "))["event_id"]
    job = ChatJob(
        event_id=event_id,
        reply_slot=endpoint.reply_slot,
        reply_format=endpoint.reply_format,
        full_values=not config.sends_diffs,
    )
    stream = ChatStream(job)
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
