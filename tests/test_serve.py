"""``qwen-space serve`` through the official openai SDK, against loopback fakes for the
faults a real Gradio server will not produce on demand (tests/live has the rest)."""

import asyncio
import json
from typing import Any

import aiohttp
import openai
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from openai.types.chat import ChatCompletionMessageParam
from qwen_space.client import DEFAULT_SPACE_ID, RetryPolicy, Timeouts

from .cli import run_cli
from .fake_space import (
    CLOSE_STREAM,
    EVENT_ID,
    HIDDEN_FAILURE,
    FakeSpace,
    JoinAnswer,
    Lockstep,
    chat_body,
    script,
    sse,
    under_way,
    wait_for_cancel,
)
from .serving import HELLO, async_openai, create, serving
from .support import PIECES, until

ONE_TRY: dict[str, Any] = {
    "retry": RetryPolicy(attempts=1),
    "timeouts": Timeouts(connect=2, config=2, join=2, idle=2, cancel=2),
}


async def test_the_qwen_space_is_served_under_the_providers_names() -> None:
    # Nothing is sent to the Space: its names are known without its /config.
    async with serving(DEFAULT_SPACE_ID) as base, async_openai(base) as client:
        models = await client.models.list()
    assert [m.id for m in models.data] == ["qwen-qwen2-5-max", "qwen-2.5-max", "qwen-2-5-max"]


async def test_a_space_by_url_is_served_as_its_host(fake_space: FakeSpace) -> None:
    # The Qwen layout has no model dropdown: the host alone.
    async with serving(fake_space.url) as base, async_openai(base) as client:
        models = await client.models.list()
    assert [m.id for m in models.data] == ["127.0.0.1"]


async def test_whole_and_streamed_answers(fake_space: FakeSpace) -> None:
    lock = Lockstep("hi", PIECES)
    fake_space.stream = lock.script()
    async with serving(fake_space.url) as base, async_openai(base) as client:
        lock.release()  # the whole answer: every piece at once
        whole = await client.chat.completions.create(model="127.0.0.1", messages=HELLO)
        lock = Lockstep("hi", PIECES)
        fake_space.stream = lock.script()
        stream = await client.chat.completions.create(model="127.0.0.1", messages=HELLO, stream=True)
        chunks = []
        async for chunk in stream:  # streamed: each piece reaches us as the next is written
            chunks.append(chunk)
            lock.received(chunk.choices[0].delta.content or "")
    lock.check()
    assert whole.choices[0].message.content == "Hello there!"
    assert whole.choices[0].finish_reason == "stop"
    assert whole.model == "127.0.0.1"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].delta.content is None
    assert [c.choices[0].finish_reason for c in chunks] == [None] * (len(chunks) - 1) + ["stop"]
    assert len({c.id for c in chunks}) == 1


async def test_messages_map_as_chat_maps_them(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("q", ["ok"]))
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "u"},
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": [{"type": "text", "text": "q"}]},
    ]
    async with serving(fake_space.url) as base:
        await create(base, model="127.0.0.1", messages=messages)
    assert fake_space.join_bodies[0]["data"] == ["q", [["u", "a"]], "S"]


async def test_a_wrong_key_is_refused_before_the_space_is_asked(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES))
    async with serving(fake_space.url, api_key="s3cret") as base:
        with pytest.raises(openai.AuthenticationError) as caught:
            await create(base, api_key="wrong", model="127.0.0.1", messages=HELLO)
        with pytest.raises(openai.AuthenticationError):
            async with async_openai(base, api_key="wrong") as client:
                await client.models.list()
        good = await create(
            base,
            api_key="s3cret",
            model="127.0.0.1",
            messages=HELLO,
        )
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    assert good.choices[0].message.content == "Hello there!"
    assert len(fake_space.join_bodies) == 1


async def test_bad_requests_get_400_and_unknown_models_404(fake_space: FakeSpace) -> None:
    async with serving(fake_space.url) as base, async_openai(base) as client:
        with pytest.raises(openai.BadRequestError, match="empty"):
            await client.chat.completions.create(model="127.0.0.1", messages=[])
        with pytest.raises(openai.BadRequestError, match="role 'tool'"):
            await client.chat.completions.create(model="127.0.0.1", messages=[{"role": "tool", "content": "x"}])  # type: ignore[misc,list-item]
        with pytest.raises(openai.NotFoundError, match="gpt-4o") as missing:
            await client.chat.completions.create(model="gpt-4o", messages=HELLO)
        async with aiohttp.ClientSession() as session:
            async with session.post(f"{base}/chat/completions", data=b"{not json") as answer:
                malformed = (answer.status, await answer.json())
            async with session.post(f"{base}/chat/completions", json={"model": "127.0.0.1", "stream": "yes"}) as a:
                bad_stream = a.status
    assert missing.value.code == "model_not_found"
    assert malformed[0] == 400
    assert malformed[1]["error"]["type"] == "invalid_request_error"
    assert bad_stream == 400
    assert fake_space.join_bodies == []


@pytest.mark.parametrize("stream", [False, True])
async def test_a_full_queue_is_503_with_retry_after(fake_space: FakeSpace, stream: bool) -> None:
    fake_space.joins = [JoinAnswer(status=503, body=b'{"detail":"Queue is full. Max size is 2 and size is 2."}')]
    async with serving(fake_space.url, **ONE_TRY) as base:
        with pytest.raises(openai.InternalServerError, match="queue is full") as caught:
            await create(base, model="127.0.0.1", messages=HELLO, stream=stream)
    assert caught.value.status_code == 503
    assert caught.value.response.headers["Retry-After"] == "5"


async def test_a_rate_limited_space_is_429(fake_space: FakeSpace) -> None:
    fake_space.joins = [JoinAnswer(status=429, body=b'{"detail":"Too many requests"}')]
    async with serving(fake_space.url, **ONE_TRY) as base:
        with pytest.raises(openai.RateLimitError) as caught:
            await create(base, model="127.0.0.1", messages=HELLO)
    assert caught.value.response.headers["Retry-After"] == "20"


async def test_a_sleeping_space_is_503_with_retry_after() -> None:
    async def asleep(request: web.Request) -> web.Response:
        # What the Spaces proxy answers for a sleeping or building Space.
        return web.Response(
            status=503, text="<html><body>This Space is sleeping</body></html>", content_type="text/html"
        )

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", asleep)
    space = TestServer(app, host="127.0.0.1")
    await space.start_server()
    try:
        async with serving(str(space.make_url("")), **ONE_TRY) as base:
            with pytest.raises(openai.InternalServerError) as caught:
                await create(base, model="127.0.0.1", messages=HELLO)
    finally:
        await space.close()
    assert caught.value.status_code == 503
    assert caught.value.response.headers["Retry-After"] == "30"


async def test_an_app_error_is_502_with_the_spaces_message(fake_space: FakeSpace) -> None:
    failure = sse(
        {
            "msg": "process_completed",
            "event_id": EVENT_ID,
            "output": {"error": "DashScope said no"},
            "success": False,
            "title": "Quota",
        }
    )
    fake_space.stream = script(*chat_body("hi", PIECES)[:3], failure, CLOSE_STREAM)
    async with serving(fake_space.url) as base:
        with pytest.raises(openai.APIStatusError, match="DashScope said no") as caught:
            await create(base, model="127.0.0.1", messages=HELLO)
    assert caught.value.status_code == 502
    assert caught.value.code == "space_app_error"


async def test_an_error_after_streaming_began_is_an_error_event(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES)[:4], HIDDEN_FAILURE, CLOSE_STREAM)
    received: list[str] = []
    async with serving(fake_space.url) as base, async_openai(base) as client:
        stream = await client.chat.completions.create(model="127.0.0.1", messages=HELLO, stream=True)
        with pytest.raises(openai.APIError, match="hides its message") as caught:
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
    assert "".join(received) == "Hello"
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "space_app_error"


@pytest.mark.parametrize("stream", [False, True])
async def test_a_silent_space_is_a_timeout(fake_space: FakeSpace, stream: bool) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES)[:2], end=False)
    options: dict[str, Any] = {"timeouts": Timeouts(idle=0.3, cancel=1), "retry": RetryPolicy(attempts=1)}
    async with serving(fake_space.url, **options) as base:
        with pytest.raises(openai.APIStatusError, match="sent nothing") as caught:
            await create(base, model="127.0.0.1", messages=HELLO, stream=stream)
        assert fake_space.cancels  # the job the Space may still run is cancelled
    assert caught.value.status_code == 504


async def test_a_timeout_after_text_is_an_error_event(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*under_way("hi", PIECES[:2]), end=False)
    options: dict[str, Any] = {"timeouts": Timeouts(idle=0.3, cancel=1)}
    async with serving(fake_space.url, **options) as base, async_openai(base) as client:
        stream = await client.chat.completions.create(model="127.0.0.1", messages=HELLO, stream=True)
        with pytest.raises(openai.APIError, match="sent nothing") as caught:
            [chunk async for chunk in stream]
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "space_timeout"


@pytest.mark.parametrize("stream", [False, True])
async def test_a_client_that_disconnects_gets_its_job_cancelled(fake_space: FakeSpace, stream: bool) -> None:
    fake_space.stream = script(*under_way("hi", PIECES[:2]), end=False)
    async with serving(fake_space.url) as base, async_openai(base) as client:
        if stream:
            chunks = await client.chat.completions.create(model="127.0.0.1", messages=HELLO, stream=True)
            first = await anext(aiter(chunks))
            assert first.choices[0].delta.content == "Hel"
            await chunks.close()
        else:
            request = asyncio.create_task(client.chat.completions.create(model="127.0.0.1", messages=HELLO))
            await until(lambda: fake_space.data_opens, "the Space's stream opened")
            request.cancel()
            with pytest.raises(asyncio.CancelledError):
                await request
        # While the server runs: its shutdown would cancel the job anyway.
        await wait_for_cancel(fake_space)
        assert fake_space.cancels == [
            {"session_hash": fake_space.join_bodies[0]["session_hash"], "fn_index": 0, "event_id": EVENT_ID}
        ]


async def test_error_json_is_openai_shaped(fake_space: FakeSpace) -> None:
    async with (
        serving(fake_space.url, api_key="k") as base,
        aiohttp.ClientSession() as session,
        session.get(f"{base}/models") as answer,
    ):
        body = json.loads(await answer.read())
    assert answer.status == 401
    assert set(body["error"]) == {"message", "type", "param", "code"}


async def test_serve_warns_when_exposed_without_a_key() -> None:
    # 192.0.2.1 (TEST-NET-1) is never this machine's: the warning comes, the bind fails,
    # and nothing listens beyond loopback.
    result = await run_cli("serve", "--host", "192.0.2.1", "--port", "0", env={"QWEN_SPACE_API_KEY": ""})
    assert "warning: listening on 192.0.2.1 without --api-key" in result.err
    assert "cannot listen on 192.0.2.1" in result.err
    assert result.code == 1
