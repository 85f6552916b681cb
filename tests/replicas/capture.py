"""Record each replica app's ``/config`` under one Gradio release as test data.

``python tests/replicas/capture.py PYTHON [APP ...]`` serves every app (or the named ones)
with ``PYTHON``, an interpreter whose environment holds the Gradio release, and writes
``tests/data/configs/replicas/<version>/<app>.json``, as the server sent it, indented.
Apps the release cannot build are reported and skipped; an app behind a login
(``auth_chat``) is logged into first, with a form POST to ``/login`` as a browser does.
Stdlib only: any Python runs it.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

# Run as a script, the repository root is not on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.replicas import APPS, LOGIN
from tests.replicas.serve import NOT_BUILDABLE

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "data" / "configs" / "replicas"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def config_of(python: str, app: str) -> bytes | None:
    """The app's ``/config`` body, or None when the release cannot build it."""
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1"}
    argv = [python, str(HERE / "serve.py"), app, str(port)]
    server = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if (status := server.poll()) is not None:
                assert server.stderr is not None
                reason = server.stderr.read().decode(errors="replace").strip()
                if status == NOT_BUILDABLE:
                    print(f"skipped: {reason}")
                    return None
                raise RuntimeError(f"{app} exited with {status}: {reason[-2000:]}")
            try:
                return fetch_config(f"http://127.0.0.1:{port}")
            except OSError:
                time.sleep(0.25)
        raise RuntimeError(f"{app} did not start within 120 s")
    finally:
        server.terminate()
        server.wait(timeout=15)
        if server.stderr is not None:
            server.stderr.close()


def fetch_config(base: str) -> bytes:
    """``/config``, logging in first when the app answers 401 (cookies kept for the retry)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        with opener.open(f"{base}/config", timeout=2) as answer:
            return bytes(answer.read())
    except urllib.error.HTTPError as refused:
        if refused.code != 401:
            raise
    form = urllib.parse.urlencode({"username": LOGIN[0], "password": LOGIN[1]}).encode()
    opener.open(f"{base}/login", data=form, timeout=5).close()
    with opener.open(f"{base}/config", timeout=2) as answer:
        return bytes(answer.read())


def main() -> None:
    python, apps = sys.argv[1], sys.argv[2:] or list(APPS)
    for app in apps:
        raw = config_of(python, app)
        if raw is None:
            continue
        config = json.loads(raw)
        target = OUT / config["version"] / f"{app}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(config, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{target.relative_to(HERE.parent.parent)}: {len(config['dependencies'])} dependencies")


if __name__ == "__main__":
    main()
