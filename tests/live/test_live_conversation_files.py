"""Issue 25 item 1: a conversation's files are part of its turns.

``chat_multimodal`` (a ``gr.ChatInterface(multimodal=True)``) is served as a launched Space
(it refuses paths it did not hand out); with ``!history-files`` its scripted model also
describes the files of the earlier turns it received, by name, size and sha256 prefix, so
the test proves the earlier turn's exact bytes came back in the history. ``image_answer``
with ``!image-only`` answers with an image and no text, as image generators do.
"""

import asyncio
import hashlib
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from qwen_space.client import SpaceClient

from ..cli import Terminal
from ..replicas.expected import IMAGE_FACTS, IMAGE_PROMPT
from ..replicas.scripted import png_for
from .conftest import App, replica_app

PROMPT = b"you> "


def served(name: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with replica_app(name, tmp_path_factory.mktemp(name) / "events.log") as replica:
        yield App(name, replica)


@pytest.fixture(scope="module")
def multimodal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from served("chat_multimodal", tmp_path_factory)


@pytest.fixture(scope="module")
def image_answer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from served("image_answer", tmp_path_factory)


async def test_a_file_only_turn_and_its_file_replayed_in_the_next(multimodal: App, tmp_path: Path) -> None:
    picture = tmp_path / "cat.png"
    picture.write_bytes(png_for(IMAGE_PROMPT).read_bytes())
    async with SpaceClient(multimodal.replica.url) as space:
        chat = space.conversation()
        first = await chat.send("", files=[picture])
        second = await chat.send("and now? !history-files")
    assert first == f'Message: "". Earlier turns: 0. Files received: ["{IMAGE_FACTS}"].'
    assert [t.user for t in chat.turns] == ["", "and now? !history-files"]
    assert [[f.name for f in sent] for sent in chat.sent_files] == [[picture.name], []]
    assert second == (
        f'Message: "and now? !history-files". Earlier turns: 1, the last: "" -> {_quoted(first)}. '
        f'Files received: none. Earlier Files received: ["{IMAGE_FACTS}"].'
    )


async def test_without_files_the_history_holds_none(multimodal: App) -> None:
    async with SpaceClient(multimodal.replica.url) as space:
        chat = space.conversation()
        await chat.send("hello")
        second = await chat.send("again !history-files")
    assert second.endswith("Earlier Files received: none.")


async def test_a_reply_that_is_only_a_file_is_a_turn(image_answer: App) -> None:
    prompt = "draw !image-only"
    async with SpaceClient(image_answer.replica.url) as space:
        once = await space.complete(prompt)  # as a one-shot completion is
        assert (once.text, len(once.files)) == ("", 1)
        chat = space.conversation()
        text = await chat.send(prompt)
        [[file]] = chat.reply_files
        assert await space.download(file) == png_for(prompt).read_bytes()
        after = await chat.send("thanks")
    assert text == ""
    assert len(chat.turns) == 2
    assert chat.turns[0].assistant == ""
    assert after.startswith('Message: "thanks". Earlier turns: 1')


def _quoted(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


async def test_the_interactive_chat_saves_or_shows_reply_files(image_answer: App, tmp_path: Path) -> None:
    """A reply of an image alone is a turn of the interactive chat too: its file is saved
    with --save-files (the path on stderr), else its URL is shown, and the chat goes on."""
    prompt = "draw !image-only"
    out = tmp_path / "out"
    with Terminal("chat", "--url", image_answer.replica.url, "--save-files", str(out), timeout=60) as term:
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(f"{prompt}\n".encode())
        saved = await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"thanks\n")
        after = await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"\n")
        code, screen = await asyncio.to_thread(term.finish)
    assert code == 0, screen
    # Both replies have an image (the second's after its text): each saved, none overwritten.
    [path] = [p for p in out.iterdir() if p.read_bytes() == png_for(prompt).read_bytes()]
    assert len(list(out.iterdir())) == 2
    assert f"saved {path.name}: {path}".encode() in saved
    assert b'Message: "thanks". Earlier turns: 1' in after
    with Terminal("chat", "--url", image_answer.replica.url, timeout=60) as term:
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(f"{prompt}\n".encode())
        shown = await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"\n")
        code, screen = await asyncio.to_thread(term.finish)
    assert code == 0, screen
    assert f"(image/png): {image_answer.replica.url}".encode() in shown


#: The history a browser's Chatbot holds (and its app's function receives) after a turn of
#: a file alone, then a turn of a file and text, by release:
#: 4.44 ``ChatInterface._append_multimodal_history`` and 5.50 ``_message_as_message_dict``
#: append one message per file, then the text even if empty; 6.31's ChatInterface puts the
#: files and the text in one message and drops empty text (``if msg["text"]``); the
#: ``chatbot_multimodal`` demo's ``add_message`` keeps it on every release (``is not None``),
#: in one message from 6.0 on.
BROWSER_HISTORY = {
    ("chat_multimodal", 6): "user[file] assistant[text] user[file,text] assistant[text]",
    ("blocks_multimodal", 6): "user[file,empty] assistant[text] user[file,text] assistant[text]",
}
BEFORE_6 = "user[file] user[empty] assistant[text] user[file] user[text] assistant[text]"


@pytest.fixture(scope="module", params=["chat_multimodal", "blocks_multimodal"])
def multimodal_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from served(request.param, tmp_path_factory)


async def test_the_app_receives_the_history_a_browser_sends(multimodal_app: App, tmp_path: Path) -> None:
    picture = tmp_path / "cat.png"
    picture.write_bytes(png_for(IMAGE_PROMPT).read_bytes())
    async with SpaceClient(multimodal_app.replica.url) as space:
        chat = space.conversation()
        await chat.send("", files=[picture])
        await chat.send("with text", files=[picture])
        answer = await chat.send("!history-shape")
    major = int(multimodal_app.replica.gradio_version.split(".")[0])
    assert f"History: {BROWSER_HISTORY.get((multimodal_app.name, major), BEFORE_6)}." in answer


async def test_a_reply_file_goes_back_as_the_space_handed_it_out(image_answer: App) -> None:
    """The earlier replies' images are replayed after their text (none for an image alone),
    as the Space's own FileData: the launched app accepts them (its cache) and its model
    reads the very bytes it drew."""
    drawn = [png_for(p).read_bytes() for p in ("draw !image-only", "more")]
    async with SpaceClient(image_answer.replica.url) as space:
        chat = space.conversation()
        await chat.send("draw !image-only")
        await chat.send("more")
        answer = await chat.send("!history-shape !history-files")
    assert "History: user[text] assistant[file] user[text] assistant[text] assistant[file]." in answer
    facts = answer.split("Earlier Files received: ", 1)[1]
    assert [len(d) for d in drawn] == [int(n) for n in re.findall(r"\((\d+) bytes", facts)]
    for data in drawn:
        assert f"sha256 {hashlib.sha256(data).hexdigest()[:12]}" in facts


async def test_an_image_output_beside_the_chatbot_is_not_replayed(tmp_path_factory: pytest.TempPathFactory) -> None:
    """``chat_with_image_output`` fills a gr.Image beside the Chatbot: the reply's file, but
    not in the browser's Chatbot, so not in the next turn's history."""
    for app in served("chat_with_image_output", tmp_path_factory):
        async with SpaceClient(app.replica.url) as space:
            chat = space.conversation()
            await chat.send("draw")
            answer = await chat.send("!history-shape")
        assert len(chat.reply_files[0]) == 1
        assert "History: user[text] assistant[text]." in answer


async def test_the_demo_chain_answers_our_replayed_history_as_the_browsers(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """``chatbot_multimodal`` run as the browser runs it (upload, ``add_message``, ``bot``,
    and for the next turn the Chatbot value the Space output, sent back as it is), beside a
    conversation of this client replaying that turn: the app answers both next turns with
    the same text, history shape (``!history-shape``) and files included."""
    picture = png_for(IMAGE_PROMPT).read_bytes()
    for app in served("blocks_multimodal", tmp_path_factory):
        base = app.replica.url
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/config") as answer:
                tab = _BrowserTab(http, base, await answer.json())
            file = await tab.upload(picture, "cat.png", "image/png")
            chatbot, _ = await tab.run("add_message", [[], {"text": "", "files": [file]}])
            [chatbot] = await tab.run("bot_response", [chatbot])
            chatbot, _ = await tab.run("add_message", [chatbot, {"text": "!history-shape", "files": []}])
            [chatbot] = await tab.run("bot_response", [chatbot])
            browser = chatbot[-1]["content"]
        picture_path = tmp_path_factory.mktemp("picture") / "cat.png"
        picture_path.write_bytes(picture)
        async with SpaceClient(base) as space:
            chat = space.conversation()
            await chat.send("", files=[picture_path])
            ours = await chat.send("!history-shape")
        assert "History: user[file" in ours
        assert ours == _text(browser)


class _BrowserTab:
    """One browser tab of an app: every event on one session, a ``queue=False`` event by
    ``run/predict``, a queued one by ``queue/join`` and ``queue/data``, States sent as null
    (the server keeps them in the session), as Gradio's front end runs them."""

    def __init__(self, http: aiohttp.ClientSession, base: str, config: dict[str, Any]) -> None:
        self.http, self.base, self.config = http, base, config
        self.prefix = config.get("api_prefix") or ""
        self.session = secrets.token_hex(6)

    async def upload(self, data: bytes, name: str, mime_type: str) -> dict[str, Any]:
        """The file uploaded as the browser's file input does: its FileData."""
        form = aiohttp.FormData()
        form.add_field("files", data, filename=name, content_type=mime_type)
        async with self.http.post(f"{self.base}{self.prefix}/upload", data=form) as uploaded:
            [path] = await uploaded.json()
        return {
            "path": path,
            "orig_name": name,
            "size": len(data),
            "mime_type": mime_type,
            "meta": {"_type": "gradio.FileData"},
        }

    def fn(self, api_name: str) -> dict[str, Any]:
        return next(d for d in self.config["dependencies"] if d.get("api_name") == api_name)

    async def run(self, api_name: str, data: list[Any]) -> list[Any]:
        dependency = self.fn(api_name)
        body = {"data": data, "fn_index": dependency["id"], "session_hash": self.session}
        if not dependency.get("queue", True):
            async with self.http.post(f"{self.base}{self.prefix}/run/predict", json=body) as answer:
                assert answer.status == 200, await answer.text()
                return list((await answer.json())["data"])
        join = {**body, "event_data": None, "trigger_id": None}
        async with self.http.post(f"{self.base}{self.prefix}/queue/join", json=join) as joined:
            assert joined.status == 200, await joined.text()
        stream = f"{self.base}{self.prefix}/queue/data"
        async with self.http.get(stream, params={"session_hash": self.session}) as events:
            async for line in events.content:
                message = json.loads(line[5:]) if line.startswith(b"data:") else {}
                if message.get("msg") == "process_completed":
                    assert message["success"], message
                    return list(message["output"]["data"])
        raise AssertionError(f"{api_name}: the stream ended without process_completed")


async def test_the_chat_interface_answers_our_replayed_history_as_the_browsers(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """A multimodal ChatInterface run as the browser runs Enter. 5.x and 6.x:
    ``_clear_and_save_textbox``, ``_append_message_to_history``, ``_submit_fn``, then the
    Chatbot's value sent back into the session's history State; 4.44:
    ``_clear_and_save_textbox``, ``_display_input``, ``_stream_fn``, the Chatbot's value
    sent with each. The next turn's answer, history shape included, is the same for this
    client's replay."""
    picture = png_for(IMAGE_PROMPT).read_bytes()
    for app in served("chat_multimodal", tmp_path_factory):
        base = app.replica.url
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/config") as answer:
                tab = _BrowserTab(http, base, await answer.json())
            file = await tab.upload(picture, "cat.png", "image/png")
            chatbot: list[Any] = []
            for box in ({"text": "", "files": [file]}, {"text": "!history-shape", "files": []}):
                await tab.run("_clear_and_save_textbox", [box])
                if app.replica.gradio_version.startswith("4."):
                    [chatbot] = await tab.run("_display_input", [None, chatbot])
                    [chatbot] = await tab.run("_stream_fn", [None, chatbot])
                    continue
                [chatbot] = await tab.run("_append_message_to_history", [None, chatbot])
                _, chatbot = await tab.run("_submit_fn", [None, None])
                submit = tab.fn("_submit_fn")
                # The step after it that puts the Chatbot's value into the history State.
                sync = next(
                    d
                    for d in tab.config["dependencies"]
                    if d.get("trigger_after") == submit["id"] and d["inputs"] == submit["outputs"][1:]
                )
                await tab.run(sync["api_name"], [chatbot])
            browser = chatbot[-1]["content"]
        picture_path = tmp_path_factory.mktemp("picture") / "cat.png"
        picture_path.write_bytes(picture)
        async with SpaceClient(base) as space:
            chat = space.conversation()
            await chat.send("", files=[picture_path])
            ours = await chat.send("!history-shape")
        assert "History: user[file] " in ours
        assert ours == _text(browser)


async def test_the_image_app_answers_our_replayed_reply_files_as_the_browsers(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """``image_answer`` run as the browser runs it, its Chatbot value (the image it drew,
    as its own FileData) sent back with the next prompt: the app's answer, the shape and
    the bytes of the earlier images included, is the same for this client's replay."""
    prompts = ["draw !image-only", "more", "!history-shape !history-files"]
    for app in served("image_answer", tmp_path_factory):
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{app.replica.url}/config") as answer:
                tab = _BrowserTab(http, app.replica.url, await answer.json())
            chatbot: list[Any] = []
            for prompt in prompts:
                _, chatbot = await tab.run("respond", [prompt, chatbot])
        async with SpaceClient(app.replica.url) as space:
            chat = space.conversation()
            answers = [await chat.send(prompt) for prompt in prompts]
        browser = [m["content"] for m in chatbot if m["role"] == "assistant"]
        texts = [_text(content) for content in browser]
        assert "Earlier Files received: [" in answers[-1]
        assert answers[-1] == texts[-2]  # the last reply's text, then its image


def _text(content: Any) -> str:
    """A Chatbot message's text as the browser holds it: a string (4.44, 5.x) or 6.x text parts."""
    if isinstance(content, str):
        return content
    return "".join(p["text"] for p in content if p.get("type") == "text") if isinstance(content, list) else ""
