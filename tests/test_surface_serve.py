"""``create_openai_app``, public for mounting in an aiohttp app of one's own: the
OpenAI SDK talks to it under the mount's prefix, beside the host app's routes."""

import io
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import web
from qwen_space.client import create_openai_app

from .fake_space import FakeSpace, chat_body, script
from .serving import async_openai


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="the host app")


@asynccontextmanager
async def mounted(url: str, **options: object) -> AsyncIterator[str]:
    """A host app with its own route and the OpenAI app under ``/openai``: its base URL."""
    root = web.Application()
    root.router.add_get("/", hello)
    root.add_subapp("/openai", create_openai_app(url, **options))  # type: ignore[arg-type]
    runner = web.AppRunner(root, handler_cancellation=True)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


async def test_the_openai_sdk_talks_to_the_mounted_app(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", ["Hel", "lo"]))
    async with mounted(fake_space.url, api_key="a-key-long-enough-to-matter") as base:
        async with async_openai(f"{base}/openai/v1", api_key="a-key-long-enough-to-matter") as client:
            models = [model.id async for model in client.models.list()]
            reply = await client.chat.completions.create(
                model="127.0.0.1", messages=[{"role": "user", "content": "hi"}]
            )
            chunks = await client.chat.completions.create(
                model="127.0.0.1", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            streamed = "".join([chunk.choices[0].delta.content or "" async for chunk in chunks])
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{base}/") as response:
                assert await response.text() == "the host app"
            async with session.get(f"{base}/openai/v1/models") as response:
                assert response.status == 401
                assert (await response.json())["error"]["code"] == "invalid_api_key"
    assert "127.0.0.1" in models
    assert reply.choices[0].message.content == "Hello"
    assert streamed == "Hello"


async def test_the_mounted_app_keeps_its_own_body_limit(fake_space: FakeSpace) -> None:
    # aiohttp applies the host app's limit (1 MiB by default) to every request; the
    # OpenAI app takes a conversation at the client's prompt limit, escaped as JSON.
    fake_space.stream = script(*chat_body("hi", ["Hel", "lo"]))
    body = json.dumps({"model": "127.0.0.1", "messages": [{"role": "user", "content": "ж" * 300_000}]})
    assert 1 << 20 < len(body) < 4 << 20
    async with mounted(fake_space.url) as base, aiohttp.ClientSession() as session:
        headers = {"Content-Type": "application/json"}
        payload = io.BytesIO(body.encode())
        async with session.post(f"{base}/openai/v1/chat/completions", data=payload, headers=headers) as response:
            answer = await response.json()
    assert response.status == 200, answer
    assert answer["choices"][0]["message"]["content"] == "Hello"
