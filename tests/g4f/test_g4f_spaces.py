"""``provider_for``: a gpt4free provider for any chat Space, through gpt4free's own
clients, against replica apps (tests/replicas) under a real Gradio: the Qwen3-shaped
Blocks app with a model dropdown and thoughts, and the Hub's ChatInterface template."""

from collections.abc import Iterator

import pytest
from g4f.client import AsyncClient
from g4f.errors import ModelNotFoundError
from g4f.providers.base_provider import AsyncGeneratorProvider, ProviderModelMixin
from g4f.providers.response import Reasoning
from qwen_space.client import UsageError
from qwen_space.client.g4f import provider_for

from ..live.conftest import replica_app
from ..replicas.scripted import describe

THOUGHT = '{model} is thinking about "hi".'


@pytest.fixture(scope="module")
def apps() -> Iterator[dict[str, str]]:
    with replica_app("thinking_blocks") as thinking, replica_app("hub_template") as hub:
        yield {"thinking_blocks": thinking.url, "hub_template": hub.url}


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def test_a_provider_class_for_any_space() -> None:
    provider = provider_for("Owner/Some-Space.v2")
    assert issubclass(provider, AsyncGeneratorProvider)
    assert issubclass(provider, ProviderModelMixin)
    assert provider.__name__ == "Owner_Some_Space_v2"
    assert (provider.default_model, provider.label) == ("Owner/Some-Space.v2", "Owner/Some-Space.v2")
    assert provider_for("http://127.0.0.1:7860/", name="Local").__name__ == "Local"
    with pytest.raises(UsageError):
        provider_for("not a space")
    with pytest.raises(UsageError):
        provider_for("Owner/Name", name="no spaces")


async def test_models_are_the_dropdowns_choices(apps: dict[str, str]) -> None:
    thinking = provider_for(apps["thinking_blocks"])
    assert thinking.get_models() == [apps["thinking_blocks"], "alpha-1", "beta-2"]
    assert provider_for(apps["hub_template"]).get_models() == [apps["hub_template"]]


async def test_thoughts_are_reasoning_objects_apart_from_the_text(apps: dict[str, str]) -> None:
    provider = provider_for(apps["thinking_blocks"])
    pieces = [piece async for piece in provider.create_async_generator("beta-2", ask("hi"))]
    thoughts = [piece for piece in pieces if isinstance(piece, Reasoning)]
    texts = [piece for piece in pieces if isinstance(piece, str)]
    assert len(thoughts) + len(texts) == len(pieces)
    assert "".join(str(thought) for thought in thoughts) == THOUGHT.format(model="beta-2")
    assert "".join(texts) == describe("hi", [], options=[("Model", "beta-2")])


async def test_gpt4free_client_whole_and_streamed(apps: dict[str, str]) -> None:
    client = AsyncClient(provider=provider_for(apps["thinking_blocks"]))
    whole = await client.chat.completions.create(model="alpha-1", messages=ask("hi"))
    assert whole.choices[0].message.content == describe("hi", [], options=[("Model", "alpha-1")])
    assert whole.choices[0].message.reasoning == THOUGHT.format(model="alpha-1")
    chunks = [
        chunk.choices[0].delta
        async for chunk in client.chat.completions.create(model="", messages=ask("hi"), stream=True)
    ]
    assert "".join(delta.reasoning or "" for delta in chunks) == THOUGHT.format(model="alpha-1")
    assert "".join(delta.content or "" for delta in chunks) == describe("hi", [], options=[("Model", "alpha-1")])
    with pytest.raises(ModelNotFoundError, match="alpha-1, beta-2"):
        await client.chat.completions.create(model="gamma-3", messages=ask("hi"))


async def test_sampling_parameters_and_system_go_to_the_inputs_labelled_so(apps: dict[str, str]) -> None:
    client = AsyncClient(provider=provider_for(apps["hub_template"]))
    reply = await client.chat.completions.create(
        model="",
        messages=[{"role": "system", "content": "Be brief."}, *ask("hi")],
        temperature=0.2,
        top_p=0.5,
        max_tokens=5000,
    )
    options = [("Max new tokens", 2048), ("Temperature", 0.2), ("Top-p (nucleus sampling)", 0.5)]
    assert reply.choices[0].message.content == describe(
        "hi", [], system=("System message", "Be brief."), options=options
    )
