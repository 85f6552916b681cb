"""SyncSpaceClient against a loopback fake Space that runs on a thread of its own
(the client under test blocks the caller's thread, as a script's would)."""

import asyncio
import signal
import sys
import threading
import time
from concurrent.futures import Future

import pytest
from qwen_space.client import ChatCompletion, SyncSpaceClient, Timeouts
from qwen_space.client.errors import ClientClosedError, InvalidMessagesError
from qwen_space.protocol import Completed, TextDelta
from qwen_space.protocol.errors import AppError

from .fake_space import CLOSE_STREAM, EVENT_ID, HIDDEN_FAILURE, FakeSpace, chat_body, script, under_way
from .support import HELLO, PATIENCE, PIECES


@pytest.fixture
def space(threaded_space: FakeSpace) -> FakeSpace:
    return threaded_space


def cancelled(space: FakeSpace) -> bool:
    space.cancel_seen.wait(PATIENCE)
    return space.cancels == [
        {"session_hash": space.join_bodies[0]["session_hash"], "fn_index": 0, "event_id": EVENT_ID}
    ]


def test_chat_complete_and_events(space: FakeSpace) -> None:
    space.stream = script(*chat_body("hi", PIECES))
    with SyncSpaceClient(space.url) as client:
        deltas = list(client.chat(HELLO))
        completion = client.complete(HELLO)
        events = list(client.events(HELLO))
    assert "".join(deltas) == "Hello there!"
    assert isinstance(completion, ChatCompletion)
    assert completion.text == "Hello there!"
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello there!"
    assert isinstance(events[-1], Completed)


def test_the_same_typed_errors_with_partial_text(space: FakeSpace) -> None:
    space.stream = script(*chat_body("hi", PIECES)[:4], HIDDEN_FAILURE, CLOSE_STREAM)
    with SyncSpaceClient(space.url) as client:
        with pytest.raises(AppError, match="hides its message") as caught:
            list(client.chat(HELLO))
        with pytest.raises(InvalidMessagesError):
            list(client.chat([]))
        with pytest.raises(AppError):
            client.complete(HELLO)
    assert caught.value.partial_text == "Hello"


def test_break_cancels_the_job(space: FakeSpace) -> None:
    space.stream = script(*under_way("hi", PIECES[:2]), end=False)
    with SyncSpaceClient(space.url) as client:
        for delta in client.chat(HELLO):
            assert delta
            break
        # Still open: the break itself cancelled the job.
        assert cancelled(space)


def test_closing_the_client_cancels_running_chats(space: FakeSpace) -> None:
    space.stream = script(*under_way("hi", PIECES[:2]), end=False)
    client = SyncSpaceClient(space.url)
    stream = client.chat(HELLO)
    next(stream)
    client.close()
    assert cancelled(space)
    with pytest.raises(ClientClosedError, match="closed"):
        client.complete(HELLO)
    stream.close()


def interrupt_the_wait(thread: int) -> None:
    """SIGINT to ``thread`` once it waits for the client's answer (``Future.result``):
    not earlier, whatever the machine's load."""
    deadline = time.monotonic() + PATIENCE
    while time.monotonic() < deadline:
        frame = sys._current_frames().get(thread)
        while frame is not None:
            if frame.f_code is Future.result.__code__:
                signal.pthread_kill(thread, signal.SIGINT)
                return
            frame = frame.f_back
        time.sleep(0.01)


def test_ctrl_c_while_waiting_cancels_the_job(space: FakeSpace) -> None:
    space.stream = script(*under_way("hi", PIECES[:2]), end=False)
    # Set explicitly: the test must not depend on how it was launched (CI may ignore SIGINT).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    main = threading.main_thread().ident
    assert main is not None
    try:
        with SyncSpaceClient(space.url, timeouts=Timeouts(idle=30)) as client:
            stream = client.chat(HELLO)
            next(stream)
            # The next delta never comes: Ctrl-C lands while the client waits for it.
            threading.Thread(target=interrupt_the_wait, args=(main,), daemon=True).start()
            with pytest.raises(KeyboardInterrupt):
                next(stream)
            assert cancelled(space)
    finally:
        signal.signal(signal.SIGINT, previous)


async def test_works_where_an_event_loop_is_already_running(space: FakeSpace) -> None:
    # As in a Jupyter cell: the caller's thread runs a loop, which the client never touches.
    space.stream = script(*chat_body("hi", PIECES))
    asyncio.get_running_loop()
    with SyncSpaceClient(space.url) as client:
        assert "".join(client.chat(HELLO)) == "Hello there!"
