"""Every replica chat Space (tests/replicas) served by the Gradio of this environment,
through the client with the contract it derives from ``/config``.

The scripted model answers with what it received, so each test compares exact texts:
the message, the earlier turns, the system prompt and each option, as the app saw them.
"""

import asyncio
import contextlib

import pytest
from qwen_space.client import Completed, ReasoningDelta, SpaceClient, TextDelta
from qwen_space.client.errors import ChatRequestError

from ..replicas.scripted import show
from .conftest import App


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


async def test_one_message_exactly(app: App) -> None:
    async with SpaceClient(app.replica.url) as space:
        completion = await space.complete([user("hello")])
    assert completion.text == app.expected("hello")


async def test_earlier_turns_reach_the_app(app: App) -> None:
    conversation = [
        user("u1"),
        {"role": "assistant", "content": "a1"},
        user("u2"),
        {"role": "assistant", "content": "a2"},
        user("three"),
    ]
    async with SpaceClient(app.replica.url) as space:
        text = "".join([delta async for delta in space.chat(conversation)])
    assert text == app.expected("three", [["u1", "a1"], ["u2", "a2"]])


async def test_a_fresh_session_per_request_keeps_callers_apart(app: App) -> None:
    async with SpaceClient(app.replica.url) as space:
        first = await space.complete([user("u1"), {"role": "assistant", "content": "a1"}, user("one")])
        second = await space.complete([user("two")])
    assert first.text == app.expected("one", [["u1", "a1"]])
    assert second.text == app.expected("two")


async def test_options_and_system_by_label(app: App) -> None:
    async with SpaceClient(app.replica.url) as space:
        if app.name == "hub_template":
            options = {"Temperature": 0.2, "Max new tokens": 64}
            completion = await space.complete([user("hi")], system="Be brief.", options=options)
            assert completion.text == app.expected("hi", settings={"system": "Be brief.", **options})
        elif app.name == "thinking_blocks":
            completion = await space.complete([user("hi")], options={"Model": "beta-2"})
            assert completion.text == app.expected("hi", settings={"Model": "beta-2"})
        else:
            with pytest.raises(ChatRequestError, match="Temperature"):
                await space.complete([user("hi")], options={"Temperature": 0.2})


async def test_bad_options_are_refused_naming_the_label(app: App) -> None:
    refused: list[tuple[str, object]] = [("Nope", 1)]  # a label the app lacks
    if app.name == "hub_template":
        refused.append(("Temperature", 99))  # out of the slider's range
    if app.name == "thinking_blocks":
        refused.append(("Model", "gamma-3"))  # not among the dropdown's choices
    async with SpaceClient(app.replica.url) as space:
        for label, value in refused:
            with pytest.raises(ChatRequestError, match=label):
                await space.complete([user("hi")], options={label: value})


async def test_thoughts_stream_apart_from_the_answer(app: App) -> None:
    async with SpaceClient(app.replica.url) as space:
        events = [event async for event in space.events([user("why")])]
        completion = await space.complete([user("why")])
    answer = "".join(e.text for e in events if isinstance(e, TextDelta))
    thoughts = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    final = events[-1]
    assert isinstance(final, Completed)
    assert answer == final.text == app.expected("why")
    if app.name == "thinking_blocks":
        expected_thought = f"alpha-1 is thinking about {show('why')}."
        assert thoughts == expected_thought
        assert completion.reasoning == expected_thought
        assert all(e.title == "Thinking" for e in events if isinstance(e, ReasoningDelta))
    else:
        assert thoughts == ""
        assert completion.reasoning == ""
    assert completion.text == app.expected("why")


async def test_leaving_early_cancels_the_job(app: App) -> None:
    marker = f"early-{app.name}"
    async with SpaceClient(app.replica.url) as space:
        stream = space.chat([user(f"go !tokens=400 !delay=0.02 !id={marker}")])
        async with contextlib.aclosing(stream):
            async for _ in stream:
                break
    stopped = await asyncio.to_thread(app.replica.generation_stopped, marker, of=400)
    assert stopped
