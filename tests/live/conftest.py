"""Fixtures that run the replica Space under the Gradio installed in this environment.

The tox envs live-g4, live-g5 and live-g6 each install one Gradio version; these
tests start a real server from it on a free loopback port, once per session.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from ..replicas.scripted import describe

APP = Path(__file__).resolve().parent.parent / "replica" / "app.py"
REPLICA_APPS = Path(__file__).resolve().parent.parent / "replicas"
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


@contextmanager
def serving(argv: list[str], probe: str, what: str, *, within: float, **popen: Any) -> Iterator[None]:
    """Run the server ``argv`` until ``probe`` answers 200 (or fail saying why), then stop it."""
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **popen)
    try:
        deadline = time.monotonic() + within
        while True:
            if process.poll() is not None:
                assert process.stderr is not None
                raise RuntimeError(f"{what} exited: {process.stderr.read().decode(errors='replace')[-3000:]}")
            try:
                with urllib.request.urlopen(probe, timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start within {within:g} s")
            time.sleep(0.25)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stderr is not None:
            process.stderr.close()


@pytest.fixture(scope="session")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    log = tmp_path_factory.mktemp("replica") / "events.log"
    port = free_port()
    env = {**os.environ, "REPLICA_LOG": str(log), "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1"}
    url = f"http://127.0.0.1:{port}"
    with serving([sys.executable, str(APP), str(port)], f"{url}/config", "the replica", within=120, env=env):
        yield Replica(url=url, log=log, gradio_version=version("gradio"))


@contextmanager
def replica_app(name: str, log: Path | None = None) -> Iterator[Replica]:
    """One replica chat app of ``tests/replicas`` served by this environment's Gradio."""
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1"}
    if log is not None:
        env["REPLICA_LOG"] = str(log)
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, str(REPLICA_APPS / "serve.py"), name, str(port)]
    with serving(argv, f"{url}/config", f"the {name} replica", within=120, env=env):
        yield Replica(url=url, log=log, gradio_version=version("gradio"))


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
