"""SpaceClient against scripted faults on a loopback aiohttp server."""

import asyncio
import socket
import time

import aiohttp
import pytest
from qwen_space.client import (
    RetryPolicy,
    SpaceClient,
    SpaceConnectionError,
    SpaceTimeoutError,
    Timeouts,
)
from qwen_space.protocol import (
    AppError,
    QueueFullError,
    RemoteProtocolError,
    RequestRejectedError,
    ServerError,
    SessionNotFoundError,
    SpaceUnavailableError,
    StreamError,
    StreamInterruptedError,
)

from .fake_space import (
    CLOSE_STREAM,
    EVENT_ID,
    HEARTBEAT,
    FakeSpace,
    JoinAnswer,
    chat_body,
    completed,
    generating,
    script,
    sse,
    tuples_chat,
)

HELLO = [{"role": "user", "content": "hi"}]
PIECES = ["Hel", "lo", " there", "!"]
FAST = Timeouts(connect=2, config=2, join=2, idle=2, total=20, cancel=1)
NO_WAIT = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)


def client(space: FakeSpace, **kwargs: object) -> SpaceClient:
    options: dict[str, object] = {"timeouts": FAST, "retry": NO_WAIT, **kwargs}
    return SpaceClient(space.url, **options)  # type: ignore[arg-type]


async def collect(space: SpaceClient) -> list[str]:
    return [delta async for delta in space.chat(HELLO)]


async def test_normal_stream(fake_space: FakeSpace) -> None:
    # Paced, so that each message is its own network read: one delta per read.
    fake_space.stream = script(*chat_body("hi", PIECES), delay=0.05)
    async with client(fake_space) as space:
        assert await collect(space) == PIECES
    [body] = fake_space.join_bodies
    assert body["data"] == ["hi", [], "You are a helpful assistant."]
    assert (body["fn_index"], body["trigger_id"]) == (0, 11)
    assert len(body["session_hash"]) == 12


async def test_bytes_dripped_one_at_a_time(fake_space: FakeSpace) -> None:
    whole = b"".join(chat_body("hi", PIECES))
    fake_space.stream = script(*(whole[i : i + 1] for i in range(len(whole))))
    async with client(fake_space) as space:
        assert "".join(await collect(space)) == "Hello there!"


async def test_truncated_stream_keeps_partial_text(fake_space: FakeSpace) -> None:
    body = chat_body("hi", PIECES)
    fake_space.stream = script(*body[:4], body[4][:20])
    async with client(fake_space) as space:
        with pytest.raises(StreamInterruptedError) as caught:
            await collect(space)
    assert caught.value.partial_text == "Hello"


async def test_eof_without_close_stream(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES)[:3])
    async with client(fake_space) as space:
        with pytest.raises(StreamInterruptedError) as caught:
            await collect(space)
    assert caught.value.partial_text == "Hel"


async def test_garbage_line(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES)[:3], b"data: {not json\n\n")
    async with client(fake_space) as space:
        with pytest.raises(RemoteProtocolError, match="not valid JSON") as caught:
            await collect(space)
    assert caught.value.partial_text == "Hel"


async def test_oversized_line(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES)[:3], b"data: " + b"x" * 5000, end=False)
    async with client(fake_space, max_event_size=4096) as space:
        with pytest.raises(RemoteProtocolError, match="exceeded 4096 bytes") as caught:
            await collect(space)
    assert caught.value.partial_text == "Hel"


async def test_unexpected_error_session_not_found(fake_space: FakeSpace) -> None:
    error = sse(
        {
            "msg": "unexpected_error",
            "event_id": None,
            "message": "404: Not Found",
            "session_not_found": True,
            "success": False,
        }
    )
    fake_space.stream = script(*chat_body("hi", PIECES)[:3], error)
    async with client(fake_space) as space:
        with pytest.raises(SessionNotFoundError) as caught:
            await collect(space)
    assert caught.value.partial_text == "Hel"


async def test_server_stopped_loop_of_gradio_4(fake_space: FakeSpace) -> None:
    stopped = sse(
        {"msg": "unexpected_error", "event_id": None, "message": "Server stopped unexpectedly.", "success": False}
    )
    fake_space.stream = script(*chat_body("hi", PIECES)[:3], *[stopped] * 500, end=False)
    async with client(fake_space) as space:
        with pytest.raises(StreamError, match="stopped"):
            await asyncio.wait_for(collect(space), 5)


async def test_hidden_app_error(fake_space: FakeSpace) -> None:
    failure = sse(
        {"msg": "process_completed", "event_id": EVENT_ID, "output": {"error": None}, "success": False, "title": None}
    )
    fake_space.stream = script(*chat_body("hi", PIECES)[:4], failure, CLOSE_STREAM)
    async with client(fake_space) as space:
        with pytest.raises(AppError, match="hides its message") as caught:
            await collect(space)
    assert caught.value.partial_text == "Hello"


async def test_silence_past_the_idle_timeout(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES)[:3], end=False)
    async with client(fake_space, timeouts=Timeouts(idle=0.5, total=10, cancel=1)) as space:
        with pytest.raises(SpaceTimeoutError, match="sent nothing") as caught:
            await asyncio.wait_for(collect(space), 5)
    assert caught.value.phase == "idle"
    assert caught.value.partial_text == "Hel"
    assert fake_space.cancels == [
        {"session_hash": fake_space.join_bodies[0]["session_hash"], "fn_index": 0, "event_id": EVENT_ID}
    ]


async def test_heartbeats_keep_a_waiting_stream_alive(fake_space: FakeSpace) -> None:
    body = chat_body("hi", PIECES)
    fake_space.stream = script(body[0], HEARTBEAT, HEARTBEAT, HEARTBEAT, *body[1:], delay=0.2)
    async with client(fake_space, timeouts=Timeouts(idle=0.5, total=10)) as space:
        assert "".join(await collect(space)) == "Hello there!"


async def test_total_timeout(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*[HEARTBEAT] * 50, delay=0.1)
    async with client(fake_space, timeouts=Timeouts(idle=1, total=0.5)) as space:
        with pytest.raises(SpaceTimeoutError, match="total timeout") as caught:
            await collect(space)
    assert caught.value.phase == "total"


async def test_queue_full_then_success_after_retry(fake_space: FakeSpace) -> None:
    full = JoinAnswer(503, b'{"detail":"Queue is full. Max size is 6 and size is 6."}')
    fake_space.joins = [full, full]
    fake_space.stream = script(*chat_body("hi", PIECES))
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async with client(fake_space, retry=RetryPolicy(attempts=3), sleep=sleep) as space:
        assert "".join(await collect(space)) == "Hello there!"
    assert len(fake_space.join_bodies) == 3
    assert len(delays) == 2
    assert 0 <= delays[0] <= 0.5
    assert 0 <= delays[1] <= 1.0


async def test_queue_full_gives_up_after_the_budget(fake_space: FakeSpace) -> None:
    fake_space.joins = [JoinAnswer(503, b'{"detail":"Queue is full. Max size is 6 and size is 6."}')] * 3
    async with client(fake_space) as space:
        with pytest.raises(QueueFullError):
            await collect(space)
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
            await collect(space)
    assert len(fake_space.join_bodies) == attempts
    assert fake_space.data_opens == 0


async def test_join_that_never_answers_is_not_retried(fake_space: FakeSpace) -> None:
    fake_space.joins = [JoinAnswer(delay=5)]
    async with client(fake_space, timeouts=Timeouts(join=0.3)) as space:
        with pytest.raises(SpaceTimeoutError) as caught:
            await collect(space)
    assert caught.value.phase == "join"
    assert len(fake_space.join_bodies) == 1, "the join may have been accepted: never join twice"


async def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with SpaceClient(f"http://127.0.0.1:{port}", timeouts=FAST) as space:
        with pytest.raises(SpaceConnectionError, match="could not connect"):
            await collect(space)


async def test_close_stream_while_pending_reopens(fake_space: FakeSpace) -> None:
    body = chat_body("hi", PIECES)
    streams = [script(body[0], CLOSE_STREAM), script(*body[1:])]

    async def run(response: object, space: FakeSpace) -> None:
        await streams.pop(0)(response, space)  # type: ignore[arg-type]

    fake_space.stream = run
    async with client(fake_space) as space:
        assert "".join(await collect(space)) == "Hello there!"
    assert fake_space.data_opens == 2


async def test_messages_of_unknown_events_are_ignored(fake_space: FakeSpace) -> None:
    body = chat_body("hi", PIECES)
    stranger = generating(tuples_chat("x", "NOT OURS"), event_id="f" * 32)
    fake_space.stream = script(body[0], stranger, *body[1:])
    async with client(fake_space) as space:
        assert "".join(await collect(space)) == "Hello there!"


async def test_unicode_separators_inside_text(fake_space: FakeSpace) -> None:
    pieces = ["a\u2028b", "\u0085c", " 🐱"]
    fake_space.stream = script(*chat_body("hi", pieces), delay=0.02)
    async with client(fake_space) as space:
        assert await collect(space) == pieces


async def test_nan_in_json(fake_space: FakeSpace) -> None:
    nan_estimation = (
        b'data: {"msg":"estimation","event_id":"' + EVENT_ID.encode() + b'","rank":0,"queue_size":1,"rank_eta":NaN}\n\n'
    )
    fake_space.stream = script(nan_estimation, *chat_body("hi", PIECES)[1:])
    async with client(fake_space) as space:
        assert "".join(await collect(space)) == "Hello there!"


async def test_invalid_utf8_is_replaced_not_fatal(fake_space: FakeSpace) -> None:
    body = chat_body("hi", PIECES)
    bad = generating([[], [["append", [0, 1], "\ufffd"]], []]).replace("\ufffd".encode(), b"\xff")
    final = completed(tuples_chat("hi", "Hello there!\ufffd"))
    fake_space.stream = script(*body[:-2], bad, final, CLOSE_STREAM)
    async with client(fake_space) as space:
        assert "".join(await collect(space)) == "Hello there!\ufffd"


async def test_join_sends_the_token_the_way_gradio_clients_do(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES))
    async with client(fake_space, hf_token="hf_secret123", headers={"X-Extra": "1"}) as space:
        await collect(space)
        assert "hf_secret123" not in repr(space)
    headers = fake_space.join_headers[0]
    assert headers["x-hf-authorization"] == "Bearer hf_secret123"
    assert headers["X-Extra"] == "1"


async def test_caller_session_is_used_and_left_open(fake_space: FakeSpace) -> None:
    import aiohttp

    fake_space.stream = script(*chat_body("hi", PIECES))
    async with aiohttp.ClientSession() as session:
        async with client(fake_space, session=session) as space:
            await collect(space)
        assert not session.closed


async def _connections_made(fake_space: FakeSpace, chats: int) -> tuple[int, float]:
    made = 0

    async def on_created(*_: object) -> None:
        nonlocal made
        made += 1

    trace = aiohttp.TraceConfig()
    trace.on_connection_create_end.append(on_created)
    async with aiohttp.ClientSession(trace_configs=[trace]) as session, client(fake_space, session=session) as space:
        started = time.monotonic()
        for _ in range(chats):
            assert "".join(await collect(space)) == "Hello there!"
        return made, time.monotonic() - started


async def test_the_connection_is_reused_after_the_stream_ends(fake_space: FakeSpace) -> None:
    """close_stream and the end of the body follow the completion: they are read, so
    the next chat's requests go over the same connection."""
    close = b'data: {"msg":"close_stream","event_id":null}\n\n'
    fake_space.stream = script(*chat_body("hi", PIECES), close, delay=0.02)  # the end comes a moment later
    made, _ = await _connections_made(fake_space, 3)
    assert made == 1


async def test_a_stream_left_open_after_the_completion_costs_its_connection_not_time(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES), end=False)
    made, took = await _connections_made(fake_space, 2)
    assert made >= 2, "the open stream's connection is closed, not reused"
    assert took < 2, "each chat waits for the stream's end a moment only"
