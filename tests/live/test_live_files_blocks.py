"""The files building blocks against the real Gradio of this environment (4.44.1,
5.50.0, 6.31.0 in their tox envs): ``upload`` reaches the app's function with the exact
bytes (its sha256 comes back), a path the app did not hand out is refused as a
launched Space refuses it, and the files a reply holds (gr.Image, gr.File, Chatbot
messages) are found, downloaded byte for byte and saved.

The app (``files_app.py``) is started with ``launch()`` on 5.x and 6.x; calls go over
the queue protocol directly (``queue/join`` + ``queue/data``), so that these tests
depend on the blocks alone, not on the chat engine that will use them.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from qwen_space.client.core.files import LocalFile, download, save, upload
from qwen_space.client.core.transport import Transport
from qwen_space.protocol._chatbot import ChatbotFormat
from qwen_space.protocol._files import chatbot_reply_files, file_data, files_in, multimodal_value, user_file_entries
from qwen_space.protocol._release import Release
from yarl import URL

from .conftest import serving

APP = Path(__file__).resolve().parent / "files_app.py"
MAJOR = int(version("gradio").split(".")[0])


@dataclass(frozen=True)
class Server:
    base: str
    api_prefix: str

    @property
    def upload_url(self) -> URL:
        return URL(f"{self.base}{self.api_prefix}/upload")


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1"}
    argv = lambda port: [sys.executable, str(APP), str(port)]  # noqa: E731
    with serving(argv, "/config", "the files app", within=120, env=env) as base:
        prefix = "/gradio_api" if MAJOR >= 5 else ""  # checked against /config below
        yield Server(base, prefix)


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    made = Transport(headers={}, token=None, send_token=False)
    yield made
    await made.close()


async def call(server: Server, api_name: str, data: list[Any]) -> dict[str, Any]:
    """One event of the app over the queue protocol: its ``process_completed`` message."""
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{server.base}/config") as answer:
            config = await answer.json()
        assert (config.get("api_prefix") or "") == server.api_prefix
        dependency = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
        session = secrets.token_hex(6)
        join = {"data": data, "fn_index": dependency["id"], "session_hash": session, "event_data": None}
        async with http.post(f"{server.base}{server.api_prefix}/queue/join", json={**join, "trigger_id": None}) as ok:
            assert ok.status == 200, await ok.text()
        stream = f"{server.base}{server.api_prefix}/queue/data"
        async with http.get(stream, params={"session_hash": session}) as events:
            async for line in events.content:
                if line.startswith(b"data:"):
                    message = json.loads(line[5:])
                    if message.get("msg") == "process_completed":
                        return dict(message)
    raise AssertionError("the stream ended without process_completed")


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


FILES = [
    LocalFile("чат 🐱.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64, "image/png"),
    LocalFile("empty.txt", b""),
    LocalFile("data.bin", os.urandom(300_000)),
]


async def test_uploaded_files_reach_the_function_with_their_exact_bytes(server: Server, transport: Transport) -> None:
    values = await upload(transport, server.upload_url, FILES, within=60)
    done = await call(server, "digest", [values])
    assert done["success"], done
    seen = json.loads(done["output"]["data"][0])
    assert [(s["size"], s["sha256"]) for s in seen] == [(len(f.content), digest(f.content)) for f in FILES]
    # Gradio stores the name as given on 6.x; 4.44 and 5.x drop what is not a letter, digit or ._-
    assert seen[0]["name"] == ("чат 🐱.png" if MAJOR >= 6 else "чат .png")
    assert [s["name"] for s in seen[1:]] == ["empty.txt", "data.bin"]


async def test_a_multimodal_textbox_gets_text_and_files(server: Server, transport: Transport) -> None:
    values = await upload(transport, server.upload_url, FILES[:2], within=60)
    done = await call(server, "digest_message", [multimodal_value("what is this?", values)])
    assert done["success"], done
    seen = json.loads(done["output"]["data"][0])
    assert seen["text"] == "what is this?"
    assert [f["sha256"] for f in seen["files"]] == [digest(f.content) for f in FILES[:2]]


async def test_a_chatbot_takes_the_entries_a_browser_adds_for_user_files(server: Server, transport: Transport) -> None:
    values = await upload(transport, server.upload_url, FILES[:2], within=60)
    chatbot = ChatbotFormat.NORMALISED if MAJOR >= 6 else ChatbotFormat.MESSAGES
    release = Release(protocol="sse_v3", gradio_major=MAJOR, api_prefix="/gradio_api" if MAJOR >= 5 else "")
    entries = user_file_entries(values, chatbot=chatbot, release=release)
    done = await call(server, "history_files", [entries])
    assert done["success"], done
    seen = json.loads(done["output"]["data"][0])
    assert [s["sha256"] for s in seen] == [digest(f.content) for f in FILES[:2]]


async def test_a_path_the_app_did_not_hand_out_is_refused(server: Server, tmp_path: Path) -> None:
    """As on a launched Space: a client that skips the upload fails here."""
    secret = tmp_path / "secret.txt"
    secret.write_bytes(b"not for the app")
    done = await call(server, "digest", [[file_data(str(secret), name="secret.txt", size=15)]])
    assert not done["success"]
    assert digest(b"not for the app") not in json.dumps(done)


async def test_reply_files_are_found_downloaded_and_saved(server: Server, transport: Transport, tmp_path: Path) -> None:
    done = await call(server, "draw", ["cat"])
    assert done["success"], done
    image, document, chat, report = done["output"]["data"]
    written = {entry["name"]: entry["sha256"] for entry in json.loads(report)}
    found = [
        *files_in(image, root=server.base, api_prefix=server.api_prefix),
        *files_in(document, root=server.base, api_prefix=server.api_prefix),
        *chatbot_reply_files(chat, root=server.base, api_prefix=server.api_prefix),
    ]
    assert [(f.name, f.mime_type) for f in found] == [
        ("cat.png", "image/png"),
        ("cat report.pdf", "application/pdf"),
        ("cat.png", "image/png"),
        # a {"path": ...} message's orig_name is null on 4.44 and 5.x: the name comes from the path
        ("cat report.pdf", "application/pdf"),
    ]
    space = URL(server.base)
    for file in found:
        content = await download(transport, file, space=space, within=60)
        assert digest(content) == written[file.name], file
    first = await save(transport, found[0], tmp_path, space=space, within=60)
    again = await save(transport, found[2], tmp_path, space=space, within=60)
    assert (first.name, again.name) == ("cat.png", "cat (1).png")
    assert digest(again.read_bytes()) == written["cat.png"]


async def test_names_gradio_cannot_store_still_upload(server: Server, transport: Transport) -> None:
    # Gradio refuses a name ending in ".." (HTTP 400) and, before 6.x, stores a name of
    # no letters or digits as the upload folder itself: such names are sent as "file".
    files = [LocalFile(name, name.encode() * 3) for name in ("..", "a/..", ".", "😀", "???", "", "😀.png")]
    values = await upload(transport, server.upload_url, files, within=60)
    assert [v["orig_name"] for v in values] == [f.name for f in files]
    done = await call(server, "digest", [values])
    assert done["success"], done
    seen = json.loads(done["output"]["data"][0])
    assert [(s["size"], s["sha256"]) for s in seen] == [(len(f.content), digest(f.content)) for f in files]
