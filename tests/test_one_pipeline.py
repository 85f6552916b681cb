"""One pipeline: a recorded body and a live stream cannot disagree.

Every bundled cassette is replayed twice: through ``SpaceClient`` (vcrpy serving the
recording, the network blocked) and through ``read_chat_stream`` over the recorded
``queue/data`` body. Both build their stream with ``chat_stream``/``chat_job`` from the
recorded ``/config`` and the derived contract, so what a reader sees must be the same:
the text, the thoughts, the files and how the chat ended. (The client holds each read
back and vcrpy replays a body as one read, so deltas may be grouped differently: the
comparison is of what the events add up to, in order.) The captures of other releases
in tests/data are compared the same way in tests/test_releases.py.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest
from qwen_space.client import SpaceClient
from qwen_space.client.recording import load_manifest, recorded_chat, use_cassette
from qwen_space.client.recording.storage import load_interactions
from qwen_space.protocol import (
    Completed,
    Correction,
    Failed,
    FileReply,
    QwenSpaceError,
    ReasoningDelta,
    TextDelta,
    derive_contract,
    parse_config,
    read_chat_stream,
)

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
EVERY = sorted(CASSETTES / name for name in load_manifest(CASSETTES))


@dataclass(frozen=True)
class Seen:
    """What a reader of a chat's events ends up with."""

    text: str
    reasoning: str
    files: tuple[str, ...]
    ended: str


def seen(events: Sequence[object]) -> Seen:
    text, reasoning, files, ended = "", "", [], "no end"
    for event in events:
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, Correction):
            text = text[: len(text) - event.retract] + event.text
        elif isinstance(event, ReasoningDelta):
            reasoning += event.text
        elif isinstance(event, FileReply):
            files.append(event.file.url)
        elif isinstance(event, Completed):
            ended = f"completed: {event.text}"
        elif isinstance(event, Failed):
            ended = f"failed: {type(event.error).__name__}: {event.error.partial_text}"
    return Seen(text, reasoning, tuple(files), ended)


def test_every_bundled_cassette_is_compared() -> None:
    assert len(EVERY) == 21 + 28 + 50


@pytest.mark.parametrize("path", EVERY, ids=lambda p: p.relative_to(CASSETTES).as_posix())
async def test_the_client_and_read_chat_stream_see_the_same_chat(path: Path, no_network: None) -> None:
    interactions = load_interactions(path)
    config = parse_config(next(i for i in interactions if i.route.endswith("/config")).response_body.encode())
    joins = [i for i in interactions if i.route.endswith("/queue/join")]
    # A chain's reply is the last queued step's stream (earlier steps only set it up).
    event_id = json.loads(joins[-1].response_body)["event_id"]
    fn_index = json.loads(joins[-1].request_body or "{}")["fn_index"]
    body = [i for i in interactions if i.route.endswith("/queue/data")][-1].response_body.encode()
    recorded = read_chat_stream(config, body, event_id=event_id, api_name=fn_index)

    chat = recorded_chat(path)
    with use_cassette(path):
        async with SpaceClient("http://replay.invalid", endpoint=chat.endpoint) as space:
            try:
                events = [e async for e in space.events(chat.messages, options=chat.options)]
            except QwenSpaceError as error:  # a refused join: the recording holds no stream of it
                events = [Failed(error)]
    client, pure = seen(events), seen(recorded.events)
    if derive_contract(config, chat.endpoint).steps:
        # A chain's client reply also counts what earlier steps showed (none of the
        # bundled chains shows reply text before its last queued step).
        assert client.text == pure.text
        assert client.ended.split(":", 1)[0] == pure.ended.split(":", 1)[0]
        return
    assert client == pure
