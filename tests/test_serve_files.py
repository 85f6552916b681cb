"""``serve`` and files (issue 25): content parts checked and passed on, the client's file
refusals as OpenAI's 400s, files of the reply as Markdown links. A fake client object
stands in for :class:`SpaceClient`, scripting its events (``FileReply`` among them);
tests/live/test_live_serve_files.py runs the same through real Gradio apps."""

import base64
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, cast

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from qwen_space.client import UsageError
from qwen_space.client.errors import FileTooLargeError, InvalidMessagesError, LocalProtocolError
from qwen_space.client.ways_in.routing import file_markdown
from qwen_space.client.ways_in.serve import app as serve_app
from qwen_space.client.ways_in.serve.wire import Refusal, parse_request
from qwen_space.protocol import ChatEvent, Completed, FileReply, TextDelta
from qwen_space.protocol import ReplyFile as SpaceFile
from qwen_space.protocol._chat_contract import HistoryMode, InputRole

from .serving import async_openai, serving

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n not really").decode()
IMAGE_PART = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
FILE_PART = {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}}


@dataclass(frozen=True)
class ReplyFile:
    url: str
    name: str
    mime_type: str | None
    size: int | None = None


@dataclass
class Reply:
    text: str
    reasoning: str = ""
    files: list[SpaceFile] = field(default_factory=list)


@dataclass(frozen=True)
class Slot:
    role: InputRole


@dataclass(frozen=True)
class Contract:
    inputs: tuple[Slot, ...] = (Slot(InputRole.MESSAGE), Slot(InputRole.SYSTEM))
    history: HistoryMode = HistoryMode.REQUEST


class FakeClient:
    """The client API serve uses, as the files branch gives it: messages pass with their
    content parts; the reply's files come as ``FileReply`` events and on the completion."""

    asked: ClassVar[list[Sequence[Mapping[str, Any]]]] = []
    script: ClassVar[list[Any]] = []
    refuse: ClassVar[Exception | None] = None

    def __init__(self, target: str | None, **settings: Any) -> None:
        self.target = target

    async def contract(self) -> Contract:
        return Contract()

    async def complete(self, messages: Sequence[Mapping[str, Any]], **options: Any) -> Reply:
        FakeClient.asked.append(messages)
        if self.refuse is not None:
            raise self.refuse
        text = "".join(event.text for event in self.script if isinstance(event, TextDelta))
        return Reply(text, files=[event.file for event in self.script if isinstance(event, FileReply)])

    async def events(self, messages: Sequence[Mapping[str, Any]], **options: Any) -> AsyncIterator[ChatEvent]:
        FakeClient.asked.append(messages)
        if self.refuse is not None:
            raise self.refuse
        for event in self.script:
            yield event

    async def aclose(self) -> None:
        pass


@pytest.fixture
def fake_client(monkeypatch: pytest.MonkeyPatch) -> type[FakeClient]:
    monkeypatch.setattr(serve_app, "SpaceClient", FakeClient)
    monkeypatch.setattr(FakeClient, "asked", [])
    monkeypatch.setattr(FakeClient, "refuse", None)
    return FakeClient


def ask(*parts: Mapping[str, Any]) -> list[ChatCompletionMessageParam]:
    message = {"role": "user", "content": [{"type": "text", "text": "What is this?"}, *parts]}
    return [cast("ChatCompletionMessageParam", message)]


def test_markdown_links_escape_what_would_break_them() -> None:
    image = ReplyFile("https://o-s.hf.space/gradio_api/file=/tmp/a b(1).png", "cat [1].png", "image/png")
    other = ReplyFile("https://o-s.hf.space/file=/x/r.pdf", "report)\nfinal].pdf", None)
    unknown = ReplyFile("https://o-s.hf.space/file=/x/photo.jpg", "photo.jpg", None)
    assert (
        file_markdown(image, False) == r"![cat \[1\].png](https://o-s.hf.space/gradio_api/file=/tmp/a%20b%281%29.png)"
    )
    assert file_markdown(other, True) == "\n\n" + r"[report\) final\].pdf](https://o-s.hf.space/file=/x/r.pdf)"
    # No MIME type: the name says it is an image.
    assert file_markdown(unknown, False).startswith("![photo.jpg](")


def test_data_url_parts_pass_and_other_urls_are_400s() -> None:
    for part in (IMAGE_PART, FILE_PART):
        body = {"model": "m", "messages": [{"role": "user", "content": [part]}]}
        assert parse_request(json.dumps(body).encode()).messages[0]["content"] == [part]
    refusals = [
        ({"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}, "image_url_not_data"),
        ({"type": "file", "file": {"file_id": "file-abc"}}, "file_not_data"),
    ]
    for part, code in refusals:
        with pytest.raises(Refusal) as refused:
            parse_request(json.dumps({"model": "m", "messages": ask(part)}).encode())
        assert (refused.value.status, refused.value.code, refused.value.param) == (400, code, "messages")


async def test_an_http_image_url_is_refused_saying_to_send_a_data_url(fake_client: type[FakeClient]) -> None:
    part = {"type": "image_url", "image_url": {"url": "http://10.0.0.1/cat.png"}}
    async with serving("http://127.0.0.1:9") as base, async_openai(base) as client:
        with pytest.raises(openai.BadRequestError) as refused:
            await client.chat.completions.create(model="127.0.0.1", messages=ask(part))
    body: Any = refused.value.body
    assert body["code"] == "image_url_not_data"
    assert "never fetches URLs from its own network" in body["message"]
    assert "data:image/...;base64" in body["message"]
    assert fake_client.asked == []


@pytest.mark.parametrize("stream", [False, True])
async def test_parts_reach_the_client_and_reply_files_come_back_as_markdown(
    fake_client: type[FakeClient], monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    cat = SpaceFile("https://o-s.hf.space/gradio_api/file=/tmp/cat.png", "cat.png", "image/png", 9)
    pdf = SpaceFile("https://o-s.hf.space/gradio_api/file=/tmp/r.pdf", "r.pdf", "application/pdf", 4)
    monkeypatch.setattr(
        FakeClient, "script", [TextDelta("Here:"), FileReply(cat), FileReply(pdf), Completed("Here:", 0.1)]
    )
    async with serving("http://127.0.0.1:9") as base, async_openai(base) as client:
        if stream:
            chunks = await client.chat.completions.create(
                model="127.0.0.1", messages=ask(IMAGE_PART, FILE_PART), stream=True
            )
            deltas = [chunk.choices[0].delta.content async for chunk in chunks if chunk.choices[0].delta.content]
            content = "".join(deltas)
            # Each file is a content chunk of its own, sent as it arrives.
            assert deltas[1] == f"\n\n![cat.png]({cat.url})"
        else:
            whole = await client.chat.completions.create(model="127.0.0.1", messages=ask(IMAGE_PART, FILE_PART))
            content = whole.choices[0].message.content or ""
    assert content == f"Here:\n\n![cat.png]({cat.url})\n\n[r.pdf]({pdf.url})"
    (sent,) = fake_client.asked
    assert sent[0]["content"][1:] == [IMAGE_PART, FILE_PART]


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (
            InvalidMessagesError("messages[0] has an image_url part with an http URL; send a data URL"),
            "invalid_messages",
        ),
        (UsageError("the file a.pdf is 300 MB, more than the upload cap of 100 MB"), "invalid_request"),
        (FileTooLargeError("the file a.pdf", size=300, limit=100, argument="max_upload_size="), "file_too_large"),
        # Input the protocol cannot carry is the caller's too (a UsageError), not a server error.
        (LocalProtocolError("the message cannot be sent as JSON: a lone surrogate"), "invalid_request"),
    ],
)
async def test_the_clients_refusals_of_files_are_400s(
    fake_client: type[FakeClient], monkeypatch: pytest.MonkeyPatch, error: Exception, code: str
) -> None:
    monkeypatch.setattr(FakeClient, "refuse", error)
    async with serving("http://127.0.0.1:9") as base, async_openai(base) as client:
        for stream in (False, True):
            with pytest.raises(openai.BadRequestError) as refused:
                await client.chat.completions.create(model="127.0.0.1", messages=ask(FILE_PART), stream=stream)
            body: Any = refused.value.body
            assert body["code"] == code
            assert body["param"] == "messages"
