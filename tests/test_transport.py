"""The transport's error mapping: what it knows becomes the package's, a bug stays a bug.

These test ``translate`` directly, a unit private to the client's core, on purpose: it
is the one place aiohttp, asyncio and OS exceptions are mapped.
"""

import aiohttp
import pytest
from qwen_space.client import (
    QwenSpaceError,
    SpaceClient,
    SpaceTimeoutError,
    StreamInterruptedError,
    TransportError,
    UsageError,
)
from qwen_space.client.core.transport import Deadline, translate


@pytest.mark.parametrize("bug", [RuntimeError("ours"), KeyError("x"), AttributeError("y"), ZeroDivisionError()])
def test_what_translate_does_not_know_is_re_raised_as_it_is(bug: Exception) -> None:
    with pytest.raises(type(bug)) as caught:
        translate(bug, phase="join", url="http://space.invalid")
    assert caught.value is bug


def test_a_value_error_while_streaming_is_a_bug_not_a_bad_url() -> None:
    with pytest.raises(ValueError, match="parser"):
        translate(ValueError("parser"), phase="stream", url="http://space.invalid")


@pytest.mark.parametrize(
    ("exc", "phase", "kind"),
    [
        (TimeoutError(), "join", SpaceTimeoutError),
        (TimeoutError(), "stream", SpaceTimeoutError),
        (aiohttp.ClientPayloadError("cut"), "stream", StreamInterruptedError),
        (aiohttp.ServerDisconnectedError(), "stream", StreamInterruptedError),
        (aiohttp.ServerDisconnectedError(), "join", TransportError),
        (ConnectionResetError(), "config", TransportError),
        (aiohttp.InvalidURL("http://[::1"), "config", UsageError),
        (UnicodeEncodeError("latin-1", "é", 0, 1, "header"), "join", UsageError),
    ],
)
def test_network_failures_become_the_package_errors(exc: Exception, phase: str, kind: type[QwenSpaceError]) -> None:
    error = translate(exc, phase=phase, url="http://space.invalid")
    assert isinstance(error, kind)


def test_a_timeout_past_the_deadline_is_the_total_timeout() -> None:
    error = translate(TimeoutError(), phase="join", url="http://x.invalid", deadline=Deadline(0.0), doing="joining")
    assert isinstance(error, SpaceTimeoutError)
    assert error.phase == "total"


async def test_a_bug_in_a_callers_hook_is_not_reported_as_a_network_failure() -> None:
    def broken_hash() -> str:
        raise ZeroDivisionError("a bug, not the network")

    async with SpaceClient("http://127.0.0.1:9", session_hash_factory=broken_hash) as space:
        with pytest.raises(ZeroDivisionError):
            await space.complete([{"role": "user", "content": "Hi"}])
