"""A pytest plugin (entry point ``pytest11``) for testing code that uses qwen-space.

Mark a test with the cassette to use and take the ``qwen_space`` fixture: a
:class:`SpaceClient` that replays the recorded session, offline. Run pytest with
``--qwen-space-record`` (and ``--qwen-space-url``) to record the cassette instead.

    @pytest.mark.asyncio
    @pytest.mark.qwen_space_cassette("cassettes/hello.yaml")
    async def test_greeting(qwen_space):
        completion = await qwen_space.complete([{"role": "user", "content": "Hello! Who are you?"}])
        assert completion.text

``bundled:gradio-5.50.0/hello.yaml`` names a cassette shipped with qwen-space: it is
replayed, in record mode too (it is never re-recorded), so a suite that mixes bundled
cassettes and its own records its own and replays the rest. Without the marker the cassette is
``cassettes/<test module>/<test name>.yaml`` next to the test. A recording replaces
the cassette only when the test passed; otherwise the old one stays as it was.
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

from ..core.client import SpaceClient, default_url
from ..errors import CassetteError
from .cassette import bundled_cassette, record_cassette, use_cassette

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
_BUNDLED = "bundled:"
#: Set on a test whose call failed: its recording is not kept.
_CALL_FAILED = pytest.StashKey[bool]()


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


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> None:
    if call.when == "call" and call.excinfo is not None:
        item.stash[_CALL_FAILED] = True


def cassette_path(request: pytest.FixtureRequest) -> tuple[Path, bool]:
    """The test's cassette, and whether it is one of qwen-space's own (never recorded)."""
    marker = request.node.get_closest_marker("qwen_space_cassette")
    if marker is not None and marker.args:
        name = str(marker.args[0])
        if name.startswith(_BUNDLED):
            return bundled_cassette(name.removeprefix(_BUNDLED)), True
        path = Path(name)
        return (path if path.is_absolute() else Path(request.path).parent / path), False
    test_name = re.sub(r"[^\w.-]", "-", request.node.name)
    return Path(request.path).parent / "cassettes" / Path(request.path).stem / f"{test_name}.yaml", False


@_async_fixture
async def qwen_space(request: pytest.FixtureRequest) -> AsyncIterator[SpaceClient]:
    """A SpaceClient replaying (or, with --qwen-space-record, recording) the test's cassette."""
    path, bundled = cassette_path(request)
    if request.config.getoption("--qwen-space-record") and not bundled:
        with record_cassette(path) as cassette:
            async with SpaceClient(request.config.getoption("--qwen-space-url") or default_url()) as space:
                yield space
            if request.node.stash.get(_CALL_FAILED, False):
                cassette.discard()
        return
    if not path.exists():
        raise CassetteError(
            f"no cassette at {path}; record it with `pytest --qwen-space-record` (and --qwen-space-url)"
        )
    with use_cassette(path):
        async with SpaceClient(_REPLAY_URL) as space:
            yield space
