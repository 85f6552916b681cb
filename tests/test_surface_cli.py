"""The CLI's exit codes: each kind of error its own, and none documented as "retry
later" unless a retry may help. ``main(argv)`` runs in-process, in a worker thread
(it runs its own event loop) while the test's loop serves the fake Space."""

import asyncio
import inspect
import sys

import pytest
import qwen_space.client
import qwen_space.client.errors
from qwen_space.client import ProtocolError, QwenSpaceError, UsageError
from qwen_space.client.errors import (
    ClientClosedError,
    EmptyReplyError,
    QueueFullError,
    RateLimitedError,
    RedirectRefusedError,
    ServerError,
    SpaceHTTPError,
    SpaceUnavailableError,
)
from qwen_space.client.ways_in.cli import exit_code, main

from .fake_space import CLOSE_STREAM, EVENT_ID, FakeSpace, completed, script, sse, tuples_chat


def test_errors_that_used_to_exit_1_have_their_own_codes() -> None:
    codes = [
        exit_code(EmptyReplyError("x")),
        exit_code(RedirectRefusedError("x", location="https://elsewhere.example/")),
        exit_code(ClientClosedError("x")),
    ]
    assert 1 not in codes
    assert len(set(codes)) == 3


def test_only_refusals_worth_retrying_share_the_retry_later_code() -> None:
    later = {exit_code(error) for error in (QueueFullError("x", status=503), RateLimitedError("x", status=429))}
    later.add(exit_code(SpaceUnavailableError("x", status=503)))
    assert len(later) == 1
    assert all(error.retryable for error in (QueueFullError("x", status=503), SpaceUnavailableError("x", status=503)))
    final = [ServerError("x", status=500), SpaceHTTPError("x", status=418)]
    assert not any(error.retryable for error in final)
    assert {exit_code(error) for error in final}.isdisjoint(later)


def test_every_error_a_caller_can_meet_has_a_code_of_its_own_kind() -> None:
    exported = [getattr(qwen_space.client.errors, name) for name in qwen_space.client.errors.__all__]
    errors = [cls for cls in exported if inspect.isclass(cls) and issubclass(cls, QwenSpaceError)]
    # The root, and ProtocolError, which is abstract: no instance of either is raised.
    concrete = [cls for cls in errors if cls not in (QwenSpaceError, ProtocolError)]
    assert len(concrete) > 25
    for cls in concrete:
        error = cls.__new__(cls)  # the code depends on the class alone
        assert exit_code(error) != 1, cls.__name__


def test_every_input_error_is_a_usage_error_and_exits_2() -> None:
    exported = [getattr(qwen_space.client.errors, name) for name in qwen_space.client.errors.__all__]
    errors = [cls for cls in exported if inspect.isclass(cls) and issubclass(cls, QwenSpaceError)]
    usage = {cls.__name__ for cls in errors if issubclass(cls, UsageError)}
    assert {"InvalidMessagesError", "ChatRequestError", "LocalProtocolError", "FileTooLargeError"} <= usage
    for cls in errors:
        if cls not in (QwenSpaceError, ProtocolError):
            error = cls.__new__(cls)
            assert (exit_code(error) == 2) == issubclass(cls, UsageError), cls.__name__


async def test_an_empty_reply_exits_with_its_code(fake_space: FakeSpace, capsys: pytest.CaptureFixture[str]) -> None:
    started = sse({"msg": "process_starts", "event_id": EVENT_ID, "eta": None})
    fake_space.stream = script(started, completed(tuples_chat("hi", "")), CLOSE_STREAM)
    code = await asyncio.to_thread(main, ["chat", "hi", "--url", fake_space.url])
    assert code == exit_code(EmptyReplyError("x")) != 1
    assert "empty reply" in capsys.readouterr().err


def test_a_secret_without_its_name_is_a_usage_error_that_does_not_echo_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["duplicate", "--secret", "sk-the-value-itself"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "KEY=VALUE" in err
    assert "sk-the-value-itself" not in err


def test_duplicate_without_the_hub_extra_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # As if huggingface_hub were not installed: importing it fails, and the module that
    # needs it is imported afresh.
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)
    monkeypatch.delitem(sys.modules, "qwen_space.client.hub.duplicate", raising=False)
    assert main(["duplicate"]) == 2
    assert 'pip install ".[hub]"' in capsys.readouterr().err
