"""SyncSpaceClient against the replica Space served by a real Gradio server."""

import asyncio
import os
import signal
import sys
import textwrap

import pytest
from qwen_space.client import SyncSpaceClient
from qwen_space.protocol import Completed
from qwen_space.protocol.errors import AppError

from .conftest import Replica


def answer(tokens: int) -> str:
    return "".join(f"tok{j} " for j in range(tokens))


def ask(prompt: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}]


def test_chat_complete_events(replica: Replica) -> None:
    with SyncSpaceClient(replica.url) as space:
        deltas = list(space.chat(ask("!tokens=10 !delay=0.05")))
        completion = space.complete(ask("!tokens=4"))
        events = list(space.events(ask("!tokens=2")))
    assert "".join(deltas) == answer(10)
    assert len(deltas) >= 5
    assert completion.text == answer(4)
    assert isinstance(events[-1], Completed)
    assert events[-1].text == answer(2)


def test_the_same_typed_errors(replica: Replica) -> None:
    received: list[str] = []
    with SyncSpaceClient(replica.url) as space, pytest.raises(AppError) as caught:
        for delta in space.chat(ask("!grerror !delay=0")):
            received.append(delta)
    assert caught.value.space_message == "DashScope said no"
    assert caught.value.partial_text == "".join(received) == answer(2)


def test_break_cancels_the_job(replica: Replica) -> None:
    with SyncSpaceClient(replica.url) as space:
        for _ in space.chat(ask("!tokens=200 !delay=0.05 !id=sync-break")):
            break
        assert replica.generation_stopped("sync-break", of=200)


async def test_inside_a_running_event_loop(replica: Replica) -> None:
    # A notebook cell: the caller's thread runs a loop; the client uses its own.
    asyncio.get_running_loop()
    with SyncSpaceClient(replica.url) as space:
        assert "".join(space.chat(ask("!tokens=3"))) == answer(3)


SCRIPT = textwrap.dedent(
    """
    import signal, sys
    from qwen_space.client import SyncSpaceClient

    signal.signal(signal.SIGINT, signal.default_int_handler)  # whatever the launcher ignored
    with SyncSpaceClient(sys.argv[1]) as space:
        try:
            for delta in space.chat([{"role": "user", "content": "!tokens=200 !delay=0.05 !id=sync-sigint"}]):
                print(delta, flush=True)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            sys.exit(130)
    """
)


async def test_ctrl_c_cancels_the_job(replica: Replica) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SCRIPT,
        replica.url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NO_PROXY": "*"},
    )
    assert process.stdout is not None
    # The first line printed is the first read's text: under load one read may carry
    # more than one token, so only its start is known.
    assert (await asyncio.wait_for(process.stdout.readline(), 30)).startswith(b"tok0 ")
    process.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 130, err.decode()
    assert await asyncio.to_thread(replica.generation_stopped, "sync-sigint", of=200)
