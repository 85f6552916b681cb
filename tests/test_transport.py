"""The transport's error mapping: what the network raises becomes the package's, a bug stays a bug.

Two halves. Real aiohttp errors, from a loopback aiohttp server that cuts a body, goes
silent or refuses the stream, become the package's errors naming the phase and what
was being read. And an exception of our own (a ``ValueError``, an ``OSError``) raised
in our code at each phase (config, join, stream, cancel; the Hub's in test_hub.py)
propagates as it is, never disguised as a network or usage error.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from qwen_space.client import QwenSpaceError, SpaceClient, Timeouts, TransportError, UsageError
from qwen_space.client.core import seam, transport
from qwen_space.client.core.io_errors import translate
from qwen_space.client.core.seam import Deadline
from qwen_space.client.core.transport import Transport
from qwen_space.client.errors import SpaceTimeoutError, StreamInterruptedError
from qwen_space.protocol import ChatStream
from qwen_space.protocol.errors import AuthenticationError, RateLimitedError, RequestRejectedError, SessionNotFoundError
from yarl import URL

from .fake_space import CONFIG, EVENT_ID, FakeSpace, chat_body, script
from .support import BOUNDED, NO_WAIT, PIECES, deltas

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# --- translate, the mapping itself ------------------------------------------------


@pytest.mark.parametrize(
    "bug", [RuntimeError("ours"), KeyError("x"), ValueError("ours"), OSError("ours"), FileNotFoundError(2, "x")]
)
@pytest.mark.parametrize("phase", ["config", "join", "stream", "cancel"])
def test_what_translate_does_not_know_is_re_raised_as_it_is(bug: Exception, phase: str) -> None:
    with pytest.raises(type(bug)) as caught:
        translate(bug, phase=phase, url="http://space.invalid")
    assert caught.value is bug


@pytest.mark.parametrize(
    ("exc", "phase", "kind"),
    [
        (TimeoutError(), "join", SpaceTimeoutError),
        (TimeoutError(), "stream", SpaceTimeoutError),
        (aiohttp.ClientPayloadError("cut"), "stream", StreamInterruptedError),
        (aiohttp.ServerDisconnectedError(), "stream", StreamInterruptedError),
        (aiohttp.ServerDisconnectedError(), "join", TransportError),
        (ConnectionResetError(), "config", TransportError),
        (aiohttp.InvalidURL("http://[::1"), "config", UsageError),
    ],
)
def test_network_failures_become_the_package_errors(exc: Exception, phase: str, kind: type[QwenSpaceError]) -> None:
    error = translate(exc, phase=phase, url="http://space.invalid")
    assert type(error) is kind


def test_a_header_aiohttp_cannot_encode_is_a_usage_error_only_while_sending() -> None:
    bad_header = UnicodeEncodeError("latin-1", "é", 0, 1, "header")
    assert isinstance(translate(bad_header, phase="join", url="http://x.invalid", sending=True), UsageError)
    with pytest.raises(UnicodeEncodeError):
        translate(bad_header, phase="join", url="http://x.invalid")


def test_a_timeout_past_the_deadline_is_the_total_timeout() -> None:
    error = translate(TimeoutError(), phase="join", url="http://x.invalid", deadline=Deadline(0.0), doing="joining")
    assert isinstance(error, SpaceTimeoutError)
    assert error.phase == "total"


# --- real aiohttp errors from a loopback server -------------------------------------


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[dict[str, Handler]], Awaitable[str]]]:
    servers: list[TestServer] = []

    async def start(routes: dict[str, Handler]) -> str:
        app = web.Application()
        for route, handler in routes.items():
            method, _, path = route.partition(" ")
            app.router.add_route(method, path, handler)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


def cut_after(head: bytes, content_type: str = "application/json") -> Handler:
    """Promises 100 000 bytes, sends ``head`` and closes the connection."""

    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": content_type, "Content-Length": "100000"})
        await response.prepare(request)
        await response.write(head)
        assert request.transport is not None
        request.transport.close()
        return response

    return handler


async def config(request: web.Request) -> web.Response:
    return web.Response(body=CONFIG, content_type="application/json")


async def joined(request: web.Request) -> web.Response:
    return web.json_response({"event_id": EVENT_ID})


def answer(status: int, body: str = "", **headers: str) -> Handler:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(status=status, text=body, content_type="application/json", headers=headers)

    return handler


def client(url: str, **kwargs: Any) -> SpaceClient:
    return SpaceClient(url, **{"timeouts": BOUNDED, "retry": NO_WAIT, **kwargs})


async def test_a_config_cut_mid_body_is_a_broken_read_of_the_config_not_of_a_reply(serve: Any) -> None:
    url = await serve({"GET /config": cut_after(CONFIG[:500])})
    async with client(url) as space:
        with pytest.raises(TransportError) as caught:
            await deltas(space)
    assert not isinstance(caught.value, StreamInterruptedError)
    assert "reading the answer to /config during config" in str(caught.value)
    assert "reply" not in str(caught.value)


async def test_a_join_answer_cut_mid_body_names_the_join_and_is_not_retried(serve: Any) -> None:
    url = await serve({"GET /config": config, "POST /gradio_api/queue/join": cut_after(b'{"event_')})
    async with client(url) as space:
        with pytest.raises(TransportError) as caught:
            await deltas(space)
    assert "the answer to queue/join during join" in str(caught.value)
    assert not caught.value.retryable  # the join may have reached the Space


async def test_a_silent_config_is_a_config_timeout(serve: Any) -> None:
    async def silent(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "10"})
        await response.prepare(request)
        await response.write(b"{")
        await asyncio.Event().wait()  # until the server closes
        return response

    url = await serve({"GET /config": silent})
    async with client(url, timeouts=Timeouts(config=0.3, total=30)) as space:
        with pytest.raises(SpaceTimeoutError) as caught:
            await deltas(space)
    assert caught.value.phase == "config"
    assert "the answer to /config" in str(caught.value)


@pytest.mark.parametrize(
    ("status", "body", "headers", "kind"),
    [
        (401, '{"detail":"Not authenticated"}', {}, AuthenticationError),
        (403, '{"detail":"Forbidden"}', {}, AuthenticationError),
        (429, '{"detail":"Too many requests"}', {"Retry-After": "7"}, RateLimitedError),
        (422, '{"detail":"bad query"}', {}, RequestRejectedError),
        (404, '{"detail":"Not Found"}', {}, SessionNotFoundError),
        (500, "boom", {}, StreamInterruptedError),
    ],
)
async def test_a_refused_message_stream_is_the_refusal(
    serve: Any, status: int, body: str, headers: dict[str, str], kind: type[QwenSpaceError]
) -> None:
    url = await serve(
        {
            "GET /config": config,
            "POST /gradio_api/queue/join": joined,
            "GET /gradio_api/queue/data": answer(status, body, **headers),
            "POST /gradio_api/cancel": answer(200, "{}"),
        }
    )
    async with client(url) as space:
        with pytest.raises(QwenSpaceError) as caught:
            await deltas(space)
    assert type(caught.value) is kind
    if status < 500:
        assert "queue/data" in str(caught.value)
        assert not caught.value.retryable or kind is RateLimitedError
    if kind is RateLimitedError:
        assert caught.value.retry_after == 7.0  # type: ignore[attr-defined]


# --- our own bugs, at each phase, propagate as they are ------------------------------

BUGS = [ValueError("our bug"), OSError("our bug")]


def answers_raising(bug: Exception, when: Callable[[bytes], bool]) -> type[seam.Answer]:
    """``Answer``, which our code builds after each small read, raising ``bug`` for a body
    ``when`` picks: a bug of ours between the read and its parsing."""

    class Broken(seam.Answer):
        def __init__(self, status: int, content_type: str | None, headers: Any, body: bytes) -> None:
            if when(body):
                raise bug
            super().__init__(status, content_type, headers, body)

    return Broken


@pytest.mark.parametrize("bug", BUGS, ids=repr)
async def test_a_bug_of_ours_while_reading_the_config_propagates(
    fake_space: FakeSpace, bug: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "Answer", answers_raising(bug, lambda body: b'"components"' in body))
    async with client(fake_space.url) as space:
        with pytest.raises(type(bug)) as caught:
            await deltas(space)
    assert caught.value is bug


@pytest.mark.parametrize("bug", BUGS, ids=repr)
async def test_a_bug_of_ours_while_reading_the_join_propagates(
    fake_space: FakeSpace, bug: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(transport, "Answer", answers_raising(bug, lambda body: b"event_id" in body))
    async with client(fake_space.url) as space:
        with pytest.raises(type(bug)) as caught:
            await deltas(space)
    assert caught.value is bug
    assert len(fake_space.join_bodies) == 1  # not retried as a network failure


@pytest.mark.parametrize("bug", BUGS, ids=repr)
async def test_a_bug_of_ours_while_parsing_the_stream_propagates(
    fake_space: FakeSpace, bug: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES))

    def broken_feed(self: object, data: bytes) -> list[object]:
        raise bug

    monkeypatch.setattr(ChatStream, "feed", broken_feed)
    async with client(fake_space.url) as space:
        with pytest.raises(type(bug)) as caught:
            await deltas(space)
    assert caught.value is bug


@pytest.mark.parametrize("bug", BUGS, ids=repr)
async def test_a_bug_of_ours_in_a_cancel_propagates_though_a_failed_cancel_is_only_logged(
    fake_space: FakeSpace, bug: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    cancel_url = URL(fake_space.url + "/gradio_api/cancel")
    wire = Transport(headers={}, token=None, send_token=False)
    try:
        await wire.post_cancel(URL("http://127.0.0.1:9/gradio_api/cancel"), b"{}", within=5)  # refused: logged
        monkeypatch.setattr(transport, "Answer", answers_raising(bug, lambda body: b"success" in body))
        with pytest.raises(type(bug)) as caught:
            await wire.post_cancel(cancel_url, b'{"event_id":"x"}', within=5)
        assert caught.value is bug
    finally:
        await wire.close()
