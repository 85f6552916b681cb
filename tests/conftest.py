import os
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, settings

from .fake_space import FakeSpace

# "ci" is deterministic so a red build reproduces; "thorough" explores far more.
settings.register_profile("ci", derandomize=True, max_examples=150, deadline=None, print_blob=True)
settings.register_profile(
    "thorough",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


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
