"""Never a silent empty answer; bad input refused before any request; the chatbot
format of Gradio releases without a ``type`` prop."""

import json
import socket
from pathlib import Path
from typing import Any

import pytest
from qwen_space.client import SpaceClient
from qwen_space.client.errors import EmptyReplyError, InvalidMessagesError
from qwen_space.protocol import derive_contract, parse_config
from qwen_space.protocol._chatbot import ChatbotFormat

from .fake_space import CLOSE_STREAM, EVENT_ID, FakeSpace, completed, script, sse, tuples_chat
from .support import HELLO, provider_for

EMPTY_REPLY = (
    sse({"msg": "process_starts", "event_id": EVENT_ID}),
    completed(tuples_chat("hi", "")),
    CLOSE_STREAM,
)


async def test_an_empty_reply_is_an_error(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*EMPTY_REPLY)
    async with SpaceClient(fake_space.url) as space:
        with pytest.raises(EmptyReplyError, match="allow_empty=True"):
            [_ async for _ in space.chat(HELLO)]
        with pytest.raises(EmptyReplyError):
            await space.complete(HELLO)
        assert [_ async for _ in space.chat(HELLO, allow_empty=True)] == []
        assert (await space.complete(HELLO, allow_empty=True)).text == ""


async def test_the_seed_provider_raises_on_an_empty_reply(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*EMPTY_REPLY)
    with pytest.raises(EmptyReplyError):
        [_ async for _ in provider_for(fake_space).create_async_generator("", HELLO)]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("messages", "system"),
    [
        (HELLO, 123),
        (HELLO, "\ud800"),
        ([{"role": "user", "content": "lone \udc80 surrogate"}], None),
        ([{"role": "user", "content": "a"}, {"role": "assistant", "content": "\ud83d"}, *HELLO], None),
    ],
)
async def test_bad_input_is_refused_before_any_request(messages: list[dict[str, Any]], system: Any) -> None:
    # Nothing listens there: any request would fail with a connection error instead.
    async with SpaceClient(f"http://127.0.0.1:{closed_port()}") as space:
        with pytest.raises(InvalidMessagesError):
            await space.complete(messages, system=system)
        with pytest.raises(InvalidMessagesError):
            space.events(messages, system=system)


def test_a_chatbot_without_type_before_gradio_4_38_is_tuples() -> None:
    raw = json.loads((Path(__file__).parent / "data" / "releases" / "gradio-4.29.0" / "config.json").read_bytes())
    assert all("type" not in c["props"] for c in raw["components"] if c["type"] == "chatbot")
    assert derive_contract(parse_config(raw), "/model_chat").reply_format is ChatbotFormat.TUPLES
    raw["version"] = "4.44.1"
    chatbot = next(c for c in raw["components"] if c["type"] == "chatbot")
    chatbot["props"]["type"] = "messages"
    assert derive_contract(parse_config(raw), "/model_chat").reply_format is ChatbotFormat.MESSAGES
