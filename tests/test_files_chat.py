"""Files in a chat request, offline: OpenAI content parts and ``files=`` read and capped
before anything is sent, placed where the app takes them (``build_call`` against the
replicas' real ``/config``), and the caps on the CLI. The live tests
(``tests/live/test_live_files.py``) prove the bytes reach real Gradio servers."""

from __future__ import annotations

import base64
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from qwen_space.client import LocalFile, SpaceClient
from qwen_space.client.core.request import prepare_request
from qwen_space.client.errors import ChatRequestError, FileTooLargeError, InvalidDataURLError, InvalidMessagesError
from qwen_space.protocol import ReplyFile, Turn, build_call, derive_contract, parse_config
from qwen_space.protocol._chat_contract import InputRole
from qwen_space.protocol._files import file_data, reply_file_data

from .cli import run_cli

CONFIGS = Path(__file__).resolve().parent / "data" / "configs" / "replicas"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
MB = 1024 * 1024


def data_url(mime: str, data: bytes) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def contract(release: str, app: str) -> Any:
    return derive_contract(parse_config((CONFIGS / release / f"{app}.json").read_bytes()))


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_content_parts_become_the_querys_files() -> None:
    request = prepare_request(
        [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": data_url("image/png", PNG)}},
                    {"type": "file", "file": {"file_data": data_url("text/plain", b"hi\n"), "filename": "a.txt"}},
                ],
            }
        ],
        files=[LocalFile("b.bin", b"\0\1")],
    )
    assert request.query == "look"
    assert [(f.name, f.content, f.mime_type) for f in request.files] == [
        ("image.png", PNG, "image/png"),
        ("a.txt", b"hi\n", "text/plain"),
        ("b.bin", b"\0\1", None),
    ]


def test_a_string_is_one_user_message_and_files_alone_are_a_question(tmp_path: Path) -> None:
    assert prepare_request("hi").query == "hi"
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    request = prepare_request("", files=[path])
    # A path is checked, not read: the upload streams it from disk.
    assert [(f.name, f.path, f.size, f.content) for f in request.files] == [("cat.png", path, len(PNG), b"")]


def test_earlier_turns_keep_their_files() -> None:
    image = {"type": "image_url", "image_url": {"url": data_url("image/png", PNG)}}
    request = prepare_request(
        [
            {"role": "user", "content": [{"type": "text", "text": "this?"}, image]},
            {"role": "assistant", "content": "a cat"},
            {"role": "user", "content": "sure?"},
        ]
    )
    assert request.history == (Turn("this?", "a cat"),)
    assert [[f.content for f in turn] for turn in request.history_files] == [[PNG]]
    assert request.files == ()


@pytest.mark.parametrize(
    ("part", "error", "words"),
    [
        ({"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}, InvalidMessagesError, "data URL"),
        ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}, InvalidDataURLError, "base64"),
        ({"type": "file", "file": {"file_id": "file-123"}}, InvalidMessagesError, "file_data"),
        ({"type": "input_audio", "input_audio": {}}, InvalidMessagesError, "input_audio"),
    ],
)
def test_parts_qwen_space_cannot_send_are_refused(part: dict[str, Any], error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        prepare_request([{"role": "user", "content": [{"type": "text", "text": "x"}, part]}])


def test_a_data_url_over_the_cap_is_refused_from_its_length() -> None:
    # 3 MiB of base64 letters: over a 1 MiB cap whatever they decode to.
    url = "data:image/png;base64," + "A" * (3 * MB)
    with pytest.raises(FileTooLargeError, match="max_upload_size=") as raised:
        prepare_request(
            [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}], max_upload_size=MB
        )
    assert raised.value.limit == MB


def test_files_from_the_assistant_are_refused() -> None:
    image = {"type": "image_url", "image_url": {"url": data_url("image/png", PNG)}}
    with pytest.raises(InvalidMessagesError, match="only user messages"):
        prepare_request([{"role": "assistant", "content": [image]}, {"role": "user", "content": "x"}])


@pytest.mark.parametrize("release", ["4.44.1", "5.50.0", "6.31.0"])
def test_files_go_into_the_multimodal_box(release: str) -> None:
    chat = contract(release, "blocks_multimodal")
    upload = file_data("/tmp/gradio/abc/cat.png", name="cat.png", size=40, mime_type="image/png")
    call = build_call(chat, "look", files=[upload])
    assert chat.message_id is not None
    assert call.values[chat.message_id] == {"text": "look", "files": [upload]}


@pytest.mark.parametrize("release", ["5.50.0", "6.31.0"])
def test_a_file_goes_to_the_image_input_and_earlier_files_into_the_chatbot(release: str) -> None:
    chat = contract(release, "vision_blocks")
    upload = file_data("/tmp/gradio/abc/cat.png", name="cat.png", size=40, mime_type="image/png")
    earlier = file_data("/tmp/gradio/def/dog.png", name="dog.png", size=40, mime_type="image/png")
    call = build_call(chat, "what is it?", [Turn("and this?", "a dog")], files=[upload], history_files=[[earlier]])
    slots = {spec.component: slot for slot, spec in enumerate(chat.inputs)}
    assert call.data[slots["image"]] == upload
    history = call.data[slots["chatbot"]]
    assert isinstance(history, list)
    # The file's entry, then the turn's two messages; 6.x holds a turn's files and text in one.
    assert len(history) == (2 if release.startswith("6.") else 3)
    assert json.dumps(history[0]).count("/tmp/gradio/def/dog.png") == 1
    assert "dog.png" not in json.dumps(history[1:])
    assert "and this?" in json.dumps(history[-2])
    with pytest.raises(ChatRequestError, match="one file per file input"):
        build_call(chat, "x", files=[upload, upload])


@pytest.mark.parametrize("release", ["4.44.1", "5.50.0", "6.31.0"])
def test_a_text_only_chat_refuses_files(release: str) -> None:
    upload = file_data("/tmp/gradio/abc/cat.png", name="cat.png", size=40)
    with pytest.raises(ChatRequestError, match="takes text only"):
        build_call(contract(release, "plain_messages"), "x", files=[upload])


async def test_a_file_over_the_cap_is_refused_before_any_request(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:  # sparse: 200 MB on no disk
        handle.truncate(200 * 1000 * 1000)
    # Nothing listens there: a request would fail as a connection error, not this.
    async with SpaceClient(f"http://127.0.0.1:{closed_port()}") as space:
        with pytest.raises(FileTooLargeError, match=r"max_upload_size=") as raised:
            await space.complete("x", files=[big])
    assert raised.value.size == 200 * 1000 * 1000
    assert "104,857,600-byte cap" in str(raised.value)


async def test_the_cli_refuses_a_file_over_the_cap_naming_the_flag(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(200 * 1000 * 1000)
    url = f"http://127.0.0.1:{closed_port()}"
    result = await run_cli("chat", "--url", url, "--file", str(big), "look")
    assert result.code == 2
    assert result.out == ""
    assert "104,857,600-byte cap" in result.err
    assert "--max-upload-size" in result.err
    bigger_cap = await run_cli("chat", "--url", url, "--max-upload-size", "300M", "--file", str(big), "look")
    assert "--max-upload-size" not in bigger_cap.err  # past the cap: the connection is what fails now
    assert bigger_cap.code != 0


async def test_the_cli_takes_a_download_cap_as_a_size() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    bad = await run_cli("chat", "--url", url, "--max-download-size", "lots", "x")
    assert bad.code == 2
    assert "--max-download-size" in bad.err
    assert "not a size like" in bad.err
    # A good size passes the parser: what fails then is the connection (nothing listens).
    good = await run_cli("chat", "--url", url, "--max-download-size", "500M", "x")
    assert good.code not in (0, 2)


def _shape(history: Any) -> list[Any]:
    """Each entry's role (or tuple sides) and content kinds, as the browser's Chatbot holds it."""

    def kind(content: Any) -> str:
        if isinstance(content, str):
            return "text" if content else "empty"
        if isinstance(content, dict) and content.get("type") == "text":
            return "text" if content["text"] else "empty"
        return "file" if isinstance(content, dict) and "file" in content else repr(content)

    return [
        [kind(side) if side is not None else "none" for side in entry]
        if isinstance(entry, list)
        else (
            entry["role"],
            [kind(c) for c in (entry["content"] if isinstance(entry["content"], list) else [entry["content"]])],
        )
        for entry in history
    ]


@pytest.mark.parametrize(
    ("release", "app", "expected"),
    [
        # 5.50: one message per file, then the text even if empty (_message_as_message_dict).
        ("5.50.0", "chat_multimodal", [("user", ["file"]), ("user", ["empty"]), ("assistant", ["file"])]),
        ("5.50.0", "blocks_multimodal", [("user", ["file"]), ("user", ["empty"]), ("assistant", ["file"])]),
        # 6.31: files and text in one message; the ChatInterface drops empty text, the demo keeps it.
        ("6.31.0", "chat_multimodal", [("user", ["file"]), ("assistant", ["file"])]),
        ("6.31.0", "blocks_multimodal", [("user", ["file", "empty"]), ("assistant", ["file"])]),
        # 4.44's tuples ChatInterface pairs a file-only turn's answer with None.
        ("4.44.1", "plain_tuples", None),
    ],
)
def test_earlier_files_and_reply_files_take_the_browsers_shape(release: str, app: str, expected: Any) -> None:
    """A file-only turn answered by an image alone: the user's file, the text if the release
    keeps it, then the reply's image as the Space handed it out (no empty answer text)."""
    chat = contract(release, app)
    sent = file_data("/tmp/gradio/abc/cat.png", name="cat.png", size=40, mime_type="image/png")
    drawn = reply_file_data(
        ReplyFile("http://h/file=/tmp/gradio/x/d.png", "d.png", "image/png", 9, path="/tmp/gradio/x/d.png")
    )
    call = build_call(chat, "next", [Turn("", "")], history_files=[[sent]], history_reply_files=[[drawn]])
    if chat.steps:
        history = call.values[chat.chatbot_id]
    elif chat.history_seed is not None:  # a ChatInterface's session State, seeded first
        history = call.seeds[-1].data[0]
    else:
        history = call.data[[spec.role for spec in chat.inputs].index(InputRole.HISTORY)]
    if expected is None:  # tuples: the user's file on the left, the reply's on the right
        assert _shape(history)[:3] == [["file", "none"], ["none", "none"], ["none", "file"]]
        return
    assert _shape(history)[: len(expected)] == expected
    assert json.dumps(history).count('"path": "/tmp/gradio/x/d.png"') == 1
