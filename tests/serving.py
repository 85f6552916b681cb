"""Running ``qwen-space serve``'s app on a loopback port, as the command does."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import openai
from aiohttp import web
from openai.types.chat import ChatCompletionMessageParam
from qwen_space.client.ways_in.serve import create_openai_app, make_runner

#: The client-level tests' question (support.HELLO), typed as the openai SDK takes it.
HELLO: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


@asynccontextmanager
async def serving(url: str | None = None, *, api_key: str | None = None, **options: Any) -> AsyncIterator[str]:
    """The server's ``/v1`` base URL while it runs (one Space at ``url``, or ``spaces=``)."""
    runner = make_runner(create_openai_app(url, api_key=api_key, **options))
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}/v1"
    finally:
        await runner.cleanup()


def async_openai(base_url: str, api_key: str = "unused") -> openai.AsyncOpenAI:
    # No retries: each test sees the server's first answer.
    return openai.AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=60)


def sync_openai(base_url: str, api_key: str = "unused") -> openai.OpenAI:
    return openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0, timeout=60)


async def create(base_url: str, *, api_key: str = "unused", **request: Any) -> Any:
    """One ``chat.completions.create`` call on a client of its own."""
    async with async_openai(base_url, api_key) as client:
        return await client.chat.completions.create(**request)
