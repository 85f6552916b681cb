"""``qwen-space serve`` with the official openai SDK, against the replica Space served by
a real Gradio server (tests/test_serve.py has the faults a real server will not produce)."""

import asyncio
import json
import signal

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from qwen_space.client import Timeouts

from ..cli import run_cli
from ..replicas.scripted import describe
from ..serving import async_openai, serving, sync_openai
from ..test_serve_command import serve_command
from .conftest import Replica, replica_app


def answer(tokens: int) -> str:
    return "".join(f"tok{j} " for j in range(tokens))


def ask(prompt: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": prompt}]


async def test_async_sdk_whole_and_streamed(replica: Replica) -> None:
    async with serving(replica.url) as base, async_openai(base) as client:
        whole = await client.chat.completions.create(model="127.0.0.1", messages=ask("!tokens=6"))
        stream = await client.chat.completions.create(
            model="127.0.0.1",
            messages=ask("!tokens=16 !delay=0.05"),
            stream=True,
        )
        chunks = [chunk async for chunk in stream]
    assert whole.choices[0].message.content == answer(6)
    assert whole.choices[0].finish_reason == "stop"
    texts = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
    assert "".join(texts) == answer(16)
    assert len(texts) >= 8  # streamed as generated
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_sync_sdk_whole_and_streamed(replica: Replica) -> None:
    async with serving(replica.url) as base:

        def use_the_sync_sdk() -> tuple[str | None, str]:
            with sync_openai(base) as client:
                whole = client.chat.completions.create(model="127.0.0.1", messages=ask("!tokens=3"))
                stream = client.chat.completions.create(model="127.0.0.1", messages=ask("!tokens=5"), stream=True)
                return whole.choices[0].message.content, "".join(c.choices[0].delta.content or "" for c in stream)

        # On a thread: the server runs on this test's loop.
        assert await asyncio.to_thread(use_the_sync_sdk) == (answer(3), answer(5))


async def test_history_and_system_map_as_chat_maps_them(replica: Replica) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "You are a test."},
        {"role": "user", "content": "Привет"},
        {"role": "assistant", "content": "Хорошо 🐱"},
        {"role": "user", "content": "!echo"},
    ]
    async with serving(replica.url) as base, async_openai(base) as client:
        reply = await client.chat.completions.create(model="127.0.0.1", messages=messages)
    assert json.loads(reply.choices[0].message.content or "") == {
        "query": "!echo",
        "history": [["Привет", "Хорошо 🐱"]],
        "system": "You are a test.",
    }


async def test_the_spaces_errors(replica: Replica) -> None:
    async with serving(replica.url) as base, async_openai(base) as client:
        with pytest.raises(openai.APIStatusError, match="DashScope said no") as whole:
            await client.chat.completions.create(model="127.0.0.1", messages=ask("!grerror !delay=0"))
        stream = await client.chat.completions.create(model="127.0.0.1", messages=ask("!fail !delay=0"), stream=True)
        received: list[str] = []
        with pytest.raises(openai.APIError, match="hides its message"):
            async for chunk in stream:
                received.append(chunk.choices[0].delta.content or "")
        with pytest.raises(openai.NotFoundError):
            await client.chat.completions.create(model="gpt-4o", messages=ask("hi"))
        with pytest.raises(openai.BadRequestError):
            await client.chat.completions.create(model="127.0.0.1", messages=[{"role": "assistant", "content": "x"}])
    assert whole.value.status_code == 502
    assert "".join(received) == answer(2)


async def test_the_key(replica: Replica) -> None:
    async with serving(replica.url, api_key="k-123") as base:
        async with async_openai(base, api_key="k-456") as wrong:
            with pytest.raises(openai.AuthenticationError):
                await wrong.chat.completions.create(model="127.0.0.1", messages=ask("!tokens=1 !id=nokey"))
        async with async_openai(base, api_key="k-123") as right:
            reply = await right.chat.completions.create(model="127.0.0.1", messages=ask("!tokens=1"))
    assert reply.choices[0].message.content == answer(1)
    assert replica.yields("nokey") == 0


async def test_an_abandoned_stream_cancels_the_job(replica: Replica) -> None:
    async with serving(replica.url) as base, async_openai(base) as client:
        stream = await client.chat.completions.create(
            model="127.0.0.1",
            messages=ask("!tokens=200 !delay=0.05 !id=oai-abandon"),
            stream=True,
        )
        async for _ in stream:
            break
        await stream.close()
        # Checked while the server still runs (its shutdown cancels jobs too), on a
        # thread so that the server keeps serving.
        assert await asyncio.to_thread(replica.generation_stopped, "oai-abandon", of=200)


async def test_a_hundred_concurrent_streams_end_with_exact_texts(replica: Replica) -> None:
    async with serving(replica.url, timeouts=Timeouts(total=300)) as base, async_openai(base) as client:

        async def one(i: int) -> tuple[str, str]:
            tokens = 5 + i % 9
            stream = await client.chat.completions.create(
                model="127.0.0.1",
                messages=ask(f"n{i} !tokens={tokens} !delay=0.01"),
                stream=True,
            )
            return "".join([c.choices[0].delta.content or "" async for c in stream]), answer(tokens)

        results = await asyncio.gather(*(one(i) for i in range(100)))
    assert all(got == expected for got, expected in results)


@pytest.mark.parametrize("signals", [[signal.SIGINT, signal.SIGINT], [signal.SIGTERM]], ids=["ctrl-c-twice", "sigterm"])
async def test_the_serve_command_and_how_it_stops(replica: Replica, signals: list[int]) -> None:
    marker = f"serve-stop-{signals[0]}"
    async with (
        serve_command("--url", replica.url, "--api-key", "cli-key", "--shutdown-timeout", "0.5") as command,
        async_openai(command.base, api_key="cli-key") as client,
    ):
        reply = await client.chat.completions.create(model="127.0.0.1", messages=ask("!tokens=4"))
        assert reply.choices[0].message.content == answer(4)
        stream = await client.chat.completions.create(
            model="127.0.0.1", messages=ask(f"!tokens=200 !delay=0.05 !id={marker}"), stream=True
        )
        await anext(aiter(stream))
        command.send(signals[0])
        await command.expect("waiting")
        for again in signals[1:]:
            command.send(again)
        with pytest.raises(openai.APIError, match="stopping"):
            [chunk async for chunk in stream]
        code, err = await command.finish()
    assert code == (130 if signals[0] == signal.SIGINT else 0)
    assert "POST /v1/chat/completions 200 127.0.0.1" in err
    assert "Traceback" not in err
    # The job the server abandoned was cancelled on the real Gradio server.
    assert await asyncio.to_thread(replica.generation_stopped, marker, of=200)


async def test_the_sdks_retries_never_rerun_a_failed_job(replica: Replica) -> None:
    async with serving(replica.url) as base, openai.AsyncOpenAI(base_url=base, api_key="unused") as client:
        assert client.max_retries == 2  # the SDK's default
        with pytest.raises(openai.APIStatusError, match="DashScope said no"):
            await client.chat.completions.create(model="127.0.0.1", messages=ask("!grerror !delay=0 !id=no-rerun"))
    # The job yields twice before it fails: two yields in all is one job.
    assert replica.yields("no-rerun") == 2


async def test_a_url_space_with_its_dropdown_endpoint_and_option_from_the_command() -> None:
    """The Qwen3-shaped replica by URL: named by its host, its dropdown's choices served as
    models, ``--endpoint``/``--option`` checked against its real /config at start-up."""
    flags = ("--url", "{url}", "--endpoint", "/generate", "--option", "model=beta-2")
    with replica_app("thinking_blocks") as think:
        argv = [flag.format(url=think.url) for flag in flags]
        async with serve_command(*argv) as command, async_openai(command.base) as client:
            models = [model.id for model in (await client.models.list()).data]
            one = await client.models.retrieve("alpha-1")
            preset = await client.chat.completions.create(model="127.0.0.1", messages=ask("hi"))
            chosen = await client.chat.completions.create(model="alpha-1", messages=ask("hi"))
        refused = await run_cli("serve", "--url", think.url, "--port", "0", "--option", "Model=gamma-3")
    assert models == ["127.0.0.1", "alpha-1", "beta-2"]
    assert one.id == "alpha-1"
    assert preset.choices[0].message.content == describe("hi", [], options=[("Model", "beta-2")])
    assert chosen.choices[0].message.content == describe("hi", [], options=[("Model", "alpha-1")])
    assert "beta-2 is thinking" in (preset.choices[0].message.model_extra or {})["reasoning_content"]
    assert refused.code == 2
    assert "--option Model=gamma-3" in refused.err
    assert "Traceback" not in refused.err
