from typing import Any

import pytest
from qwen_space.client import SpaceClient
from qwen_space.client.core.request import prepare_request
from qwen_space.client.errors import InvalidMessagesError
from qwen_space.protocol import Turn

from .fake_space import FakeSpace


def test_without_a_system_message_the_app_keeps_its_own_default() -> None:
    # None: the system input's default from /config goes out (the Qwen demo's is DEFAULT_SYSTEM).
    request = prepare_request([{"role": "user", "content": "hi"}])
    assert (request.query, request.history, request.system) == ("hi", (), None)


def test_system_messages_join_and_history_pairs() -> None:
    request = prepare_request(
        [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "b"},
            {"role": "system", "content": "Be kind."},
            {"role": "user", "content": "c"},
        ]
    )
    assert request.system == "Be brief.\nBe kind."
    assert request.history == (Turn("a", "b"),)
    assert request.query == "c"


def test_explicit_system_wins() -> None:
    assert (
        prepare_request([{"role": "system", "content": "x"}, {"role": "user", "content": "q"}], system="y").system
        == "y"
    )


def test_runs_of_one_role_and_unanswered_questions() -> None:
    request = prepare_request(
        [
            {"role": "assistant", "content": "Welcome!"},
            {"role": "user", "content": "u1"},
            {"role": "user", "content": "u2"},
            {"role": "assistant", "content": "a1"},
            {"role": "assistant", "content": "a2"},
            {"role": "user", "content": "pending"},
            {"role": "user", "content": "q"},
        ]
    )
    assert request.history == (Turn("", "Welcome!"), Turn("u1\nu2", "a1\na2"))
    assert request.query == "pending\nq"


def test_text_parts_are_accepted() -> None:
    request = prepare_request(
        [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]
    )
    assert request.query == "ab"


@pytest.mark.parametrize(
    ("messages", "says"),
    [
        ([], "empty"),
        (b"hello", "list"),
        ("   ", "empty"),
        ([{"role": "system", "content": "x"}], "must come from the user"),
        ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "must come from the user"),
        ([{"role": "tool", "content": "x"}], "role 'tool'"),
        ([{"content": "x"}], "role None"),
        (["hi"], "must be a dict"),
        ([{"role": "user", "content": None}], "must be a string"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}], "as a data URL"),
        ([{"role": "user", "content": "   "}], "empty"),
        ([{"role": "user", "content": "x" * 5_000_000}], "more than the limit"),
    ],
)
def test_bad_input_is_refused(messages: Any, says: str) -> None:
    with pytest.raises(InvalidMessagesError, match=says):
        prepare_request(messages)


async def test_bad_input_never_reaches_the_network(fake_space: FakeSpace) -> None:
    async with SpaceClient(fake_space.url) as space:
        with pytest.raises(InvalidMessagesError):
            space.events([{"role": "assistant", "content": "no question"}])
        with pytest.raises(InvalidMessagesError):
            await space.complete([])
        with pytest.raises(InvalidMessagesError):
            async for _ in space.chat([{"role": "user", "content": "x" * 5_000_000}]):
                pass
    assert fake_space.join_bodies == []


async def test_chat_and_events_refuse_bad_input_alike_when_called() -> None:
    """Before any iteration, and as the same error: neither is a generator that waits."""
    async with SpaceClient("http://127.0.0.1:9") as space:
        errors = []
        for method in (space.chat, space.events):
            with pytest.raises(InvalidMessagesError) as caught:
                method([])
            errors.append((type(caught.value), str(caught.value)))
    assert errors[0] == errors[1]
    assert isinstance(caught.value, ValueError)
