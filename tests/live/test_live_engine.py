"""The chain engine against real Gradio, beyond the acceptance tests of
``test_live_chains.py``: several earlier turns through a chain, no placeholder and no
rewrite in ``events()``, a private chain's system prompt and its choice by a step's
fn_index, conversations over a State history (async and sync), the tabs' chats named by
the refusal's own choices, and the Qwen layout's other buttons chosen by name.

Every app is a replica of ``tests/replicas`` (written as the public Spaces are) served by
this environment's Gradio (4.44.1, 5.50.0 or 6.31.0). The scripted model says what
reached it, so each reply is compared exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.metadata import version

import pytest
from qwen_space.client import AppError, Completed, Correction, SpaceClient, SyncSpaceClient, TextDelta
from qwen_space.client.errors import AmbiguousChatError, HistoryUnreachableError
from qwen_space.protocol import derive_contract

from ..replicas.expected import ANSWERS, FIRST, LLAMA_MAX_INPUT
from .conftest import replica_app

RELEASE = version("gradio")
_OPENING = f"Message: {json.dumps(FIRST)}. Earlier turns: 0."


def answer(app: str, message: str, *turns: tuple[str, str]) -> str:
    """The app's scripted answer to ``message`` after ``turns`` (its settings at their defaults)."""
    first = ANSWERS[app][RELEASE].first
    prefix, tail = first[: first.index(_OPENING)], first[first.index(_OPENING) + len(_OPENING) :]
    said = f"{prefix}Message: {json.dumps(message, ensure_ascii=False)}."
    if turns:
        asked, replied = turns[-1]
        said += f" Earlier turns: {len(turns)}, the last: {json.dumps(asked)} -> {json.dumps(replied)}."
    else:
        said += " Earlier turns: 0."
    return said + tail


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def conversation(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for asked, said in pairs:
        out += [user(asked), {"role": "assistant", "content": said}]
    return out


@pytest.fixture(
    scope="module", params=["blocks_canonical", "blocks_multimodal", "buttons", "placeholder", "placeholder_chain"]
)
def two_step(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    with replica_app(request.param) as replica:
        yield request.param, replica.url


async def test_the_chain_gets_every_earlier_turn(two_step: tuple[str, str]) -> None:
    app, url = two_step
    turns = (("u1", "a1"), ("u2", "a2"))
    async with SpaceClient(url) as space:
        text = "".join([d async for d in space.chat([*conversation(*turns), user("three")])])
    assert text == answer(app, "three", *turns)


async def test_no_placeholder_and_no_rewrite_reaches_the_events(two_step: tuple[str, str]) -> None:
    app, url = two_step
    async with SpaceClient(url) as space:
        events = [e async for e in space.events([*conversation(("u1", "a1")), user("again")])]
    deltas = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert deltas == answer(app, "again", ("u1", "a1"))
    assert not [e for e in events if isinstance(e, Correction)]
    assert isinstance(events[-1], Completed)
    assert events[-1].text == deltas


async def test_a_private_chain_takes_the_system_prompt_and_is_chosen_by_a_steps_fn_index() -> None:
    with replica_app("llama2_private") as replica:
        async with SpaceClient(replica.url) as space:
            said = await space.complete([*conversation(("u1", "a1")), user("hi")], system="Speak like a pirate.")
            config = await space.fetch_config()
        want = answer("llama2_private", "hi", ("u1", "a1"))
        default = '"You are a helpful, respectful and honest assistant."'
        assert said.text == want.replace(default, '"Speak like a pirate."')
        # The private .success step's fn_index names its whole chain.
        generate = derive_contract(config).steps[-1]
        assert generate.api_name is None
        assert generate.only_on_success
        async with SpaceClient(replica.url, endpoint=generate.fn_index) as space:
            assert (await space.complete([user("by fn_index")])).text == answer("llama2_private", "by fn_index")
            with pytest.raises(AppError, match="too long"):
                await space.complete([user("x" * (LLAMA_MAX_INPUT + 1))])


async def test_history_in_a_state_needs_a_conversation() -> None:
    app = "state_history"
    with replica_app(app) as replica:
        async with SpaceClient(replica.url) as space:
            with pytest.raises(HistoryUnreachableError, match=r"conversation\(\)"):
                await space.complete([*conversation(("one", "said")), user("two")])
            chat = space.conversation()
            first = await chat.send("first")
            assert first == answer(app, "first")
            streamed = "".join([d async for d in chat.stream("second")])
            assert streamed == answer(app, "second", ("first", first))
            assert [t.user for t in chat.turns] == ["first", "second"]
        with SyncSpaceClient(replica.url) as sync_space:
            held = sync_space.conversation()
            a = held.send("a")
            assert a == answer(app, "a")
            assert "".join(held.stream("b")) == answer(app, "b", ("a", a))


async def test_the_tabs_chats_are_named_by_the_refusals_choices() -> None:
    with replica_app("tabbed_two") as replica:
        async with SpaceClient(replica.url) as space:
            with pytest.raises(AmbiguousChatError) as caught:
                await space.complete([user("hi")])
        first, second = caught.value.choices
        async with SpaceClient(replica.url, endpoint=first) as space:
            assert (await space.complete([user("hi")])).text == answer("tabbed_two", "hi")
        async with SpaceClient(replica.url, endpoint=second) as space:
            text = (await space.complete([user("hi")])).text
        assert text == answer("tabbed_two", "hi").replace("Alpha says: ", "Beta says: ")


async def test_the_qwen_layouts_other_buttons_are_chosen_by_name() -> None:
    app = "qwen_extra_buttons"
    with replica_app(app) as replica:
        async with SpaceClient(replica.url) as space:
            text = (await space.complete([*conversation(("u", "a")), user("hi")], system="Be terse.")).text
        assert text == answer(app, "hi", ("u", "a")).replace('"You are a helpful assistant."', '"Be terse."')
        async with SpaceClient(replica.url, endpoint=2) as space:
            assert (await space.complete([user("x")])).text == "Rewritten: " + answer(app, "x")
