"""A ZeroGPU quota answer is a GPUQuotaError with the wait it names and advice about tokens.

The texts are those users reported from ZeroGPU Spaces (the ``spaces`` package's
``gr.Error``, title "ZeroGPU quota exceeded"); a fake Space sends them as the failed
job a ZeroGPU Space ends with, since a real ZeroGPU cannot run on loopback.
"""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qwen_space.client import AppError, SpaceClient
from qwen_space.client.errors import GPUQuotaError
from qwen_space.protocol import ChatEvent, Failed
from qwen_space.protocol._quota import advise_quota, app_error

from .fake_space import EVENT_ID, FakeSpace, script, sse
from .support import BOUNDED, HELLO, NO_WAIT

WITH_LINK = (
    "You have exceeded your GPU quota (60s requested vs. 56s left). "
    '<a style="white-space: nowrap;text-underline-offset: 2px;color: var(--body-text-color)" '
    'href="https://huggingface.co/join">Create a free account</a> to get more usage quota.'
)
SIGN_UP = (
    "You have exceeded your GPU quota (46s left vs. 60s requested). "
    "Sign-up on Hugging Face to get more quotas or retry in 0:09:48."
)
TRY_AGAIN = "You have exceeded your GPU quota (60s requested vs. 0s left). Try again in 0:00:00"
FREE = "You have exceeded your free GPU quota (60s requested vs. 55s left)"
PRO = "You have exceeded your Pro GPU quota (60s requested vs. 12s left). Try again in 1 day, 2:03:04"


@pytest.mark.parametrize(
    ("text", "retry_after", "requested", "left"),
    [
        (WITH_LINK, None, 60.0, 56.0),
        (SIGN_UP, 588.0, 60.0, 46.0),
        (TRY_AGAIN, 0.0, 60.0, 0.0),
        (FREE, None, 60.0, 55.0),
        (PRO, 86400.0 + 7384.0, 60.0, 12.0),
    ],
)
def test_the_public_quota_texts(text: str, retry_after: float | None, requested: float, left: float) -> None:
    error = app_error("the Space reported an error", space_message=text, title="ZeroGPU quota exceeded")
    assert isinstance(error, GPUQuotaError)
    assert (error.retry_after, error.requested, error.left) == (retry_after, requested, left)
    assert error.space_message == text
    assert "<a" not in str(error)  # the link's markup is not shown
    assert "A logged-in account has its own quota" in str(error)
    assert error.retryable


def test_a_negative_wait_names_no_wait() -> None:
    text = "You have exceeded your GPU quota (60s requested vs. 5s left). Try again in -1 day, 23:59:59"
    error = app_error("x", space_message=text, title=None)
    assert isinstance(error, GPUQuotaError)
    assert error.retry_after is None


@pytest.mark.parametrize(
    "text",
    [
        "The requested GPU duration (300s) is larger than the maximum allowed retry in -1 day, 23:59:59",
        "CUDA out of memory",
        None,
    ],
)
def test_other_app_errors_stay_app_errors(text: str | None) -> None:
    error = app_error("the Space reported an error", space_message=text, title=None)
    assert type(error) is AppError


@given(st.text(max_size=300))
def test_any_text_is_an_app_error_of_one_class_or_the_other(noise: str) -> None:
    for text in (noise, f"You have exceeded your GPU quota {noise} retry in {noise}", "retry in 9" * 50 + noise):
        error = app_error("x", space_message=text, title=None)
        assert isinstance(error, AppError)


def test_the_advice_says_whether_a_token_was_sent() -> None:
    failed: list[ChatEvent] = [Failed(app_error("x", space_message=SIGN_UP, title=None))]
    sent = advise_quota(failed, token_sent=True)[0]
    anonymous = advise_quota(failed, token_sent=False)[0]
    assert isinstance(sent, Failed)
    assert isinstance(sent.error, GPUQuotaError)
    assert isinstance(anonymous, Failed)
    assert isinstance(anonymous.error, GPUQuotaError)
    assert sent.error.token_sent is True
    assert "token was sent" in str(sent.error)
    assert anonymous.error.token_sent is False
    assert "No token was sent" in str(anonymous.error)
    assert sent.error.retry_after == anonymous.error.retry_after == 588.0


def quota_failure(text: str) -> bytes:
    """The last message of a ZeroGPU Space's job refused for quota (as Gradio 5 sends a gr.Error)."""
    return sse(
        {
            "msg": "process_completed",
            "event_id": EVENT_ID,
            "output": {"error": text, "title": "ZeroGPU quota exceeded", "visible": True, "duration": 10},
            "success": False,
            "title": "ZeroGPU quota exceeded",
        }
    )


@pytest.mark.parametrize("token", [None, "hf_abcdefghijklmnop"])
@pytest.mark.parametrize("text", [WITH_LINK, SIGN_UP, TRY_AGAIN])
async def test_a_fake_zerogpu_space_answering_the_quota_text(
    fake_space: FakeSpace, text: str, token: str | None
) -> None:
    fake_space.stream = script(
        sse({"msg": "estimation", "event_id": EVENT_ID, "rank": 0, "queue_size": 1, "rank_eta": None}),
        sse({"msg": "process_starts", "event_id": EVENT_ID, "eta": None}),
        quota_failure(text),
    )
    async with SpaceClient(fake_space.url, hf_token=token, timeouts=BOUNDED, retry=NO_WAIT) as space:
        with pytest.raises(GPUQuotaError) as caught:
            await space.complete(HELLO)
    error = caught.value
    assert error.token_sent is (token is not None)
    assert ("token was sent" if token else "No token was sent") in str(error)
    assert error.retry_after == {WITH_LINK: None, SIGN_UP: 588.0, TRY_AGAIN: 0.0}[text]
    assert fake_space.join_headers[0].get("x-hf-authorization") == (f"Bearer {token}" if token else None)
    assert token is None or token not in str(error)
    json.dumps(str(error))  # a plain string
