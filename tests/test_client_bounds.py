"""Hostile servers: redirects to other origins, endless or huge answers, trickled
headers, a full pool, Retry-After. The client stays bounded in time and memory and
never sends credentials anywhere but the Space's origin."""

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from qwen_space.client import RetryPolicy, SpaceClient, Timeouts
from qwen_space.client.errors import ClientClosedError, RedirectRefusedError, ResponseTooLargeError, SpaceTimeoutError
from qwen_space.protocol import QwenSpaceError
from qwen_space.protocol.errors import AppError, QueueFullError, RateLimitedError, SpaceUnavailableError

from .fake_space import CONFIG, EVENT_ID, FakeSpace, Gate, JoinAnswer, chat_body, script, under_way
from .raw_space import RawSpace, response
from .support import HELLO, NO_WAIT, PATIENCE, PIECES, deltas, until

SECRET = "hf_secret_never_elsewhere"
#: Timeouts no test here waits for: a clean-up that waited for one would meet the
#: test's bound (PATIENCE) first.
NEVER = Timeouts(idle=20 * PATIENCE, total=40 * PATIENCE, cancel=20 * PATIENCE)


async def collect(space: SpaceClient) -> str:
    return "".join(await deltas(space))


@pytest.fixture
async def elsewhere() -> AsyncIterator[list[dict[str, str]]]:
    """Another origin (another loopback port) that records the headers it receives."""
    seen: list[dict[str, str]] = []

    async def record(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.Response(body=CONFIG, content_type="application/json")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    seen.append({"url": str(server.make_url("")).rstrip("/")})
    try:
        yield seen
    finally:
        await server.close()


def redirecting(space: FakeSpace, route: str, status: int, target: str) -> web.Application:
    app = space.app()

    async def redirect(request: web.Request) -> web.Response:
        return web.Response(status=status, headers={"Location": target})

    # The first matching route wins: put the redirect in front.
    fresh = web.Application()
    fresh.router.add_route("*", route, redirect)
    for resource in app.router.resources():
        if resource.canonical != route:
            for handler_route in resource:
                fresh.router.add_route(handler_route.method, resource.canonical, handler_route.handler)
    return fresh


async def serve(app: web.Application, space: FakeSpace) -> TestServer:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    space.server = server
    return server


@pytest.mark.parametrize(
    ("route", "status"),
    [("/config", 302), ("/config", 301), ("/gradio_api/queue/join", 307), ("/gradio_api/queue/data", 302)],
)
async def test_no_credential_follows_a_redirect_to_another_origin(
    elsewhere: list[dict[str, str]], route: str, status: int
) -> None:
    target = elsewhere.pop(0)["url"] + route
    space = FakeSpace(stream=script(*chat_body("hi", PIECES)))
    server = await serve(redirecting(space, route, status, target), space)
    try:
        async with SpaceClient(space.url, hf_token=SECRET, headers={"X-Caller": "private"}, retry=NO_WAIT) as client:
            with pytest.raises(RedirectRefusedError) as caught:
                await collect(client)
    finally:
        await server.close()
    assert elsewhere == [], "nothing at all was sent to the other origin"
    assert caught.value.location == target
    assert target.rsplit(route, 1)[0] in str(caught.value)


async def test_a_same_origin_redirect_of_config_is_followed() -> None:
    space = FakeSpace(stream=script(*chat_body("hi", PIECES)))
    app = space.app()

    async def moved(request: web.Request) -> web.Response:
        return web.Response(status=302, headers={"Location": "/config"})

    app.router.add_get("/behind-proxy/config", moved)
    server = await serve(app, space)
    try:
        async with SpaceClient(space.url + "/behind-proxy") as client:
            config = await client.fetch_config()
    finally:
        await server.close()
    assert config.version == "5.50.0"


async def test_a_config_that_never_ends_is_cut_at_the_limit() -> None:
    async def endless(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"x" * 65536
        while True:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            await writer.drain()

    raw = RawSpace(routes={"/config": endless})
    await raw.start()
    try:
        async with SpaceClient(raw.url, max_config_size=1 << 20) as client:
            with pytest.raises(ResponseTooLargeError, match="larger than 1048576 bytes") as caught:
                await asyncio.wait_for(client.fetch_config(), 10)
    finally:
        await raw.close()
    assert caught.value.limit == 1 << 20


async def test_a_huge_error_detail_makes_a_short_message(fake_space: FakeSpace) -> None:
    detail = "Queue is full. " + "x" * 5_000_000
    fake_space.joins = [JoinAnswer(503, json.dumps({"detail": detail}).encode())] * 3
    async with SpaceClient(fake_space.url, retry=NO_WAIT) as client:
        with pytest.raises(QueueFullError) as caught:
            await collect(client)
    assert len(str(caught.value)) < 1000
    assert caught.value.detail is not None
    assert len(caught.value.detail) <= 2001


async def test_complete_keeps_a_bounded_log(fake_space: FakeSpace) -> None:
    body = chat_body("hi", PIECES)
    log = (
        b'data: {"msg":"log","event_id":"'
        + EVENT_ID.encode()
        + b'","log":"'
        + b"y" * 100_000
        + b'","level":"info"}\n\n'
    )
    fake_space.stream = script(*body[:3], *[log] * 150, *body[3:])
    async with SpaceClient(fake_space.url) as client:
        completion = await client.complete(HELLO)
    assert completion.text == "Hello there!"
    assert len(completion.logs) == 100
    assert completion.dropped_logs == 50
    assert all(len(entry.message) <= 2001 for entry in completion.logs)


async def test_trickled_stream_headers_end_at_the_total_timeout() -> None:
    async def trickle(writer: asyncio.StreamWriter) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Slow: " + b"y" * 1000:
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.2)

    raw = RawSpace(routes={"/gradio_api/queue/data": trickle})
    await raw.start()
    try:
        # The headers trickle for minutes; the idle timeout is never reached: only the
        # total can end the wait before the test's bound.
        async with SpaceClient(raw.url, timeouts=Timeouts(idle=PATIENCE, total=1, cancel=0.5)) as client:
            with pytest.raises(SpaceTimeoutError) as caught:
                await asyncio.wait_for(collect(client), PATIENCE)
    finally:
        await raw.close()
    assert caught.value.phase == "total"


async def test_a_chunked_body_turning_to_garbage_ends_within_the_idle_timeout() -> None:
    first = chat_body("hi", PIECES)[2]
    delivered = asyncio.Event()

    async def garbage(writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b"%x\r\n%s\r\n" % (len(first), first))
        await writer.drain()
        await delivered.wait()  # the valid chunk was read alone; the parser then meets garbage
        writer.write(b"zz-not-a-chunk-size\r\n")
        await writer.drain()
        writer.close()

    raw = RawSpace(routes={"/gradio_api/queue/data": garbage})
    await raw.start()
    try:
        # aiohttp may wait for more after the garbage: the idle timeout ends the chat,
        # long before its total or the test's bound.
        timeouts = Timeouts(idle=1, total=20 * PATIENCE, cancel=1)
        async with SpaceClient(raw.url, timeouts=timeouts) as client, asyncio.timeout(PATIENCE):
            stream = client.chat(HELLO)
            assert await anext(stream) == "Hel"
            delivered.set()
            with pytest.raises(QwenSpaceError) as caught:
                await anext(stream)
    finally:
        await raw.close()
    if isinstance(caught.value, SpaceTimeoutError):
        assert caught.value.phase == "idle"
    assert caught.value.partial_text == "Hel"


async def test_waiting_for_a_pooled_connection_is_not_a_join_timeout(fake_space: FakeSpace) -> None:
    held = Gate()
    body = chat_body("hi", PIECES)
    fake_space.stream = script(*body[:3], held, *body[3:])  # each stream holds its connection until released
    join = 0.2
    timeouts = Timeouts(join=join, idle=PATIENCE, total=2 * PATIENCE)
    async with SpaceClient(fake_space.url, timeouts=timeouts, max_connections=2) as client:
        chats = [asyncio.create_task(collect(client)) for _ in range(2)]
        await until(lambda: fake_space.data_opens == 2, "two streams opened")
        # Both connections are held: the third chat's join waits for one.
        chats.append(asyncio.create_task(collect(client)))
        # A load that slows this wait only lengthens it: it stays longer than the join timeout.
        await asyncio.sleep(3 * join)
        assert len(fake_space.join_bodies) == 2, "the third join waits for a connection"
        held.open(3)
        texts = await asyncio.wait_for(asyncio.gather(*chats), PATIENCE)
    assert texts == ["Hello there!"] * 3


async def test_breaking_out_with_a_full_pool_cancels_at_once(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*under_way("hi", PIECES[:2]), end=False)
    async with SpaceClient(fake_space.url, max_connections=1, timeouts=NEVER) as client:
        stream = client.chat(HELLO)
        async for _ in stream:
            break
        # The stream holds the pool's only connection: a cancel that waited for it would
        # wait for the cancel timeout, far beyond this bound.
        async with asyncio.timeout(PATIENCE):
            await stream.aclose()
    assert [cancel["event_id"] for cancel in fake_space.cancels] == [EVENT_ID]


async def test_closing_the_client_cancels_every_stream_fast_and_says_so(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*under_way("hi", PIECES[:2]), end=False)
    client = SpaceClient(fake_space.url, timeouts=NEVER)
    started_streams = 0
    all_started = asyncio.Event()

    async def consume() -> None:
        nonlocal started_streams
        async for _ in client.chat(HELLO):
            started_streams += 1
            if started_streams == 100:
                all_started.set()

    tasks = [asyncio.create_task(consume()) for _ in range(100)]
    await asyncio.wait_for(all_started.wait(), PATIENCE)
    # No stream ends, no timeout comes near the bound: only cancelling them all does.
    async with asyncio.timeout(PATIENCE):
        await client.aclose()
        outcomes = await asyncio.gather(*tasks, return_exceptions=True)
    assert len(fake_space.cancels) == 100
    assert all(isinstance(outcome, ClientClosedError) for outcome in outcomes), outcomes[:3]
    with pytest.raises(ClientClosedError):
        await collect(client)


async def test_retry_after_is_honoured_with_jitter(fake_space: FakeSpace) -> None:
    fake_space.joins = [JoinAnswer(429, b'{"detail":"slow down"}', headers={"Retry-After": "3"})]
    fake_space.stream = script(*chat_body("hi", PIECES))
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async with SpaceClient(fake_space.url, retry=RetryPolicy(attempts=3), sleep=sleep) as client:
        assert await collect(client) == "Hello there!"
    [delay] = delays
    assert 3 <= delay <= 3.6


async def test_retry_after_beyond_the_total_timeout_gives_up_at_once(fake_space: FakeSpace) -> None:
    fake_space.joins = [JoinAnswer(503, b"busy", "text/plain", headers={"Retry-After": "120"})]
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    async with SpaceClient(fake_space.url, timeouts=Timeouts(total=10), sleep=sleep) as client:
        with pytest.raises(SpaceUnavailableError) as caught:
            await collect(client)
    assert delays == []
    assert caught.value.retry_after == 120


async def test_retry_after_as_an_http_date(fake_space: FakeSpace) -> None:
    fake_space.joins = [JoinAnswer(429, b"", "text/plain", headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})]
    async with SpaceClient(fake_space.url, retry=RetryPolicy(attempts=1)) as client:
        with pytest.raises(RateLimitedError) as caught:
            await collect(client)
    assert caught.value.retry_after == 0.0


async def test_a_config_web_page_means_the_space_is_unavailable(fake_space: FakeSpace) -> None:
    fake_space.config = b"<!DOCTYPE html><html><head><title>Building</title></head></html>"
    async with SpaceClient(fake_space.url) as client:
        with pytest.raises(SpaceUnavailableError, match="Building"):
            await collect(client)


async def test_media_types_compare_case_insensitively() -> None:
    body = b"".join(chat_body("hi", PIECES))

    async def data(writer: asyncio.StreamWriter) -> None:
        writer.write(response(body, "Text/Event-Stream; Charset=UTF-8"))

    raw = RawSpace(routes={"/gradio_api/queue/data": data})
    await raw.start()
    try:
        async with SpaceClient(raw.url) as client:
            assert await collect(client) == "Hello there!"
    finally:
        await raw.close()


async def test_a_huge_app_error_makes_a_short_message(fake_space: FakeSpace) -> None:
    huge = "DashScope said: " + "z" * 1_000_000
    failure = json.dumps(
        {"msg": "process_completed", "event_id": EVENT_ID, "output": {"error": huge}, "success": False}
    ).encode()
    fake_space.stream = script(*chat_body("hi", PIECES)[:3], b"data: " + failure + b"\n\n")
    async with SpaceClient(fake_space.url) as client:
        with pytest.raises(AppError) as caught:
            await collect(client)
    assert len(str(caught.value)) < 1200
    assert caught.value.space_message == huge
