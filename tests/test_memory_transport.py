"""Testing code that uses qwen-space without a network, the way a user would: a
``MemoryTransport`` answers with a Space's saved ``/config``, a join and the event
stream's bytes; the real client does the rest.

(This says nothing about real Gradio releases: tests/live runs real servers for that.)
"""

import json
from pathlib import Path

import pytest
from qwen_space.client import SpaceClient, SyncSpaceClient, UsageError
from qwen_space.client.errors import StreamInterruptedError
from qwen_space.client.testing import MemoryTransport

# A ChatInterface's /config, saved once with `curl https://OWNER-NAME.hf.space/config`.
CONFIG = json.loads((Path(__file__).parent / "data/configs/replicas/6.31.0/plain_messages.json").read_text())
EVENT = "e1"


def sse(message: dict[str, object]) -> bytes:
    return b"data: " + json.dumps(message).encode() + b"\n\n"


def generating(data: list[object]) -> bytes:
    return sse({"msg": "process_generating", "event_id": EVENT, "output": {"data": data}, "success": True})


# The reply "Hello!" as Gradio 6 streams it: the first value, then diffs, then the whole.
HELLO = [
    sse({"msg": "process_starts", "event_id": EVENT}),
    generating(["Hel", None]),
    generating([[["append", [], "lo!"]], []]),
    sse({"msg": "process_completed", "event_id": EVENT, "output": {"data": ["Hello!", None]}, "success": True}),
    sse({"msg": "close_stream", "event_id": None}),
]


# --- the code under test: a user's own function ------------------------------------


async def shout(client: SpaceClient, prompt: str) -> str:
    return "".join([piece async for piece in client.chat(prompt)]).upper()


# --- its tests --------------------------------------------------------------------


async def test_my_function_streams_the_reply() -> None:
    transport = MemoryTransport(config=CONFIG, join={"event_id": EVENT}, stream=HELLO)
    async with SpaceClient("https://example.test", transport=transport) as client:
        assert await shout(client, "hi") == "HELLO!"
    join = next(r for r in transport.requests if r.url.path.endswith("/queue/join"))
    assert join.body is not None
    assert json.loads(join.body)["data"][0] == "hi"
    assert not join.token_sent  # no token given, and not a Hugging Face host
    assert transport.closed  # the client closed its transport


async def test_a_connection_broken_mid_reply_is_an_error_with_the_text_so_far() -> None:
    broken = StreamInterruptedError("the connection broke")
    transport = MemoryTransport(config=CONFIG, join={"event_id": EVENT}, stream=[*HELLO[:2], broken])
    async with SpaceClient("https://example.test", transport=transport) as client:
        with pytest.raises(StreamInterruptedError) as caught:
            await shout(client, "hi")
    assert caught.value.partial_text == "Hel"
    # The job may still run on the Space: the client cancelled it.
    assert any(r.url.path.endswith("/cancel") for r in transport.requests)


def test_the_blocking_client_takes_a_transport_too() -> None:
    transport = MemoryTransport(config=CONFIG, join={"event_id": EVENT}, stream=b"".join(HELLO))
    with SyncSpaceClient("https://example.test", transport=transport, hf_token="hf_mine") as client:
        assert client.complete("hi").text == "Hello!"
    assert all(r.token_sent for r in transport.requests)  # a given token goes wherever the client goes


def test_options_of_the_aiohttp_transport_are_refused_beside_a_transport() -> None:
    transport = MemoryTransport(config=CONFIG, join={"event_id": EVENT}, stream=HELLO)
    with pytest.raises(UsageError, match="proxy"):
        SpaceClient("https://example.test", transport=transport, proxy="http://proxy.test")


def test_a_space_id_is_refused_beside_a_transport() -> None:
    # An id is looked up on the Hub, which the transport does not serve: a test would reach the network.
    transport = MemoryTransport(config=CONFIG, join={"event_id": EVENT}, stream=HELLO)
    with pytest.raises(UsageError, match="URL"):
        SpaceClient("Qwen/Qwen2.5-Max-Demo", transport=transport)


@pytest.mark.parametrize("stream", ["data: x\n\n", [b"data: x\n\n", ValueError("boom")], [5], None])
def test_a_script_that_is_no_reads_is_refused_when_made(stream: object) -> None:
    with pytest.raises(UsageError, match="stream="):
        MemoryTransport(config=b"{}", join={"event_id": "e1"}, stream=stream)  # type: ignore[arg-type]
