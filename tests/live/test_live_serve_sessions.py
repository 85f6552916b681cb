"""``qwen-space serve`` with the official openai SDK against real Gradio apps whose model
history lives in a ``gr.State`` (sessions continued, refusals) or whose chat has no
system input (the system message folded into the first user turn)."""

import asyncio
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from qwen_space.client.ways_in.serve import sessions

from ..replicas.scripted import describe
from ..serving import async_openai, serving
from .conftest import Replica, replica_app

MODEL = "127.0.0.1"
# The state_history replica's sliders, in its input order, at their defaults.
SETTINGS = [("Maximum length", 2048), ("Top P", 0.7), ("Temperature", 0.95)]


@pytest.fixture(scope="module")
def state_history() -> Iterator[Replica]:
    with replica_app("state_history") as replica:
        yield replica


def said(message: str, history: list[list[str]]) -> str:
    """The replica's answer to ``message`` given ``history``, the State it kept."""
    return describe(message, history, options=SETTINGS)


async def test_three_turns_continue_one_session_whole_and_streamed(state_history: Replica) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "one"},
    ]
    async with serving(state_history.url) as base, async_openai(base) as client:
        first = await client.chat.completions.create(model=MODEL, messages=messages)
        one = first.choices[0].message.content or ""
        # The app has no system input: the system message went into the first user turn.
        assert one == said("Be brief.\n\none", [])
        messages += [{"role": "assistant", "content": one}, {"role": "user", "content": "two"}]
        stream = await client.chat.completions.create(model=MODEL, messages=messages, stream=True)
        two = "".join([chunk.choices[0].delta.content or "" async for chunk in stream])
        assert two == said("two", [["Be brief.\n\none", one]])
        messages += [{"role": "assistant", "content": two}, {"role": "user", "content": "three"}]
        third = await client.chat.completions.create(model=MODEL, messages=messages)
    assert third.choices[0].message.content == said("three", [["Be brief.\n\none", one], ["two", two]])


async def test_a_history_this_server_did_not_answer_is_a_400(state_history: Replica) -> None:
    async with serving(state_history.url) as base, async_openai(base) as client:
        first = await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "one"}])
        for reply in ("an answer it never gave", (first.choices[0].message.content or "") + " "):
            messages: list[ChatCompletionMessageParam] = [
                {"role": "user", "content": "one"},
                {"role": "assistant", "content": reply},
                {"role": "user", "content": "two"},
            ]
            for stream in (False, True):
                with pytest.raises(openai.BadRequestError) as refused:
                    await client.chat.completions.create(model=MODEL, messages=messages, stream=stream)
                body: Any = refused.value.body
                assert body["code"] == "history_unreachable"
                assert body["param"] == "messages"
                assert "start a new conversation" in body["message"]
        # Single-turn requests still work, and each starts its own session.
        again = await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "one"}])
    assert again.choices[0].message.content == said("one", [])


async def test_the_cache_keeps_the_most_recent_conversations(
    state_history: Replica, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sessions, "MAX_SESSIONS", 2)
    async with serving(state_history.url) as base, async_openai(base) as client:
        answered: list[tuple[str, str]] = []
        for opening in ("first", "second", "third"):
            reply = await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": opening}])
            answered.append((opening, reply.choices[0].message.content or ""))

        async def follow(opening: str, reply: str) -> str | None:
            messages: list[ChatCompletionMessageParam] = [
                {"role": "user", "content": opening},
                {"role": "assistant", "content": reply},
                {"role": "user", "content": "next"},
            ]
            found = await client.chat.completions.create(model=MODEL, messages=messages)
            return found.choices[0].message.content

        with pytest.raises(openai.BadRequestError, match="the last 2 per Space"):
            await follow(*answered[0])
        assert await follow(*answered[2]) == said("next", [list(answered[2])])
        assert await follow(*answered[1]) == said("next", [list(answered[1])])


async def test_two_requests_continuing_one_conversation_at_once_one_is_a_409(state_history: Replica) -> None:
    async with serving(state_history.url) as base, async_openai(base) as client:
        first = await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "one"}])
        one = first.choices[0].message.content or ""
        messages: list[ChatCompletionMessageParam] = [
            {"role": "user", "content": "one"},
            {"role": "assistant", "content": one},
            {"role": "user", "content": "two !delay=0.1"},
        ]
        results = await asyncio.gather(
            *(client.chat.completions.create(model=MODEL, messages=messages) for _ in range(2)),
            return_exceptions=True,
        )
    refused = [result for result in results if isinstance(result, openai.APIStatusError)]
    assert len(refused) == 1
    assert refused[0].status_code == 409
    assert "conversation_busy" in str(refused[0].body)
    done = [result for result in results if not isinstance(result, BaseException)]
    assert done[0].choices[0].message.content == said("two !delay=0.1", [["one", one]])


async def test_the_system_message_folds_into_the_first_turn_of_a_stateless_app() -> None:
    with replica_app("blocks_canonical") as replica:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "developer", "content": "Be brief."},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "again"},
        ]
        async with serving(replica.url) as base, async_openai(base) as client:
            reply = await client.chat.completions.create(model=MODEL, messages=messages)
    assert reply.choices[0].message.content == describe("again", [["Be brief.\n\nhi", "hello"]])
