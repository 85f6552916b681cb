"""``qwen-space serve`` with two replica chat Spaces at once (tests/replicas: the Hub's
ChatInterface template and the Qwen3-shaped Blocks app with a model dropdown and
thoughts), driven by the official openai SDK against real Gradio servers.

The scripted models answer with what they received, so each test compares exact
texts: the system prompt and every option as the app saw them.
"""

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from ..replicas.scripted import describe
from ..serving import async_openai, serving
from .conftest import replica_app


@pytest.fixture(scope="module")
def spaces() -> Iterator[dict[str, str]]:
    """The two replicas, by the aliases the server gives them."""
    with replica_app("hub_template") as hub, replica_app("thinking_blocks") as think:
        yield {"hub": hub.url, "think": think.url}


@asynccontextmanager
async def serving_spaces(spaces: dict[str, str]) -> AsyncIterator[openai.AsyncOpenAI]:
    async with serving(spaces=spaces) as base, async_openai(base) as client:
        yield client


def ask(text: str, system: str | None = None) -> list[ChatCompletionMessageParam]:
    if system is None:
        return [{"role": "user", "content": text}]
    return [{"role": "system", "content": system}, {"role": "user", "content": text}]


def hub_answer(message: str, *, system: str, max_tokens: int, temperature: float, top_p: float) -> str:
    options = [("Max new tokens", max_tokens), ("Temperature", temperature), ("Top-p (nucleus sampling)", top_p)]
    return describe(message, [], system=("System message", system), options=options)


def think_answer(message: str, model: str) -> str:
    return describe(message, [], options=[("Model", model)])


async def test_models_list_every_alias_and_dropdown_choice(spaces: dict[str, str]) -> None:
    async with serving_spaces(spaces) as client:
        models = await client.models.list()
    assert [model.id for model in models.data] == ["hub", "think", "think/alpha-1", "think/beta-2"]


async def test_both_spaces_at_once_with_options_from_openais_parameters(spaces: dict[str, str]) -> None:
    async with serving_spaces(spaces) as client:
        hub, think = await asyncio.gather(
            client.chat.completions.create(
                model="hub", messages=ask("hi", "Be brief."), temperature=0.2, top_p=0.5, max_tokens=64
            ),
            client.chat.completions.create(model="think/beta-2", messages=ask("hello"), temperature=0.2),
        )
    assert hub.choices[0].message.content == hub_answer(
        "hi", system="Be brief.", max_tokens=64, temperature=0.2, top_p=0.5
    )
    # The Blocks app has no temperature input: the parameter is ignored; the model id sets its dropdown.
    assert think.choices[0].message.content == think_answer("hello", "beta-2")
    assert think.model == "think/beta-2"


async def test_defaults_and_a_token_limit_above_the_spaces_maximum(spaces: dict[str, str]) -> None:
    async with serving_spaces(spaces) as client:
        plain = await client.chat.completions.create(model="hub", messages=ask("one"))
        newer = await client.chat.completions.create(model="hub", messages=ask("two"), max_completion_tokens=100_000)
        default_model = await client.chat.completions.create(model="think", messages=ask("three"))
    friendly = "You are a friendly Chatbot."
    assert plain.choices[0].message.content == hub_answer(
        "one", system=friendly, max_tokens=512, temperature=0.7, top_p=0.95
    )
    assert newer.choices[0].message.content == hub_answer(
        "two", system=friendly, max_tokens=2048, temperature=0.7, top_p=0.95
    )
    assert default_model.choices[0].message.content == think_answer("three", "alpha-1")


async def test_reasoning_content_streamed_and_whole_never_in_the_content(spaces: dict[str, str]) -> None:
    async with serving_spaces(spaces) as client:
        whole = await client.chat.completions.create(model="think/alpha-1", messages=ask("hi"))
        stream = await client.chat.completions.create(model="think/beta-2", messages=ask("hi"), stream=True)
        chunks = [chunk async for chunk in stream]
    message = whole.choices[0].message
    assert message.content == think_answer("hi", "alpha-1")
    assert (message.model_extra or {})["reasoning_content"] == 'alpha-1 is thinking about "hi".'
    deltas = [chunk.choices[0].delta for chunk in chunks]
    thoughts = [(d.model_extra or {}).get("reasoning_content") for d in deltas]
    assert "".join(t for t in thoughts if t) == 'beta-2 is thinking about "hi".'
    assert len([t for t in thoughts if t]) > 1  # streamed as the Space streams it
    assert "".join(d.content or "" for d in deltas) == think_answer("hi", "beta-2")
    assert all(not (d.content and (d.model_extra or {}).get("reasoning_content")) for d in deltas)
    assert deltas[0].role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"


async def test_what_a_space_cannot_take_is_a_400_naming_it_and_a_system_message_folds(spaces: dict[str, str]) -> None:
    async with serving_spaces(spaces) as client:
        with pytest.raises(openai.BadRequestError) as below:
            await client.chat.completions.create(model="hub", messages=ask("hi"), temperature=0.0)
        # No system input: the system message is folded into the first user turn (docs/ways-in.md).
        folded = await client.chat.completions.create(model="think", messages=ask("hi", "Be brief."), stream=True)
        text = "".join([chunk.choices[0].delta.content or "" async for chunk in folded])
        with pytest.raises(openai.NotFoundError) as unknown:
            await client.chat.completions.create(model="think/gamma-3", messages=ask("hi"))
    assert below.value.param == "temperature"
    assert "'Temperature'" in below.value.message
    assert "0.1" in below.value.message  # the Space's range
    assert text == think_answer("Be brief.\n\nhi", "alpha-1")
    assert unknown.value.code == "model_not_found"
    assert "hub, think, think/alpha-1, think/beta-2" in unknown.value.message
