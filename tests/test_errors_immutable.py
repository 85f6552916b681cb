"""Errors get their fields when they are made; code that learns more later makes a
changed copy, so an error someone already holds (an event, a caller's ``except``) never
changes under them."""

from __future__ import annotations

import pickle
import traceback

import pytest
from qwen_space.protocol import ChatStream, Failed, QwenSpaceError
from qwen_space.protocol._chatbot import ChatbotFormat
from qwen_space.protocol.errors import AppError, QueueFullError, RequestRejectedError, SpaceHTTPError, StreamError

from .test_public_names import ERRORS, sample
from .test_stream import new_job, plain_turn


def state(error: QwenSpaceError) -> tuple[object, ...]:
    return (type(error), error.args, dict(vars(error)), str(error))


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_every_copy_leaves_the_original_as_it_was(cls: type[QwenSpaceError]) -> None:
    error = sample(cls)
    before = state(error)
    partial = error.with_partial("half an answer")
    hinted = error.with_hint("pass a token")
    final = error.not_retryable()
    assert state(error) == before
    assert type(partial) is type(hinted) is type(final) is cls
    assert partial.partial_text == "half an answer"
    assert "half an answer" not in str(error)
    assert "14 characters" in str(partial)
    assert hinted.message == hinted.args[0] == f"{error.message}. Pass a token"
    assert not final.retryable
    for copy in (partial, hinted, final):
        assert state(pickle.loads(pickle.dumps(copy))) == state(copy)


def test_fields_are_given_at_construction() -> None:
    assert StreamError("the Space stopped", retryable=True).retryable
    assert not StreamError("the stream failed").retryable
    assert not QueueFullError("full", status=503, retryable=False).retryable
    assert QueueFullError("full", status=503).retryable  # the class's answer stands unless overridden
    refused = RequestRejectedError("no", status=429, detail="slow down", retry_after=7.0)
    assert (refused.status, refused.detail, refused.retry_after) == (429, "slow down", 7.0)
    assert AppError("boom", space_message="boom", partial_text="so far").partial_text == "so far"
    waited = refused.with_retry_after(3.0)
    assert (refused.retry_after, waited.retry_after, waited.status) == (7.0, 3.0, 429)


def test_a_copy_keeps_the_cause_and_where_the_original_was_raised() -> None:
    def join() -> None:
        try:
            raise ConnectionResetError("reset by peer")
        except OSError as exc:
            raise SpaceHTTPError("the join failed", status=502) from exc

    with pytest.raises(SpaceHTTPError) as caught:
        try:
            join()
        except SpaceHTTPError as error:
            # The idiom for raising a copy inside the original's handler.
            raise error.not_retryable() from error.__cause__
    copy = caught.value
    assert not copy.retryable
    assert isinstance(copy.__cause__, ConnectionResetError)
    shown = "".join(traceback.format_exception(copy))
    assert "reset by peer" in shown
    assert "The above exception was the direct cause" in shown
    assert "in join" in shown, "the copy's traceback still reaches where the original was raised"
    assert shown.count("SpaceHTTPError: the join failed") == 1, "the original is not shown again as a second error"


def test_a_failed_job_hands_out_a_copy_with_the_partial_text() -> None:
    job = new_job(ChatbotFormat.TUPLES)
    stream = ChatStream(job)
    stream.feed(b"".join(plain_turn(["so ", "far"]).splitlines(keepends=True)[:6]))  # not the completion
    given = StreamError("the stream failed")
    (failed,) = job.fail(given)
    assert isinstance(failed, Failed)
    assert failed.error.partial_text == job.text == "so far"
    assert given.partial_text == "", "the error the caller gave is not changed"


def test_a_broken_stream_reports_the_error_with_its_partial_text() -> None:
    body = plain_turn(["a", "b", "c"]).replace(b'"append",[0,1],"c"', b'"append",[0,1],"c"}}}')
    job = new_job(ChatbotFormat.TUPLES)
    stream = ChatStream(job)
    events = stream.feed(body)
    assert isinstance(events[-1], Failed)
    assert stream.error is not None
    assert stream.error.partial_text == events[-1].error.partial_text == "ab"


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_an_error_refuses_changes_once_made(cls: type[QwenSpaceError]) -> None:
    error = sample(cls)
    before = state(error)
    for name, value in (("partial_text", "x"), ("retryable", True), ("message", "m"), ("args", ("m",)), ("new", 1)):
        with pytest.raises(AttributeError, match="cannot change"):
            setattr(error, name, value)
    with pytest.raises(AttributeError, match="cannot change"):
        del error.message
    assert state(error) == before
    error.add_note("a note")  # Python's own dunders still work
    copy = pickle.loads(pickle.dumps(error.with_partial("so far")))
    assert copy.partial_text == "so far"
    with pytest.raises(AttributeError, match="cannot change"):
        copy.partial_text = "changed"
