import asyncio
import os
import socket
import threading
from collections.abc import AsyncIterator, Iterator

import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, settings

from .fake_space import FakeSpace, chat_body, script
from .login_space import LoginSpace
from .support import PIECES

# "ci" is deterministic so a red build reproduces; "thorough" explores far more.
settings.register_profile("ci", derandomize=True, max_examples=150, deadline=None, print_blob=True)
settings.register_profile(
    "thorough",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config: pytest.Config) -> None:
    # `tox -e editable` runs `-m installed`: what an editable install changes (package
    # data, entry points, metadata); `tox -e py` runs everything on the built wheel.
    config.addinivalue_line(
        "markers",
        "installed: depends on how the package is installed (bundled cassettes, the script, the pytest plugin)",
    )


@pytest.fixture(autouse=True)
def no_hub_login(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the developer's saved Hub token or asks the real Hub: the token
    variables are unset, the Hub's home is empty, and HF_ENDPOINT is a closed port."""
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_TOKEN_PATH", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path_factory.mktemp("hf-home")))
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse every connection that does not stay on this machine."""
    real_connect = socket.socket.connect

    def connect(self: socket.socket, address: object) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if self.family in (socket.AF_INET, socket.AF_INET6) and not (
            isinstance(host, str) and (host.startswith("127.") or host == "::1")
        ):
            raise ConnectionRefusedError(f"network blocked in offline tests: {address!r}")
        real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
async def fake_space() -> AsyncIterator[FakeSpace]:
    """A scriptable Gradio-like server on a loopback port (see fake_space.py)."""
    space = FakeSpace()
    server = TestServer(space.app(), host="127.0.0.1")
    await server.start_server()
    space.server = server
    try:
        yield space
    finally:
        await server.close()


@pytest.fixture
def threaded_space() -> Iterator[FakeSpace]:
    """A fake Space served from a loop of its own, for the sync client's tests (which
    run no loop in the test's thread)."""
    fake = FakeSpace()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = TestServer(fake.app(), host="127.0.0.1")
    asyncio.run_coroutine_threadsafe(server.start_server(), loop).result(10)
    fake.server = server
    try:
        yield fake
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture
async def login_space() -> AsyncIterator[LoginSpace]:
    """The fake Space behind Gradio's login (login_space.py), answering "hi" once logged in."""
    space = LoginSpace(stream=script(*chat_body("hi", PIECES)))
    server = TestServer(space.app(), host="127.0.0.1")
    await server.start_server()
    space.server = server
    try:
        yield space
    finally:
        await server.close()
