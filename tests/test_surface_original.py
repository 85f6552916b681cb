"""The original provider's helpers: one session-hash generator, and the package's errors for
what a caller got wrong."""

from typing import Any

import pytest
from qwen_space.client import Qwen_Qwen_2_5_Max
from qwen_space.client.errors import InvalidMessagesError
from qwen_space.client.ways_in.original import format_prompt, generate_session_hash
from qwen_space.protocol import new_session_hash


def test_the_original_makes_session_hashes_with_the_protocols_generator() -> None:
    assert generate_session_hash is new_session_hash


@pytest.mark.parametrize(
    "messages",
    [
        [],
        [{"role": "user"}],
        [{"role": "user", "content": "Hi"}, {"content": "who speaks?"}],
    ],
)
def test_format_prompt_refuses_what_is_not_a_conversation(messages: list[dict[str, Any]]) -> None:
    with pytest.raises(InvalidMessagesError):
        format_prompt(messages)


def test_flattening_a_message_without_a_role_is_invalid_input() -> None:
    messages = [{"role": "user", "content": "Hi"}, {"content": "who speaks?"}]
    with pytest.raises(InvalidMessagesError):
        Qwen_Qwen_2_5_Max.create_async_generator("", messages, flatten_history=True)
