"""Fixtures that run the replica Space under the Gradio installed in this environment.

The tox envs live-g4, live-g5 and live-g6 each install one Gradio version; these
tests start a real server from it on a free loopback port, once per session.
"""

import atexit
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from ..replicas.scripted import describe

APP = Path(__file__).resolve().parent.parent / "replica" / "app.py"
REPLICA_APPS = Path(__file__).resolve().parent.parent / "replicas"
ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "ada", "lovelace-1843"
#: The template replica launched the way a Space's app.py launches it. Gradio 4.44.1's
#: launch() first checks that its page answers, and that page fails under the starlette
#: its own pins allow today (TemplateResponse's signature changed): there the same app
#: and login routes are served by uvicorn through mount_gradio_app(auth=...).
LAUNCH = """
import os, sys
sys.path.insert(0, sys.argv[1])
import gradio as gr
from tests.replicas.hub_template import build
auth, port = (os.environ["APP_USER"], os.environ["APP_PASSWORD"]), int(sys.argv[2])
if int(gr.__version__.split(".")[0]) >= 5:
    build().launch(server_name="127.0.0.1", server_port=port, auth=auth)
else:
    import uvicorn
    from fastapi import FastAPI
    app = gr.mount_gradio_app(FastAPI(), build(), path="/", auth=auth)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""
MAJOR = int(version("gradio").split(".")[0])
#: The replica chat apps this Gradio can build (6.0 dropped the tuples format).
APPS = [
    app
    for app in ("hub_template", "plain_tuples", "plain_messages", "multimodal", "thinking_blocks")
    if not (app == "plain_tuples" and MAJOR >= 6)
]
HUB_OPTIONS = [("Max new tokens", 512), ("Temperature", 0.7), ("Top-p (nucleus sampling)", 0.95)]
#: Releases on which nothing a client sends stops a running job (see generation_stopped).
SERVERS_THAT_CANNOT_STOP_A_JOB = frozenset({"4.21.0"})


@dataclass(frozen=True)
class Replica:
    url: str
    log: Path | None
    gradio_version: str

    def yields(self, marker: str) -> int:
        if self.log is None or not self.log.exists():
            return 0
        prefix = f"yield {marker} "
        return sum(line.startswith(prefix) for line in self.log.read_text(encoding="utf-8").splitlines())

    def generation_stopped(self, marker: str, *, of: int, quiet_for: float = 1.0, within: float = 20.0) -> bool:
        """Whether the job tagged ``!id=marker`` stopped yielding before its ``of`` tokens.

        Cancellation differs by version (6.x closes the generator, 4.44 drops it), so
        what is checked is the effect: no new yield for ``quiet_for`` seconds.
        """
        if self.gradio_version in SERVERS_THAT_CANNOT_STOP_A_JOB:
            pytest.xfail(
                f"Gradio {self.gradio_version} has no /cancel (4.31+) and its queue/data handler yields after "
                "the client disconnected, so the disconnect never reaches the queue: the job runs to its end"
            )
        deadline = time.monotonic() + within
        count, since = self.yields(marker), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            now = self.yields(marker)
            if now != count:
                count, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_for:
                return count < of
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _listening_inodes(port: int) -> set[str] | None:
    """The inodes of the sockets listening on 127.0.0.1:``port``, or None where the
    system has no /proc to ask (then nothing can be checked)."""
    try:
        table = Path("/proc/net/tcp").read_text()
    except OSError:
        return None
    wanted = f"0100007F:{port:04X}"
    return {fields[9] for fields in map(str.split, table.splitlines()[1:]) if fields[1] == wanted and fields[3] == "0A"}


def _owns_port(pid: int, port: int) -> bool:
    """Whether process ``pid`` is the one listening on ``port``. Parallel tox envs each
    start servers on ports the kernel called free a moment before: two envs can get the
    same one, and then the loser's probe is answered by the winner's Gradio."""
    inodes = _listening_inodes(port)
    if inodes is None:
        return True
    sockets = {f"socket:[{inode}]" for inode in inodes}
    try:
        return any(os.readlink(fd) in sockets for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False


def _started(process: subprocess.Popen[bytes], port: int, probe: str, what: str, within: float) -> bool:
    """Wait until ``probe`` answers 200 from ``process`` itself: True; False when another
    process holds the port (try another); RuntimeError when the server fails otherwise."""
    deadline = time.monotonic() + within
    while True:
        if process.poll() is not None:
            assert process.stderr is not None
            told = process.stderr.read().decode(errors="replace")
            if "address already in use" in told.lower() or "cannot find empty port" in told.lower():
                return False
            raise RuntimeError(f"{what} exited: {told[-3000:]}")
        try:
            with urllib.request.urlopen(probe, timeout=2) as answer:
                if answer.status == 200:
                    return _owns_port(process.pid, port)
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {within:g} s")
        time.sleep(0.25)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stderr is not None:
        process.stderr.close()


@contextmanager
def serving(
    argv_for: Callable[[int], list[str]], path: str, what: str, *, within: float, **popen: Any
) -> Iterator[str]:
    """Run the server ``argv_for(port)`` on a free loopback port until ``path`` answers
    200 from it (or fail saying why); yield its base URL, then stop it."""
    for _ in range(5):
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = subprocess.Popen(argv_for(port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **popen)
        try:
            if _started(process, port, base + path, what, within):
                yield base
                return
        finally:
            _stop(process)
    raise RuntimeError(f"{what} found its free port taken five times in a row")


@pytest.fixture(scope="session")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    log = tmp_path_factory.mktemp("replica") / "events.log"
    env = {**os.environ, "REPLICA_LOG": str(log), "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1"}
    argv = lambda port: [sys.executable, str(APP), str(port)]  # noqa: E731
    with serving(argv, "/config", "the replica", within=120, env=env) as url:
        yield Replica(url=url, log=log, gradio_version=version("gradio"))


class _Replicas:
    """Every replica app of ``tests/replicas``, served by one Gradio process (``serve.py
    --mount``), each at ``/<name>``: started on first use, stopped when the session's
    Python exits. Starting Gradio is most of a live run's time; 19 apps in one process
    start in about twice the time of one."""

    def __init__(self) -> None:
        self.url = ""
        self.log = Path()
        self.unbuildable: dict[str, str] = {}
        self._stack = ExitStack()
        atexit.register(self._stack.close)

    def start(self) -> None:
        if self.url:
            return
        folder = tempfile.mkdtemp(prefix="replicas-")
        self._stack.callback(shutil.rmtree, folder, ignore_errors=True)
        self.log = Path(folder) / "events.log"
        env = {**os.environ, "REPLICA_LOG": str(self.log), "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1"}
        argv = lambda port: [sys.executable, str(REPLICA_APPS / "serve.py"), "--mount", str(port)]  # noqa: E731
        url = self._stack.enter_context(serving(argv, "/replicas", "the replica apps", within=240, env=env))
        with urllib.request.urlopen(f"{url}/replicas", timeout=10) as answer:
            self.unbuildable = json.loads(answer.read())["unbuildable"]
        self.url = url


_REPLICAS = _Replicas()


@contextmanager
def replica_app(name: str, log: Path | None = None) -> Iterator[Replica]:
    """One replica chat app of ``tests/replicas`` served by this environment's Gradio.

    All apps share one server process and its log (the apps log by ``!id=`` marker, so
    markers must be unique within a run); ``log`` is only whether ``yields`` reads it.
    """
    _REPLICAS.start()
    if name in _REPLICAS.unbuildable:
        raise RuntimeError(f"the {name} replica cannot be built: {_REPLICAS.unbuildable[name]}")
    yield Replica(
        url=f"{_REPLICAS.url}/{name}", log=_REPLICAS.log if log is not None else None, gradio_version=version("gradio")
    )


@dataclass(frozen=True)
class App:
    name: str
    replica: Replica

    def expected(self, message: str, history: list[Any] | None = None, settings: dict[str, Any] | None = None) -> str:
        """The scripted answer for this app with its defaults, overridden by ``settings``
        (labels, and ``system``)."""
        settings = settings or {}
        if self.name == "hub_template":
            system = ("System message", settings.get("system", "You are a friendly Chatbot."))
            options = [(label, settings.get(label, default)) for label, default in HUB_OPTIONS]
            return describe(message, history, system=system, options=options)
        if self.name == "thinking_blocks":
            return describe(message, history, options=[("Model", settings.get("Model", "alpha-1"))])
        return describe(message, history)


# Session scope: pytest orders the tests of every module by app, so each app starts once
# per run instead of once per module that uses it (Gradio's start is most of a live env's time).
@pytest.fixture(scope="session", params=APPS)
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """Each replica chat app this Gradio can build, in turn."""
    name = request.param
    with replica_app(name, tmp_path_factory.mktemp(name) / "events.log") as replica:
        yield App(name, replica)


@pytest.fixture(scope="session")
def locked() -> Iterator[App]:
    """The template replica launched with ``auth=(USER, PASSWORD)`` (test_live_auth.py and
    test_live_auth_doors.py share it: each start of Gradio costs seconds)."""
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1"}
    env.update(APP_USER=USER, APP_PASSWORD=PASSWORD)
    # /config answers 401 before a login; the current user (none) answers 200.
    probe = "/user" if MAJOR < 5 else "/gradio_api/user"
    argv = lambda port: [sys.executable, "-c", LAUNCH, str(ROOT), str(port)]  # noqa: E731
    with serving(argv, probe, "the locked app", within=120, env=env) as url:
        yield App("hub_template", Replica(url=url, log=None, gradio_version=version("gradio")))
