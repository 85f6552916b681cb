"""Record the cassettes beside this script (``cassette diff`` of files, issue 25 item 4).

``python tests/data/file_cassettes/record.py`` under a Gradio release (they were recorded
under 6.31.0) serves the replicas on loopback and records, with the library's own
``use_cassette``: ``chat_multimodal`` asked "look" with ``note.txt`` and ``cat.png``, once
with each version of ``note.txt`` (upload-a, upload-b); ``image_answer`` asked two prompts,
its reply image downloaded inside the recording (image-a, image-b). Each is replayed
offline at once, so a cassette that cannot replay is never kept.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from qwen_space.client import FileReply, SpaceClient
from qwen_space.client.recording import use_cassette

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
NOTES = {"upload-a": b"first version\n", "upload-b": b"second version\n"}
PROMPTS = {"image-a": "draw a cat", "image-b": "draw a dog"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def upload(url: str, files: list[Path]) -> str:
    async with SpaceClient(url) as space:
        return (await space.complete("look", files=files)).text


async def image(url: str, prompt: str) -> str:
    async with SpaceClient(url) as space:
        events = [e async for e in space.events(prompt)]
        [file] = [e.file for e in events if isinstance(e, FileReply)]
        await space.download(file)
        return file.name


def serve(app: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(ROOT / "tests/replicas/serve.py"), app, str(port)])
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            urllib.request.urlopen(url + "/config", timeout=1)
            return process, url
        except OSError:
            time.sleep(0.5)
    process.terminate()
    raise SystemExit(f"{app} did not start")


def main() -> None:
    work = Path(tempfile.mkdtemp())
    (work / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a picture")
    process, url = serve("chat_multimodal")
    try:
        for name, note in NOTES.items():
            (work / "note.txt").write_bytes(note)
            out = HERE / f"{name}.yaml"
            out.unlink(missing_ok=True)
            for mode in ("all", "none"):
                with use_cassette(out, record_mode=mode):
                    print(name, mode, asyncio.run(upload(url, [work / "note.txt", work / "cat.png"])))
    finally:
        process.terminate()
        process.wait()
    process, url = serve("image_answer")
    try:
        for name, prompt in PROMPTS.items():
            out = HERE / f"{name}.yaml"
            out.unlink(missing_ok=True)
            for mode in ("all", "none"):
                with use_cassette(out, record_mode=mode):
                    print(name, mode, asyncio.run(image(url, prompt)))
    finally:
        process.terminate()
        process.wait()


if __name__ == "__main__":
    main()
