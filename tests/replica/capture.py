"""Capture one release's ``/config`` and a chat's raw ``queue/data`` body as test data.

Run with the Python of an environment holding that Gradio release (stdlib only here):
``python tests/replica/capture.py tests/data/releases``. It starts the replica on a
free loopback port, asks ``!tokens=5`` with one turn of history, and writes
``gradio-<version>/config.json``, ``join.json`` (the request) and ``stream.sse`` (the
bytes exactly as the server sent them).
"""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

APP = Path(__file__).resolve().parent / "app.py"


def main() -> None:
    out = Path(sys.argv[1])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1"}
    server = subprocess.Popen([sys.executable, str(APP), str(port)], env=env, stdout=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        config = _wait_for_config(base)
        payload = json.loads(config)
        version, prefix = payload["version"], payload.get("api_prefix") or ""
        major = int(version.split(".")[0])
        history: list[object] = (
            [
                {"role": "user", "metadata": None, "content": [{"type": "text", "text": "hi"}], "options": None},
                {"role": "assistant", "metadata": None, "content": [{"type": "text", "text": "yo"}], "options": None},
            ]
            if major >= 6
            else [["hi", "yo"]]
        )
        join = {
            "data": ["!tokens=5 !delay=0.05", history, "You are a helpful assistant."],
            "event_data": None,
            "fn_index": 0,
            "trigger_id": 11,
            "session_hash": "capture0001",
        }
        request = urllib.request.Request(
            f"{base}{prefix}/queue/join",
            data=json.dumps(join).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            answer.read()
        with urllib.request.urlopen(f"{base}{prefix}/queue/data?session_hash=capture0001", timeout=30) as stream:
            body = stream.read()
        target = out / f"gradio-{version}"
        target.mkdir(parents=True, exist_ok=True)
        (target / "config.json").write_bytes(config)
        (target / "join.json").write_text(json.dumps(join, indent=1) + "\n", encoding="utf-8")
        (target / "stream.sse").write_bytes(body)
        print(f"{target}: protocol {payload.get('protocol')}, {len(body)} stream bytes")
    finally:
        server.terminate()
        server.wait(timeout=15)


def _wait_for_config(base: str) -> bytes:
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{base}/config", timeout=2) as answer:
                return bytes(answer.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


if __name__ == "__main__":
    main()
