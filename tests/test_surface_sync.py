"""SyncSpaceClient's surface: SpaceClient's options (tests/test_sync_parity.py), checked before its thread starts;
allow_empty; ClientClosedError once closed. The chats run against a loopback fake
Space served on a thread of its own (the client under test blocks the caller's thread)."""

import inspect
import threading

import pytest
from qwen_space.client import SpaceClient, SyncSpaceClient, UsageError
from qwen_space.client.errors import ClientClosedError, EmptyReplyError

from .fake_space import CLOSE_STREAM, EVENT_ID, FakeSpace, completed, script, sse, tuples_chat
from .support import HELLO


def loop_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "qwen-space-loop"]


@pytest.mark.parametrize("method", ["chat", "events", "complete"])
def test_the_methods_take_the_async_clients_arguments(method: str) -> None:
    sync = inspect.signature(getattr(SyncSpaceClient, method)).parameters
    not_sync = inspect.signature(getattr(SpaceClient, method)).parameters
    assert [(p.name, p.kind, p.default) for p in sync.values()] == [
        (p.name, p.kind, p.default) for p in not_sync.values()
    ]


@pytest.mark.parametrize("url", ["ftp://example.com", "acme/..", "http://[::1"])
def test_a_bad_argument_raises_before_a_thread_starts(url: str) -> None:
    before = loop_threads()
    with pytest.raises(UsageError):
        SyncSpaceClient(url)
    assert loop_threads() == before


def test_an_unknown_argument_raises_before_a_thread_starts() -> None:
    before = loop_threads()
    with pytest.raises(TypeError):
        SyncSpaceClient("http://127.0.0.1:9", nope=None)  # type: ignore[call-arg]
    # Not an option of the sync client (a type error, as the unused ignore would show):
    # refused here too, saying why.
    with pytest.raises(TypeError, match=r"takes no session=: an aiohttp\.ClientSession belongs to the loop"):
        SyncSpaceClient("http://127.0.0.1:9", session=None)  # type: ignore[call-arg]
    assert loop_threads() == before


def test_allow_empty_reaches_chat_and_complete(threaded_space: FakeSpace) -> None:
    started = sse({"msg": "process_starts", "event_id": EVENT_ID, "eta": None})
    threaded_space.stream = script(started, completed(tuples_chat("hi", "")), CLOSE_STREAM)
    with SyncSpaceClient(threaded_space.url) as client:
        assert client.complete(HELLO, allow_empty=True).text == ""
        assert list(client.chat(HELLO, allow_empty=True)) == []
        with pytest.raises(EmptyReplyError):
            client.complete(HELLO)


def test_a_closed_client_raises_client_closed_error(threaded_space: FakeSpace) -> None:
    client = SyncSpaceClient(threaded_space.url)
    client.close()
    with pytest.raises(ClientClosedError, match="closed"):
        client.complete(HELLO)
    with pytest.raises(ClientClosedError, match="closed"):
        list(client.chat(HELLO))
    with pytest.raises(ClientClosedError, match="closed"):
        list(client.events(HELLO))
    assert threaded_space.join_bodies == []
