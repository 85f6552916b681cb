"""The provider through gpt4free's own entry points, as a gpt4free user calls it."""

import asyncio
import hashlib
import json
from importlib.metadata import version
from typing import Any

import aiohttp
import g4f
import pytest
from g4f.client import AsyncClient, Client
from g4f.errors import ModelNotFoundError
from g4f.providers.response import ImageResponse
from qwen_space.client import Qwen_Qwen_2_5_Max as CoreProvider
from qwen_space.client import UsageError
from qwen_space.client.g4f import Qwen_Qwen_2_5_Max, provider_for
from qwen_space.protocol import QwenSpaceError
from qwen_space.protocol.errors import AppError

from ..live.conftest import replica_app
from ..replicas.scripted import png_for
from .conftest import Replica


def answer(tokens: int) -> str:
    return "".join(f"tok{j} " for j in range(tokens))


def ask(prompt: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": prompt}]


def mirror(replica: Replica) -> type[Qwen_Qwen_2_5_Max]:
    class Mirror(Qwen_Qwen_2_5_Max):
        url = replica.url

    return Mirror


def test_it_is_a_gpt4free_provider_with_the_originals_attributes() -> None:
    from g4f.providers.base_provider import AsyncGeneratorProvider, ProviderModelMixin

    print(f"\ngpt4free {version('g4f')}")
    assert issubclass(Qwen_Qwen_2_5_Max, AsyncGeneratorProvider)
    assert issubclass(Qwen_Qwen_2_5_Max, ProviderModelMixin)
    assert Qwen_Qwen_2_5_Max.get_dict() == {
        "name": "Qwen_Qwen_2_5_Max",
        "url": "https://qwen-qwen2-5-max-demo.hf.space",
        "label": "Qwen Qwen-2.5-Max",
    }
    assert Qwen_Qwen_2_5_Max.api_endpoint == "https://qwen-qwen2-5-max-demo.hf.space/gradio_api/queue/join?"
    assert (Qwen_Qwen_2_5_Max.working, Qwen_Qwen_2_5_Max.supports_stream) == (True, True)
    assert Qwen_Qwen_2_5_Max.default_model == "qwen-qwen2-5-max"
    assert Qwen_Qwen_2_5_Max.get_model("qwen-2.5-max") == "qwen-qwen2-5-max"


async def test_async_client_whole_and_streamed(replica: Replica) -> None:
    client = AsyncClient(provider=mirror(replica))
    whole = await client.chat.completions.create(model="qwen-2.5-max", messages=ask("!tokens=5"))
    assert whole.choices[0].message.content == answer(5)
    chunks = [
        chunk.choices[0].delta.content
        async for chunk in client.chat.completions.create(
            model="qwen-2.5-max", messages=ask("!tokens=12 !delay=0.05"), stream=True
        )
    ]
    texts = [text for text in chunks if text]
    assert "".join(texts) == answer(12)
    assert len(texts) >= 6  # streamed as generated, not in one piece


def test_sync_client_whole_and_streamed(replica: Replica) -> None:
    client = Client(provider=mirror(replica))
    whole = client.chat.completions.create(model="qwen-2.5-max", messages=ask("!tokens=4"))
    assert whole.choices[0].message.content == answer(4)
    stream = client.chat.completions.create(model="", messages=ask("!tokens=6 !delay=0.05"), stream=True)
    texts = [chunk.choices[0].delta.content for chunk in stream if chunk.choices[0].delta.content]
    assert "".join(texts) == answer(6)
    assert len(texts) >= 3


async def test_chat_completion_create_async(replica: Replica) -> None:
    provider = mirror(replica)
    text = await g4f.ChatCompletion.create_async(model="qwen-2.5-max", messages=ask("!tokens=3"), provider=provider)
    assert text == answer(3)
    stream = g4f.ChatCompletion.create_async(
        model="qwen-2.5-max", messages=ask("!tokens=3"), provider=provider, stream=True
    )
    assert "".join([chunk async for chunk in stream if isinstance(chunk, str)]) == answer(3)


async def test_setting_url_on_the_class_retargets(replica: Replica, monkeypatch: pytest.MonkeyPatch) -> None:
    for provider in (Qwen_Qwen_2_5_Max, CoreProvider):
        monkeypatch.setattr(provider, "url", replica.url)
        reply = await AsyncClient(provider=Qwen_Qwen_2_5_Max).chat.completions.create(
            model="qwen-2.5-max", messages=ask("!tokens=2")
        )
        assert reply.choices[0].message.content == answer(2)
        monkeypatch.undo()


async def test_history_and_system_reach_the_space(replica: Replica) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "u1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "!echo"},
    ]
    reply = await AsyncClient(provider=mirror(replica)).chat.completions.create(model="", messages=messages)
    seen = json.loads(reply.choices[0].message.content)
    assert seen == {"query": "!echo", "history": [["u1", "a1"]], "system": "Be brief."}


async def test_the_spaces_errors_raise_never_an_empty_answer(replica: Replica) -> None:
    client = AsyncClient(provider=mirror(replica))
    with pytest.raises(AppError, match="hides its message"):
        await client.chat.completions.create(model="qwen-2.5-max", messages=ask("!fail0"))
    received: list[str] = []
    with pytest.raises(AppError) as caught:
        async for chunk in client.chat.completions.create(
            model="qwen-2.5-max", messages=ask("!grerror !delay=0"), stream=True
        ):
            received.append(chunk.choices[0].delta.content or "")
    assert caught.value.space_message == "DashScope said no"
    assert "".join(received) == caught.value.partial_text == answer(2)


def test_the_sync_path_raises_too(replica: Replica) -> None:
    with pytest.raises(AppError):
        g4f.ChatCompletion.create(model="qwen-2.5-max", messages=ask("!fail !delay=0"), provider=mirror(replica))


async def test_an_unknown_model_is_gpt4frees_error_and_ours(replica: Replica) -> None:
    with pytest.raises(ModelNotFoundError) as caught:
        await AsyncClient(provider=mirror(replica)).chat.completions.create(model="gpt-4o", messages=ask("hi"))
    assert isinstance(caught.value, QwenSpaceError)


IMAGE = "data:image/png;base64,iVBORw0KGgo="


@pytest.mark.parametrize("kind", ["original", "provider_for"])
@pytest.mark.parametrize("files", [{"image": IMAGE}, {"images": [(IMAGE, "a.png")]}, {"media": [(IMAGE, "a.png")]}])
async def test_files_for_a_space_without_file_inputs_are_refused(
    replica: Replica, kind: str, files: dict[str, Any]
) -> None:
    # The files go to the client as content parts, whichever argument holds them (a
    # direct call once passed image= through unread); the replica takes text only, so
    # the client refuses them before the queue: the question is never answered without them.
    provider = mirror(replica) if kind == "original" else provider_for(replica.url)
    with pytest.raises(UsageError):
        async for _ in provider.create_async_generator("", ask("what is in it?"), **files):
            pass
    with pytest.raises(UsageError):
        await AsyncClient(provider=provider).chat.completions.create(model="", messages=ask("and now?"), image=IMAGE)


# Need the client's upload and FileReply event (issue 25's client side, another branch).
async def test_media_reach_a_multimodal_space_byte_for_byte() -> None:
    image = png_for("a g4f image")
    document = b"%PDF-1.4 a g4f document"
    with replica_app("chat_multimodal") as replica:
        reply = await AsyncClient(provider=provider_for(replica.url)).chat.completions.create(
            model="", messages=ask("look"), media=[(image.read_bytes(), "cat.png"), (document, "a.pdf")]
        )
    content = reply.choices[0].message.content
    for name, data in (("cat.png", image.read_bytes()), ("a.pdf", document)):
        assert f"{name} ({len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:12]})" in content


async def test_an_image_reply_is_gpt4frees_image_response() -> None:
    with replica_app("image_answer") as replica:
        provider = provider_for(replica.url)
        pieces = [piece async for piece in provider.create_async_generator("", ask("draw"))]
        images = [piece for piece in pieces if isinstance(piece, ImageResponse)]
        assert len(images) == 1
        async with aiohttp.ClientSession() as session, session.get(images[0].get_list()[0]) as served:
            assert await served.read() == png_for("draw").read_bytes()
    assert images[0].alt.endswith(".png")


async def test_leaving_a_stream_cancels_the_job(replica: Replica) -> None:
    stream = AsyncClient(provider=mirror(replica)).chat.completions.create(
        model="qwen-2.5-max", messages=ask("!tokens=200 !delay=0.05 !id=g4fbreak"), stream=True
    )
    async for _ in stream:
        break
    await stream.aclose()
    # Polled on a thread: the clean-up runs on this test's loop.
    assert await asyncio.to_thread(replica.generation_stopped, "g4fbreak", of=200)


def test_the_public_module_exports_what_the_provider_module_does() -> None:
    import qwen_space.client.g4f as shim
    from qwen_space.client.ways_in import g4f

    assert set(shim.__all__) == set(g4f.__all__)
    assert all(getattr(shim, name) is getattr(g4f, name) for name in shim.__all__)
