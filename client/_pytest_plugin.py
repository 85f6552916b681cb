"""A pytest plugin (entry point ``pytest11``) for testing code that uses qwen-space.

Mark a test with the cassette to use and take the ``qwen_space`` fixture: a
:class:`SpaceClient` that replays the recorded session, offline. Run pytest with
``--qwen-space-record`` (and ``--qwen-space-url``) to record the cassette instead.

    @pytest.mark.asyncio
    @pytest.mark.qwen_space_cassette("cassettes/hello.yaml")
    async def test_greeting(qwen_space):
        completion = await qwen_space.complete([{"role": "user", "content": "Hello! Who are you?"}])
        assert completion.text

``bundled:gradio-5.50.0/hello.yaml`` names a cassette shipped with qwen-space. Without
the marker the cassette is ``cassettes/<test module>/<test name>.yaml`` next to the test.
The fixture is async: with pytest-asyncio installed it is a pytest-asyncio fixture, so
it works in the default strict mode as in auto mode. This module is loaded into every
pytest run of anyone who installs qwen-space, so it imports nothing heavy (vcrpy only
when the fixture runs).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest

from ._cassette import bundled_cassette, use_cassette
from ._client import SpaceClient, default_url
from ._errors import CassetteError

_Fixture = TypeVar("_Fixture", bound=Callable[..., Any])


def _async_fixture(function: _Fixture) -> _Fixture:
    """pytest-asyncio's strict mode (its default) runs only the async fixtures it owns;
    without pytest-asyncio, anyio or another plugin handles a plain async fixture."""
    try:
        import pytest_asyncio
    except ImportError:
        return cast(_Fixture, pytest.fixture(function))
    return cast(_Fixture, pytest_asyncio.fixture(function))


__all__ = ["qwen_space"]

_REPLAY_URL = "http://cassette.invalid"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("qwen-space")
    group.addoption(
        "--qwen-space-record",
        action="store_true",
        help="record the qwen_space cassettes from the live Space instead of replaying them",
    )
    group.addoption("--qwen-space-url", default=None, help="the Space to record from (default: $QWEN_SPACE_URL)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "qwen_space_cassette(path): the cassette the qwen_space fixture replays (or records)"
    )


def cassette_path(request: pytest.FixtureRequest) -> Path:
    marker = request.node.get_closest_marker("qwen_space_cassette")
    if marker is not None and marker.args:
        name = str(marker.args[0])
        if name.startswith("bundled:"):
            return bundled_cassette(name.removeprefix("bundled:"))
        path = Path(name)
        return path if path.is_absolute() else Path(request.path).parent / path
    test_name = re.sub(r"[^\w.-]", "-", request.node.name)
    return Path(request.path).parent / "cassettes" / Path(request.path).stem / f"{test_name}.yaml"


@_async_fixture
async def qwen_space(request: pytest.FixtureRequest) -> AsyncIterator[SpaceClient]:
    """A SpaceClient replaying (or, with --qwen-space-record, recording) the test's cassette."""
    path = cassette_path(request)
    recording = bool(request.config.getoption("--qwen-space-record"))
    if recording:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
    if not recording and not path.is_file():
        raise CassetteError(
            f"no cassette at {path}; record it with `pytest --qwen-space-record` (and --qwen-space-url)"
        )
    url = (request.config.getoption("--qwen-space-url") or default_url()) if recording else _REPLAY_URL
    with use_cassette(path, record_mode="once" if recording else "none"):
        async with SpaceClient(url) as space:
            yield space
