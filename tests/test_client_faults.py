"""SpaceClient against scripted faults on a loopback aiohttp server."""

import asyncio
import socket

import aiohttp
import pytest
from qwen_space.client import RetryPolicy, SpaceClient, Timeouts
from qwen_space.client.core import transport
from qwen_space.client.errors import SpaceConnectionError, SpaceTimeoutError
from qwen_space.protocol import Completed
from qwen_space.protocol.errors import (
    QueueFullError,
    RemoteProtocolError,
    RequestRejectedError,
    ServerError,
    SpaceUnavailableError,
    StreamInterruptedError,
)

from .fake_space import (
    CLOSE_STREAM,
    EVENT_ID,
    FakeSpace,
    Gate,
    Heartbeats,
    JoinAnswer,
    Lockstep,
    Pause,
    chat_body,
    completed,
    generating,
    script,
    tuples_chat,
)
from .support import BOUNDED, HELLO, NO_WAIT, PATIENCE, PIECES, deltas


def client(space: FakeSpace, **kwargs: object) -> SpaceClient:
    options: dict[str, object] = {"timeouts": BOUNDED, "retry": NO_WAIT, **kwargs}
    return SpaceClient(space.url, **options)  # type: ignore[arg-type]


async def test_normal_stream(fake_space: FakeSpace) -> None:
    # Each piece is written once the one before the last arrived: the answer streams.
    lock = Lockstep("hi", PIECES)
    fake_space.stream = lock.script()
    async with client(fake_space) as space:
        async for delta in space.chat(HELLO):
            lock.received(delta)
    lock.check()
    [body] = fake_space.join_bodies
    assert body["data"] == ["hi", [], "You are a helpful assistant."]
    assert (body["fn_index"], body["trigger_id"]) == (0, 11)
    assert len(body["session_hash"]) == 12


async def test_a_placeholder_one_event_replaces_never_reaches_the_reader(fake_space: FakeSpace) -> None:
    # One event shows "Generating..." and then replaces it wholesale, each snapshot in a read
    # of its own (as tests/replicas/placeholder.py does on a real Gradio): chat() streams the
    # answer alone, and nothing it yielded is rewritten (no ReplyRewrittenError).
    body = chat_body("hi", ["Generating..."])
    fake_space.stream = script(
        *body[:3],
        Pause(0.02),
        generating([[], [["replace", [0, 1], "Hel"]], []]),
        Pause(0.02),
        generating([[], [["append", [0, 1], "lo!"]], []]),
        completed(tuples_chat("hi", "Hello!")),
        CLOSE_STREAM,
    )
    async with client(fake_space) as space:
        received = [delta async for delta in space.chat(HELLO)]
    assert "".join(received) == "Hello!"
    assert received[0] == "Hel"  # streamed: the first snapshot after the placeholder, before the end


async def test_truncated_stream_keeps_partial_text(fake_space: FakeSpace) -> None:
    body = chat_body("hi", PIECES)
    fake_space.stream = script(*body[:4], body[4][:20])
    async with client(fake_space) as space:
        with pytest.raises(StreamInterruptedError) as caught:
            await deltas(space)
    assert caught.value.partial_text == "Hello"


async def test_eof_without_close_stream(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES)[:3])
    async with client(fake_space) as space:
        with pytest.raises(StreamInterruptedError) as caught:
            await deltas(space)
    assert caught.value.partial_text == "Hel"


async def test_oversized_line(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES)[:3], b"data: " + b"x" * 5000, end=False)
    async with client(fake_space, max_event_size=4096) as space:
        with pytest.raises(RemoteProtocolError, match="exceeded 4096 bytes") as caught:
            await deltas(space)
    assert caught.value.partial_text == "Hel"


async def test_silence_past_the_idle_timeout(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES)[:3], end=False)
    async with client(fake_space, timeouts=Timeouts(idle=0.5, total=2 * PATIENCE, cancel=PATIENCE)) as space:
        with pytest.raises(SpaceTimeoutError, match="sent nothing") as caught:
            await asyncio.wait_for(deltas(space), PATIENCE)
    assert caught.value.phase == "idle"
    assert caught.value.partial_text == "Hel"
    assert fake_space.cancels == [
        {"session_hash": fake_space.join_bodies[0]["session_hash"], "fn_index": 0, "event_id": EVENT_ID}
    ]


async def test_a_slow_reader_is_not_taken_for_a_silent_space(fake_space: FakeSpace) -> None:
    # The idle bound counts the Space's silence while a read waits, not the reader's own
    # pauses: the rest of the answer arrived while the reader slept past the idle timeout.
    body = chat_body("hi", PIECES)
    fake_space.stream = script(*body[:3], Pause(0.1), body[3], Pause(0.1), *body[4:], end=False)
    got: list[str] = []
    async with client(fake_space, timeouts=Timeouts(idle=0.5, total=2 * PATIENCE, cancel=PATIENCE)) as space:
        async for delta in space.chat(HELLO):
            if not got:
                await asyncio.sleep(1.0)
            got.append(delta)
    assert "".join(got) == "".join(PIECES)


async def test_silence_past_the_total_timeout_ends_the_stream_before_the_idle_one(fake_space: FakeSpace) -> None:
    # The idle bound is far away: only the chat's total can end this wait before the
    # test's bound.
    fake_space.stream = script(*chat_body("hi", PIECES)[:3], end=False)
    async with client(fake_space, timeouts=Timeouts(idle=10 * PATIENCE, total=1, cancel=PATIENCE)) as space:
        with pytest.raises(SpaceTimeoutError) as caught:
            await asyncio.wait_for(deltas(space), PATIENCE)
    assert caught.value.phase == "total"
    assert caught.value.partial_text == "Hel"


async def test_heartbeats_keep_a_waiting_stream_alive(fake_space: FakeSpace) -> None:
    # Time is the subject: 2 s of heartbeats 0.25 s apart outlast a 1.5 s idle timeout,
    # which only a stall of over a second between two of them could reach.
    body = chat_body("hi", PIECES)
    fake_space.stream = script(body[0], Heartbeats(every=0.25, times=8), *body[1:])
    async with client(fake_space, timeouts=Timeouts(idle=1.5, total=2 * PATIENCE)) as space:
        assert "".join(await deltas(space)) == "Hello there!"


async def test_queue_full_then_success_after_retry(fake_space: FakeSpace) -> None:
    full = JoinAnswer(503, b'{"detail":"Queue is full. Max size is 6 and size is 6."}')
    fake_space.joins = [full, full]
    fake_space.stream = script(*chat_body("hi", PIECES))
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async with client(fake_space, retry=RetryPolicy(attempts=3), sleep=sleep) as space:
        assert "".join(await deltas(space)) == "Hello there!"
    assert len(fake_space.join_bodies) == 3
    assert len(delays) == 2
    assert 0 <= delays[0] <= 0.5
    assert 0 <= delays[1] <= 1.0


async def test_queue_full_gives_up_after_the_budget(fake_space: FakeSpace) -> None:
    fake_space.joins = [JoinAnswer(503, b'{"detail":"Queue is full. Max size is 6 and size is 6."}')] * 3
    async with client(fake_space) as space:
        with pytest.raises(QueueFullError):
            await deltas(space)
    assert len(fake_space.join_bodies) == 3


@pytest.mark.parametrize(
    ("answer", "error", "attempts"),
    [
        (JoinAnswer(503, b"<html><title>Sleeping</title></html>", "text/html"), SpaceUnavailableError, 3),
        (JoinAnswer(500, b"Internal Server Error", "text/plain"), ServerError, 1),
        (
            JoinAnswer(422, b'{"detail":[{"type":"missing","loc":["body","data"],"msg":"Field required"}]}'),
            RequestRejectedError,
            1,
        ),
        (JoinAnswer(200, b"not json", "text/plain"), RemoteProtocolError, 1),
        (JoinAnswer(200, b'{"detail":"ok"}'), RemoteProtocolError, 1),
    ],
)
async def test_join_errors(fake_space: FakeSpace, answer: JoinAnswer, error: type[Exception], attempts: int) -> None:
    fake_space.joins = [answer] * 3
    async with client(fake_space) as space:
        with pytest.raises(error):
            await deltas(space)
    assert len(fake_space.join_bodies) == attempts
    assert fake_space.data_opens == 0


async def test_join_that_never_answers_is_not_retried(fake_space: FakeSpace) -> None:
    fake_space.joins = [JoinAnswer(hang=True)]
    async with client(fake_space, timeouts=Timeouts(join=0.3, total=2 * PATIENCE)) as space:
        with pytest.raises(SpaceTimeoutError) as caught:
            await deltas(space)
    assert caught.value.phase == "join"
    assert len(fake_space.join_bodies) == 1, "the join may have been accepted: never join twice"


async def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with SpaceClient(f"http://127.0.0.1:{port}", timeouts=BOUNDED) as space:
        with pytest.raises(SpaceConnectionError, match="could not connect"):
            await deltas(space)


async def test_close_stream_while_pending_reopens(fake_space: FakeSpace) -> None:
    body = chat_body("hi", PIECES)
    streams = [script(body[0], CLOSE_STREAM), script(*body[1:])]

    async def run(response: object, space: FakeSpace) -> None:
        await streams.pop(0)(response, space)  # type: ignore[arg-type]

    fake_space.stream = run
    async with client(fake_space) as space:
        assert "".join(await deltas(space)) == "Hello there!"
    assert fake_space.data_opens == 2


async def test_join_sends_the_token_the_way_gradio_clients_do(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES))
    async with client(fake_space, hf_token="hf_secret123", headers={"X-Extra": "1"}) as space:
        await deltas(space)
        assert "hf_secret123" not in repr(space)
    headers = fake_space.join_headers[0]
    assert headers["x-hf-authorization"] == "Bearer hf_secret123"
    assert headers["X-Extra"] == "1"


async def test_caller_session_is_used_and_left_open(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES))
    async with aiohttp.ClientSession() as session:
        async with client(fake_space, session=session) as space:
            await deltas(space)
        assert not session.closed


async def _connections_made(
    fake_space: FakeSpace, chats: int, *, at_completion: Gate | None = None, timeouts: Timeouts = BOUNDED
) -> int:
    """The connections ``chats`` chats in a row opened; ``at_completion`` is opened as
    each chat's completion arrives."""
    made = 0

    async def on_created(*_: object) -> None:
        nonlocal made
        made += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(on_created)
    async with (
        aiohttp.ClientSession(trace_configs=[trace]) as session,
        client(fake_space, session=session, timeouts=timeouts) as space,
    ):
        for _ in range(chats):
            completions = []
            async for event in space.events(HELLO):
                if isinstance(event, Completed):
                    completions.append(event.text)
                    if at_completion is not None:
                        at_completion.open()
            assert completions == ["Hello there!"]
    return made


async def test_the_connection_is_reused_after_the_stream_ends(
    fake_space: FakeSpace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """close_stream and the end of the body follow the completion: they are read, so
    the next chat's requests go over the same connection."""
    # The end is written only once the completion has arrived: a read of its own.
    # The client's private drain window is widened on purpose: the subject is that the
    # end is read, not how fast a loaded machine delivers it.
    monkeypatch.setattr(transport, "_DRAIN_SECONDS", PATIENCE)
    gate = Gate()
    body = chat_body("hi", PIECES)
    fake_space.stream = script(*body[:-1], gate, body[-1])
    assert await _connections_made(fake_space, 3, at_completion=gate) == 1


async def test_a_stream_left_open_after_the_completion_costs_its_connection_not_time(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES), end=False)
    # Only the drain's own bound can end each chat: no timeout of the chat comes near
    # the test's bound, so a drain that waited for one fails here.
    slow = Timeouts(idle=10 * PATIENCE, total=20 * PATIENCE, cancel=PATIENCE)
    async with asyncio.timeout(PATIENCE):
        made = await _connections_made(fake_space, 2, timeouts=slow)
    assert made >= 2, "the open stream's connection is closed, not reused"
