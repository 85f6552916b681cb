"""SpaceClient against the replica Space served by a real Gradio server."""

import asyncio
import json

import pytest
from qwen_space.client import SpaceClient, SpaceStarting, Timeouts
from qwen_space.protocol import ChatEvent, Completed, QueuePosition, Started, TextDelta, derive_contract
from qwen_space.protocol._chatbot import ChatbotFormat
from qwen_space.protocol.errors import AppError

from .conftest import Replica

SYSTEM = "You are a test."


def answer(tokens: int) -> str:
    return "".join(f"tok{j} " for j in range(tokens))


async def test_config_and_contract(replica: Replica) -> None:
    async with SpaceClient(replica.url) as space:
        config = await space.config()
        contract = derive_contract(config, "/model_chat")
        assert config.version == replica.gradio_version
        assert (contract.fn_index, contract.trigger_id) == (0, 11)
        major = config.release.gradio_major
        expected = ChatbotFormat.NORMALISED if major >= 6 else ChatbotFormat.TUPLES
        assert contract.reply_format is expected
        assert not any(d.breaking for d in space.drifts)


async def test_deltas_arrive_while_the_server_is_generating(replica: Replica) -> None:
    # Streamed, not held back to the end: the first deltas arrive while most of a 10 s
    # answer (200 tokens 50 ms apart) is still to come; only a stall of seconds could
    # make them wait for it. Each ends on a whole token.
    tokens, marker = 200, "streaming1"
    received: list[str] = []
    async with SpaceClient(replica.url) as space:
        stream = space.chat([{"role": "user", "content": f"go !tokens={tokens} !delay=0.05 !id={marker}"}])
        async for delta in stream:
            received.append(delta)
            if len(received) == 3:
                break
        produced = replica.yields(marker)  # written one yield late: see the replica's log
        await stream.aclose()
    assert answer(tokens).startswith("".join(received))
    assert all(text.endswith(" ") for text in received)
    assert produced < tokens - 1, f"the first deltas came after {produced} of {tokens} tokens"


async def test_history_and_system_reach_the_model(replica: Replica) -> None:
    messages = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": "Привет! Как дела?"},
        {"role": "assistant", "content": "Хорошо 🐱"},
        {"role": "user", "content": "second"},
        {"role": "assistant", "content": "reply two"},
        {"role": "user", "content": "!echo now"},
    ]
    async with SpaceClient(replica.url) as space:
        completion = await space.complete(messages)
    seen = json.loads(completion.text)
    assert seen == {
        "query": "!echo now",
        "history": [["Привет! Как дела?", "Хорошо 🐱"], ["second", "reply two"]],
        "system": SYSTEM,
    }


async def test_default_system_prompt(replica: Replica) -> None:
    async with SpaceClient(replica.url) as space:
        completion = await space.complete([{"role": "user", "content": "!echo"}])
    assert json.loads(completion.text)["system"] == "You are a helpful assistant."


async def test_event_sequence(replica: Replica) -> None:
    events: list[ChatEvent | SpaceStarting] = []
    async with SpaceClient(replica.url) as space:
        async for event in space.events([{"role": "user", "content": "!tokens=3 !delay=0.1"}]):
            events.append(event)
    kinds = [type(e) for e in events]
    assert kinds[-1] is Completed
    assert Started in kinds
    assert QueuePosition in kinds
    # How reads become deltas is tested offline, where the test decides the reads
    # (test_client_faults.test_normal_stream); streaming itself just above.
    deltas = [e.text for e in events if isinstance(e, TextDelta)]
    assert "".join(deltas) == "tok0 tok1 tok2 "


async def test_hidden_app_error_is_typed_and_keeps_partial_text(replica: Replica) -> None:
    async with SpaceClient(replica.url) as space:
        received: list[str] = []
        with pytest.raises(AppError) as caught:
            async for delta in space.chat([{"role": "user", "content": "!fail !delay=0"}]):
                received.append(delta)
    assert caught.value.space_message is None
    assert "hides its message" in str(caught.value)
    assert caught.value.partial_text == "".join(received) == answer(2)


async def test_error_before_first_token(replica: Replica) -> None:
    async with SpaceClient(replica.url) as space:
        with pytest.raises(AppError) as caught:
            await space.complete([{"role": "user", "content": "!fail0"}])
    assert caught.value.partial_text == ""


async def test_gr_error_message_and_title(replica: Replica) -> None:
    async with SpaceClient(replica.url) as space:
        with pytest.raises(AppError) as caught:
            await space.complete([{"role": "user", "content": "!grerror !delay=0"}])
    assert caught.value.space_message == "DashScope said no"
    assert caught.value.partial_text == answer(2)
    major, minor = (int(part) for part in replica.gradio_version.split(".")[:2])
    if (major, minor) >= (5, 2):  # gr.Error takes a title from 5.2 on
        assert caught.value.title == "Quota"


async def test_breaking_out_cancels_the_job_on_the_server(replica: Replica) -> None:
    async with SpaceClient(replica.url) as space:
        stream = space.chat([{"role": "user", "content": "!tokens=200 !delay=0.05 !id=break1"}])
        async for _ in stream:
            break
        await stream.aclose()
        assert replica.generation_stopped("break1", of=200)


async def test_cancelling_the_task_cancels_the_job(replica: Replica) -> None:
    started = asyncio.Event()

    async def consume(space: SpaceClient) -> None:
        async for _ in space.chat([{"role": "user", "content": "!tokens=200 !delay=0.05 !id=task1"}]):
            started.set()

    async with SpaceClient(replica.url) as space:
        task = asyncio.create_task(consume(space))
        await asyncio.wait_for(started.wait(), 30)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert replica.generation_stopped("task1", of=200)


async def test_closing_the_client_cancels_running_chats(replica: Replica) -> None:
    space = SpaceClient(replica.url)
    stream = space.chat([{"role": "user", "content": "!tokens=200 !delay=0.05 !id=close1"}])
    await anext(stream)
    await space.aclose()
    assert replica.generation_stopped("close1", of=200)
    await stream.aclose()


async def test_fifty_concurrent_chats_end_with_exact_text(replica: Replica) -> None:
    async with SpaceClient(replica.url, timeouts=Timeouts(total=300)) as space:

        async def one(i: int) -> tuple[str, str]:
            tokens = 10 + i % 7
            deltas = [d async for d in space.chat([{"role": "user", "content": f"n{i} !tokens={tokens} !delay=0.01"}])]
            return "".join(deltas), answer(tokens)

        results = await asyncio.gather(*(one(i) for i in range(50)))
    assert all(got == expected for got, expected in results)


async def test_long_answer_over_aiohttp_line_limit(replica: Replica) -> None:
    # One SSE line of ~300 KB: past aiohttp's 128 KiB readline limit that broke the original provider.
    async with SpaceClient(replica.url) as space:
        completion = await space.complete([{"role": "user", "content": "!big=300000"}])
    assert completion.text == "x" * 300_000
