"""Uploading a 10 MB image and streaming the answer: qwen-space's upload beside
gradio_client's ``handle_file``, on the same real Gradio app (issue 25, item 6).

The app is ``tests/live/files_app.py``'s ``look`` event (a gr.Image taken as a file
path and a question; the answer, 65 yields, streams back). Each client runs in a
fresh process per round and reports its CPU seconds and peak RSS above what it held
once imported (sampled every 2 ms; the sampler's own CPU is counted too), for the whole upload + join + stream; the answer is checked, so a
client that skips the upload or loses a token fails instead of being fast.

``python benchmarks/upload.py [--rounds N] [--gradio-python PATH]`` prints a table
and the raw figures as JSON. The server runs under ``--gradio-python`` (default: this
interpreter), the clients under this interpreter, which needs gradio_client.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import resource
import secrets
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
APP = HERE.parent / "tests" / "live" / "files_app.py"
QUESTION = "what is in this picture?"
CLIENTS = ("qwen-space", "gradio_client")


def png(path: Path, side: int = 1830) -> None:
    """A valid RGB PNG of random pixels, stored uncompressed: about 10 MB."""
    rows = b"".join(b"\x00" + os.urandom(side * 3) for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows, 0)) + chunk(b"IEND", b"")
    )


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / (1024 * 1024)


class PeakRSS:
    """The highest resident set size seen while the block ran, sampled every 2 ms (Linux):
    ``ru_maxrss`` cannot say it, since importing a client may peak higher than its work."""

    def __enter__(self) -> PeakRSS:
        self.base = self.peak = _rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, _rss_mib())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _rss_mib())


async def ours(url: str, picture: Path) -> str:
    import aiohttp
    from qwen_space.client.core.files import LocalFile, upload
    from qwen_space.client.core.transport import Transport
    from qwen_space.protocol import SSEDecoder
    from qwen_space.protocol._messages import CompletionStatus, ProcessCompleted, parse_message
    from yarl import URL

    transport = Transport(headers={}, token=None, send_token=False)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{url}/config") as answer:
                config = await answer.json()
            prefix = config.get("api_prefix") or ""
            fn = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "look")
            [image] = await upload(transport, URL(f"{url}{prefix}/upload"), [LocalFile.at(picture)], within=120)
            session = secrets.token_hex(6)
            join = {"data": [image, QUESTION], "fn_index": fn, "session_hash": session, "trigger_id": None}
            async with http.post(f"{url}{prefix}/queue/join", json={**join, "event_data": None}) as joined:
                joined.raise_for_status()
            decoder = SSEDecoder()
            async with http.get(f"{url}{prefix}/queue/data", params={"session_hash": session}) as stream:
                async for chunk in stream.content.iter_any():
                    for event in decoder.feed(chunk):
                        message = parse_message(event.data)
                        if isinstance(message, ProcessCompleted):
                            assert message.status is CompletionStatus.SUCCEEDED, message
                            return str(message.output.data[0]) if message.output else ""
    finally:
        await transport.close()
    raise RuntimeError("the stream ended without process_completed")


def theirs(url: str, picture: Path) -> str:
    from gradio_client import Client, handle_file

    client = Client(url, verbose=False)
    job = client.submit(handle_file(str(picture)), QUESTION, api_name="/look")
    last = ""
    for last in job:  # noqa: B007 (the stream is what is measured)
        pass
    return str(last)


def one(client: str, url: str, picture: Path) -> dict[str, float]:
    """Run one client once in this process (a fresh one) and measure it."""
    if client == "qwen-space":
        import aiohttp  # noqa: F401 (imports are not what is measured)
        import qwen_space.client  # noqa: F401
    else:
        import gradio_client  # noqa: F401
    with PeakRSS() as rss:
        cpu, wall = time.process_time(), time.perf_counter()
        answer = asyncio.run(ours(url, picture)) if client == "qwen-space" else theirs(url, picture)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    expected = hashlib.sha256(picture.read_bytes()).hexdigest()
    if not (answer.startswith(repr(QUESTION)) and expected[:4] in answer):
        raise RuntimeError(f"{client} got a wrong answer: {answer[:200]!r}")
    return {"cpu_s": cpu, "wall_s": wall, "peak_rss_mib": rss.peak - rss.base}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(python: str) -> Any:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1"}
    process = subprocess.Popen([python, str(APP), str(port)], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/config", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the files app did not start") from None
                time.sleep(0.25)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--gradio-python", default=sys.executable)
    parser.add_argument("--one", choices=CLIENTS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--picture", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.url, args.picture)))
        return
    with tempfile.TemporaryDirectory() as folder, server(args.gradio_python) as url:
        picture = Path(folder) / "picture.png"
        png(picture)
        figures: dict[str, list[dict[str, float]]] = {c: [] for c in CLIENTS}
        for _ in range(args.rounds):
            for client in CLIENTS:
                argv = [sys.executable, __file__, "--one", client, "--url", url, "--picture", str(picture)]
                done = subprocess.run(argv, capture_output=True, text=True)
                if done.returncode:
                    raise RuntimeError(f"{client} failed:\n{done.stderr[-3000:]}")
                figures[client].append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"{picture.stat().st_size / 1e6:.1f} MB PNG, {args.rounds} rounds, median (min-max)")
        for client, runs in figures.items():
            cells = []
            for key in ("cpu_s", "wall_s", "peak_rss_mib"):
                values = [run[key] for run in runs]
                cells.append(f"{key} {statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})")
            print(f"{client:14} " + "  ".join(cells))
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
