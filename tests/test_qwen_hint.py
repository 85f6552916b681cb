"""The Qwen demo's own knowledge lives in the client (``client/core/qwen.py``), not in the
generic protocol: a hidden app error gets the demo's hint only where its event is in use."""

import pytest
from qwen_space.client import AppError, SpaceClient

# A private unit on purpose: the generic text the protocol gives a hidden error.
from qwen_space.protocol._job import HIDDEN_ERROR_TEXT

from .fake_space import CLOSE_STREAM, HIDDEN_FAILURE, FakeSpace, chat_body, script

HELLO = [{"role": "user", "content": "hi"}]


async def test_a_hidden_error_of_the_qwen_demo_says_what_it_usually_means(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", ["Hel", "lo"])[:3], HIDDEN_FAILURE, CLOSE_STREAM)
    async with SpaceClient(fake_space.url) as space:
        with pytest.raises(AppError) as caught:
            await space.complete(HELLO)
    assert str(caught.value).startswith(HIDDEN_ERROR_TEXT)
    assert "DashScope" in str(caught.value)
    assert caught.value.space_message is None


def test_the_protocols_message_names_no_app() -> None:
    assert "Qwen" not in HIDDEN_ERROR_TEXT
    assert "DashScope" not in HIDDEN_ERROR_TEXT
