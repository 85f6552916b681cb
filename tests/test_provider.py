"""The original provider's surface, against a loopback server."""

import io
import os
from base64 import b64encode
from pathlib import Path
from typing import Any

import pytest
from qwen_space.client import DEFAULT_MAX_UPLOAD_SIZE, Messages, Qwen_Qwen_2_5_Max, UsageError
from qwen_space.client.errors import FileTooLargeError, InvalidMessagesError
from qwen_space.client.ways_in.original import AsyncResult, format_prompt, generate_session_hash
from qwen_space.client.ways_in.routing import with_media
from qwen_space.protocol.errors import AppError

from .fake_space import CLOSE_STREAM, EVENT_ID, FakeSpace, Lockstep, chat_body, script, sse
from .support import HELLO, provider_for


def test_original_attributes() -> None:
    p = Qwen_Qwen_2_5_Max
    assert p.label == "Qwen Qwen-2.5-Max"
    assert p.url == "https://qwen-qwen2-5-max-demo.hf.space"
    assert p.api_endpoint == "https://qwen-qwen2-5-max-demo.hf.space/gradio_api/queue/join?"
    assert (p.working, p.supports_stream, p.supports_system_message, p.supports_message_history) == (
        True,
        True,
        True,
        True,
    )
    assert p.default_model == "qwen-qwen2-5-max"
    assert p.models == ["qwen-2.5-max", "qwen-2-5-max"]
    assert p.get_model("qwen-2-5-max") == p.get_model("qwen-2.5-max") == p.get_model("") == "qwen-qwen2-5-max"


def test_unknown_model_lists_the_known_ones() -> None:
    with pytest.raises(InvalidMessagesError, match=r"unknown model 'gpt-4'.*qwen-2\.5-max"):
        Qwen_Qwen_2_5_Max.create_async_generator("gpt-4", [{"role": "user", "content": "hi"}])


def test_gpt4free_files_become_the_last_user_messages_content_parts(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(8))
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4 body")
    data_url = "data:image/jpeg;base64,/9j/4AAQ"
    messages: list[dict[str, Any]] = [{"role": "system", "content": "s"}, {"role": "user", "content": "what?"}]
    given = {"media": [(png, None), (str(pdf), None), (data_url, "x.jpg"), (io.BytesIO(b"plain"), "notes.txt")]}
    sent = with_media("P", messages, given)
    assert isinstance(sent, list)
    assert sent[0] == messages[0]
    parts = sent[1]["content"]
    assert parts[0] == {"type": "text", "text": "what?"}
    assert parts[1] == {"type": "image_url", "image_url": {"url": "data:image/png;base64," + b64encode(png).decode()}}
    assert parts[2] == {
        "type": "file",
        "file": {
            "file_data": "data:application/pdf;base64," + b64encode(b"%PDF-1.4 body").decode(),
            "filename": "report.pdf",
        },
    }
    # A named image goes as a file part: an image_url part would lose its name.
    assert parts[3] == {"type": "file", "file": {"file_data": data_url, "filename": "x.jpg"}}
    assert parts[4]["file"]["filename"] == "notes.txt"
    # image= (a direct call's, which gpt4free's clients turn into media) with its image_name.
    (_, single) = with_media("P", messages, {"image": Path(pdf), "image_name": "r.pdf"})[1]["content"]  # type: ignore[index]
    assert single["file"]["filename"] == "r.pdf"
    assert with_media("P", messages, {"media": []}) is messages


@pytest.mark.parametrize(
    ("value", "said"),
    [("https://example.com/a.png", "does not fetch URLs"), (3.5, "cannot send media= of type float")],
)
def test_gpt4free_files_it_cannot_send_are_refused_before_anything_is_sent(value: object, said: str) -> None:
    with pytest.raises(InvalidMessagesError, match=said):
        Qwen_Qwen_2_5_Max.create_async_generator("", [{"role": "user", "content": "hi"}], media=[(value, None)])


def test_generate_session_hash() -> None:
    value = generate_session_hash()
    assert len(value) == 12
    assert set(value) <= set("0123456789abcdef")


def test_format_prompt_matches_gpt4free() -> None:
    assert format_prompt([{"role": "user", "content": "Hi"}]) == "Hi"
    conversation: Messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "   "},
        {"role": "user", "content": "2+2?"},
    ]
    assert format_prompt(conversation) == "User: Hi\nAssistant: Hello!\nUser: 2+2?\nAssistant:"
    assert format_prompt(conversation, do_continue=True) == "User: Hi\nAssistant: Hello!\nUser: 2+2?"
    with pytest.raises(InvalidMessagesError):
        format_prompt([])


def test_api_endpoint_override_retargets() -> None:
    class Mirror(Qwen_Qwen_2_5_Max):
        api_endpoint = "https://mirror.example/gradio_api/queue/join?"

    class Old(Qwen_Qwen_2_5_Max):
        api_endpoint = "https://old.example/queue/join?"

    assert Mirror.space_url() == "https://mirror.example"
    assert Old.space_url() == "https://old.example"


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("attribute", ["url", "api_endpoint"])
async def test_setting_the_class_attribute_retargets(
    fake_space: FakeSpace, monkeypatch: pytest.MonkeyPatch, attribute: str
) -> None:
    # The original's idiom: gpt4free code points a provider at a mirror by assignment.
    value = fake_space.url if attribute == "url" else f"{fake_space.url}/gradio_api/queue/join?"
    monkeypatch.setattr(Qwen_Qwen_2_5_Max, attribute, value)
    fake_space.stream = script(*chat_body("hi", ["Hel", "lo"]))
    hi: Messages = [{"role": "user", "content": "hi"}]
    assert "".join([c async for c in Qwen_Qwen_2_5_Max.create_async_generator("", hi)]) == "Hello"
    assert len(fake_space.join_bodies) == 1


def test_an_explicit_address_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QWEN_SPACE_URL", "http://127.0.0.1:9")
    assert Qwen_Qwen_2_5_Max.space_url() == "http://127.0.0.1:9"

    class Real(Qwen_Qwen_2_5_Max):
        url = "https://qwen-qwen2-5-max-demo.hf.space"

    class Endpoint(Qwen_Qwen_2_5_Max):
        api_endpoint = "https://qwen-qwen2-5-max-demo.hf.space/gradio_api/queue/join?"

    class Nearest(Endpoint):
        api_endpoint = "http://nearest.example/queue/join"

    assert Real.space_url() == Endpoint.space_url() == "https://qwen-qwen2-5-max-demo.hf.space"
    assert Nearest.space_url() == "http://nearest.example"
    monkeypatch.setattr(Qwen_Qwen_2_5_Max, "url", "http://assigned.example/")
    assert Qwen_Qwen_2_5_Max.space_url() == "http://assigned.example"
    # The most derived definition wins over one set on a base class.
    assert Nearest.space_url() == "http://nearest.example"


def test_an_api_endpoint_without_a_join_path_is_refused() -> None:
    class Odd(Qwen_Qwen_2_5_Max):
        api_endpoint = "https://mirror.example/run/predict"

    with pytest.raises(UsageError, match="api_endpoint"):
        Odd.space_url()


async def test_gpt4free_idiom_streams_deltas(fake_space: FakeSpace) -> None:
    lock = Lockstep("hi", ["Hel", "lo", "!"])
    fake_space.stream = lock.script()
    async for chunk in provider_for(fake_space).create_async_generator("qwen-2.5-max", HELLO):
        assert isinstance(chunk, str)
        lock.received(chunk)  # each piece reaches us as the next one is written
    lock.check()


async def test_original_usage_example_idiom(fake_space: FakeSpace) -> None:
    lock = Lockstep("hi", ["Hel", "lo"])
    fake_space.stream = lock.script()
    provider = provider_for(fake_space)()
    async_result = await provider.create_async_generator(model="qwen-2-5-max", messages=HELLO)
    assert isinstance(async_result, AsyncResult)
    async for chunk in async_result.response:
        assert isinstance(chunk, str)
        lock.received(chunk)
    lock.check()


async def test_history_and_system_are_sent_natively(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("q", ["ok"]))
    messages: Messages = [
        {"role": "system", "content": "S1"},
        {"role": "system", "content": "S2"},
        {"role": "user", "content": "u"},
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": "q"},
    ]
    [_ async for _ in provider_for(fake_space).create_async_generator("", messages)]
    assert fake_space.join_bodies[0]["data"] == ["q", [["u", "a"]], "S1\nS2"]


async def test_flattened_prompt_mode(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("q", ["ok"]))
    messages: Messages = [
        {"role": "user", "content": "u"},
        {"role": "assistant", "content": "a"},
        {"role": "user", "content": "q"},
    ]
    [_ async for _ in provider_for(fake_space).create_async_generator("", messages, flatten_history=True)]
    assert fake_space.join_bodies[0]["data"] == [
        "User: u\nAssistant: a\nUser: q\nAssistant:",
        [],
        "You are a helpful assistant.",
    ]


async def test_an_error_is_never_an_empty_reply(fake_space: FakeSpace) -> None:
    failure = sse(
        {
            "msg": "process_completed",
            "event_id": EVENT_ID,
            "output": {"error": None},
            "success": False,
            "title": "Error",
        }
    )
    fake_space.stream = script(failure, CLOSE_STREAM)
    with pytest.raises(AppError):
        [_ async for _ in provider_for(fake_space).create_async_generator("", [{"role": "user", "content": "hi"}])]


async def test_proxy_is_honoured(fake_space: FakeSpace) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    seen: list[str] = []

    async def forward(request: web.Request) -> web.Response:
        # An HTTP proxy receives absolute URLs; this one only records them and fails.
        seen.append(str(request.url))
        return web.Response(status=502, text="proxy says no")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", forward)
    proxy = TestServer(app, host="127.0.0.1")
    await proxy.start_server()
    try:
        from qwen_space.protocol.errors import SpaceUnavailableError

        with pytest.raises(SpaceUnavailableError):
            [
                _
                async for _ in provider_for(fake_space).create_async_generator(
                    "", [{"role": "user", "content": "hi"}], proxy=str(proxy.make_url(""))
                )
            ]
    finally:
        await proxy.close()
    assert seen
    assert seen[0].endswith("/config")


def test_gpt4free_media_paths_are_checked_before_they_are_read(tmp_path: Path) -> None:
    """A path given as media= is a regular file within the upload cap, checked before a byte
    is read: a file over the cap is refused naming the cap and what raises it, a FIFO (whose
    read would wait for a writer forever) as not a regular file."""
    messages = [{"role": "user", "content": "hi"}]
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:  # sparse: over the cap on no disk
        handle.truncate(DEFAULT_MAX_UPLOAD_SIZE + 1)
    with pytest.raises(FileTooLargeError, match=r"104,857,600-byte cap.*SpaceClient\(max_upload_size=") as caught:
        with_media("P", messages, {"media": [(str(big), None)]})
    assert (caught.value.size, caught.value.limit) == (DEFAULT_MAX_UPLOAD_SIZE + 1, DEFAULT_MAX_UPLOAD_SIZE)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(InvalidMessagesError, match=r"P cannot read media=: .*not a regular file"):
        with_media("P", messages, {"media": [(fifo, None)]})
    with pytest.raises(InvalidMessagesError, match="P cannot read images=: cannot read the file"):
        with_media("P", messages, {"images": [(tmp_path / "missing.png", None)]})
