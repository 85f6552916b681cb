"""More faults, leak checks, secrets and TLS.

Every test here ends with no task left running and no unclosed resource: the
``no_leaks`` fixture collects garbage after the test so that an unclosed session,
connector or socket raises its ResourceWarning inside the test run, where pytest's
``filterwarnings = error`` turns it into a failure.
"""

import asyncio
import gc
import logging
import ssl
from collections.abc import AsyncIterator

import pytest
import trustme
from aiohttp import web
from aiohttp.test_utils import TestServer
from qwen_space.client import SpaceClient, Timeouts
from qwen_space.client.errors import SpaceConnectionError, SpaceTimeoutError
from qwen_space.protocol.errors import AuthenticationError, RemoteProtocolError

from .fake_space import (
    CLOSE_STREAM,
    CONFIG,
    FakeSpace,
    Heartbeats,
    JoinAnswer,
    chat_body,
    completed,
    generating,
    script,
    tuples_chat,
)
from .support import HELLO, PATIENCE

TOKEN = "hf_SuperSecretToken0123456789"


@pytest.fixture(autouse=True)
async def no_leaks() -> AsyncIterator[None]:
    yield
    await asyncio.sleep(0)
    gc.collect()
    leftover = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert not leftover, f"tasks left running: {leftover}"


async def test_a_20_mb_line_is_refused_with_the_default_limit(fake_space: FakeSpace) -> None:
    body = chat_body("hi", ["Hel", "lo"])
    huge = b'data: {"msg":"log","event_id":"x","log":"' + b"A" * (20 * 1024 * 1024)
    fake_space.stream = script(*body[:3], huge, end=False)
    async with SpaceClient(fake_space.url, timeouts=Timeouts(idle=5, total=30, cancel=1)) as space:
        with pytest.raises(RemoteProtocolError, match="exceeded 16777216 bytes") as caught:
            await space.complete(HELLO)
    assert caught.value.partial_text == "Hel"
    assert len(fake_space.cancels) == 1, "the abandoned job is cancelled on the Space"


async def test_messages_after_completion_are_not_read(fake_space: FakeSpace) -> None:
    """The client stops at the first completion (full and authoritative), so a
    duplicate completion or a late generating message cannot change the answer."""
    body = chat_body("hi", ["Hel", "lo"])
    late = [completed(tuples_chat("hi", "DUPLICATE")), generating([[], [["append", [0, 1], "LATE"]], []])]
    fake_space.stream = script(*body[:-1], *late, CLOSE_STREAM)
    async with SpaceClient(fake_space.url) as space:
        completion = await space.complete(HELLO)
    assert completion.text == "Hello"


async def test_heartbeat_only_stream_ends_at_the_total_timeout(fake_space: FakeSpace) -> None:
    # Heartbeats forever, never idle for long: only the total timeout can end the chat.
    fake_space.stream = script(Heartbeats(every=0.05))
    async with SpaceClient(fake_space.url, timeouts=Timeouts(idle=PATIENCE, total=0.5, cancel=1)) as space:
        with pytest.raises(SpaceTimeoutError, match="total timeout") as caught:
            await asyncio.wait_for(space.complete(HELLO), PATIENCE)
    assert caught.value.phase == "total"


async def test_the_token_never_appears_in_errors_logs_or_reprs(
    fake_space: FakeSpace, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_space.joins = [JoinAnswer(401, b'{"detail":{"error":"Not authenticated"}}')]
    async with SpaceClient(fake_space.url, hf_token=TOKEN) as space:
        with pytest.raises(AuthenticationError) as caught:
            await space.complete(HELLO)
        assert TOKEN not in repr(space)
    assert TOKEN not in str(caught.value)
    assert TOKEN not in repr(caught.value)
    assert TOKEN not in caplog.text
    assert fake_space.join_headers[0]["x-hf-authorization"] == f"Bearer {TOKEN}"


@pytest.fixture
def tls() -> tuple[ssl.SSLContext, trustme.CA]:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_context)
    return server_context, ca


async def test_tls_is_verified_by_default(tls: tuple[ssl.SSLContext, trustme.CA]) -> None:
    server_context, _ = tls

    async def config(request: web.Request) -> web.Response:
        return web.Response(body=CONFIG, content_type="application/json")

    app = web.Application()
    app.router.add_get("/config", config)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(ssl=server_context)
    url = f"https://127.0.0.1:{server.port}"
    try:
        async with SpaceClient(url) as space:
            with pytest.raises(SpaceConnectionError, match="TLS verification failed"):
                await space.config()
        async with SpaceClient(url, verify_ssl=False) as space:
            assert (await space.config()).version == "5.50.0"
    finally:
        await server.close()
