"""The chain engine against real Gradio: each chain app of ``tests/chain_apps`` served by
this environment's Gradio (5.x and 6.x; those apps use the messages Chatbot), through the
client with the contract it derives.

The scripted model says what reached it (``answer``), so each reply is compared exactly.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from qwen_space.client import (
    AmbiguousChatError,
    AppError,
    Completed,
    Correction,
    HistoryUnreachableError,
    ReasoningDelta,
    SpaceClient,
    SyncSpaceClient,
    TextDelta,
)

from ..chain_apps.apps import answer
from .conftest import MAJOR, free_port, serving

pytestmark = pytest.mark.skipif(MAJOR < 5, reason="the chain apps are written for Gradio 5 and 6")

SERVE = Path(__file__).resolve().parent.parent / "chain_apps" / "serve.py"


@contextmanager
def chain_app(name: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1"}
    url = f"http://127.0.0.1:{port}"
    with serving(
        [sys.executable, str(SERVE), name, str(port)], f"{url}/config", f"the {name} app", within=180, env=env
    ):
        yield url


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def turns(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for asked, said in pairs:
        out += [user(asked), {"role": "assistant", "content": said}]
    return out


@pytest.fixture(scope="module", params=["canonical", "canonical_multimodal", "buttons", "placeholder"])
def two_step(request: pytest.FixtureRequest) -> Iterator[str]:
    with chain_app(request.param) as url:
        yield url


async def test_the_chain_answers_one_message_exactly(two_step: str) -> None:
    async with SpaceClient(two_step) as space:
        completion = await space.complete([user("hello")])
    assert completion.text == answer("hello", 0)


async def test_the_chain_gets_the_earlier_turns(two_step: str) -> None:
    async with SpaceClient(two_step) as space:
        text = "".join([d async for d in space.chat([*turns(("u1", "a1"), ("u2", "a2")), user("three")])])
    assert text == answer("three", 2)


async def test_no_placeholder_and_no_rewrite_reaches_the_stream(two_step: str) -> None:
    async with SpaceClient(two_step) as space:
        events = [e async for e in space.events([*turns(("u1", "a1")), user("again")])]
    deltas = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert deltas == answer("again", 1)
    assert "Generating" not in deltas
    assert not [e for e in events if isinstance(e, Correction)]
    assert isinstance(events[-1], Completed)


async def test_the_thought_comes_before_the_answer() -> None:
    with chain_app("thinking_two_step") as url:
        async with SpaceClient(url) as space:
            events = [e async for e in space.events([user("why")])]
    kinds = [type(e) for e in events if isinstance(e, (TextDelta, ReasoningDelta))]
    assert kinds.index(TextDelta) > max(i for i, k in enumerate(kinds) if k is ReasoningDelta)
    completed = events[-1]
    assert isinstance(completed, Completed)
    assert completed.text == answer("why", 0)
    assert completed.reasoning == "Thinking about why."


async def test_a_private_chain_ending_in_success_runs_with_its_options() -> None:
    with chain_app("llama2_private") as url:
        async with SpaceClient(url, options={"Temperature": 0.5}) as space:
            text = await space.complete([*turns(("u1", "a1")), user("hi")], system="Speak like a pirate.")
            assert text.text == answer("hi", 1, "Speak like a pirate.")
            # The check step refuses a long message: the .success step never runs.
            with pytest.raises(AppError, match="too long"):
                await space.complete([user("x" * 2100)])
        async with SpaceClient(url, endpoint=3) as space:
            assert (await space.complete([user("by fn_index")])).text == answer("by fn_index", 0, "Be brief.")


async def test_history_in_a_state_needs_a_conversation() -> None:
    with chain_app("state_history") as url:
        async with SpaceClient(url) as space:
            assert (await space.complete([user("one")])).text == answer("one", 0)
            with pytest.raises(HistoryUnreachableError, match=r"conversation\(\)"):
                await space.complete([*turns(("one", "said")), user("two")])
            conversation = space.conversation()
            assert await conversation.send("first") == answer("first", 0)
            streamed = "".join([d async for d in conversation.stream("second")])
            assert streamed == answer("second", 1)
            assert [t.user for t in conversation.turns] == ["first", "second"]
        with SyncSpaceClient(url) as sync_space:
            held = sync_space.conversation()
            assert held.send("a") == answer("a", 0)
            assert "".join(held.stream("b")) == answer("b", 1)


async def test_two_chat_interfaces_in_tabs_are_named_or_refused() -> None:
    with chain_app("tabbed") as url:
        async with SpaceClient(url) as space:
            with pytest.raises(AmbiguousChatError) as caught:
                await space.complete([user("hi")])
        first, second = caught.value.choices
        async with SpaceClient(url, endpoint=second) as space:
            text = (await space.complete([*turns(("u", "a")), user("hi")])).text
        assert text == "Second. " + answer("hi", 1)
        async with SpaceClient(url, endpoint=first) as space:
            assert (await space.complete([user("hi")])).text == "First. " + answer("hi", 0)


async def test_the_qwen_layout_with_extra_buttons_keeps_its_system_prompt() -> None:
    with chain_app("qwen_extra_buttons") as url:
        async with SpaceClient(url) as space:
            text = (await space.complete([*turns(("u", "a")), user("hi")], system="Be terse.")).text
        assert text == answer("hi", 1, "Be terse.")
        async with SpaceClient(url, endpoint="/regenerate") as space:
            assert (await space.complete([user("x")])).text == answer("again", 0, "You are a helpful assistant.")
