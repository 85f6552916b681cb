import pytest
from hypothesis import given
from hypothesis import strategies as st
from qwen_space.protocol import JSONValue, Turn
from qwen_space.protocol._chatbot import ChatbotFormat, Reply, content_text, read_history, read_reply

from .chat_streams import chatbot_history

TURNS = [Turn("hi", "Hello there!"), Turn("again", "Sure.")]


def test_tuples() -> None:
    assert read_reply([["hi", "Hello"], ["q", "A"]], ChatbotFormat.TUPLES) == Reply("A", (1, 1))
    assert read_reply([["q", None]], ChatbotFormat.TUPLES) == Reply("", None)


def test_flat_messages() -> None:
    history = chatbot_history(TURNS[:1], ChatbotFormat.MESSAGES)
    assert read_reply(history, ChatbotFormat.MESSAGES) == Reply("Hello there!", (1, "content"))


def test_normalised_messages() -> None:
    history = chatbot_history(TURNS[:1], ChatbotFormat.NORMALISED)
    value: list[JSONValue] = [
        *history,
        {"role": "user", "content": [{"type": "text", "text": "q"}]},
        {
            "role": "assistant",
            "content": [{"type": "text", "text": "A"}, {"type": "file", "file": {}}, {"type": "text", "text": "B"}],
        },
    ]
    assert read_reply(value, ChatbotFormat.NORMALISED) == Reply("AB", (3, "content", 2, "text"))


def test_reply_of_current_turn_only() -> None:
    value: JSONValue = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "old"},
        {"role": "user", "content": "q"},
    ]
    assert read_reply(value, ChatbotFormat.MESSAGES) == Reply("", None)


def test_thoughts_are_not_the_reply() -> None:
    value: JSONValue = [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "answer"},
        {"role": "assistant", "content": "thinking", "metadata": {"title": "Reasoning"}},
    ]
    assert read_reply(value, ChatbotFormat.MESSAGES).text == "answer"


def test_text_output() -> None:
    assert read_reply("tok0 ", ChatbotFormat.TEXT) == Reply("tok0 ", ())
    assert read_reply({"a": 1}, ChatbotFormat.TEXT) == Reply("", None)


@pytest.mark.parametrize("chatbot_format", list(ChatbotFormat))
@pytest.mark.parametrize(
    "value",
    [None, 3, "x", [], [None], [[1]], [{"role": "assistant", "content": 5}], [{"role": "assistant", "content": [5]}]],
)
def test_odd_values_give_an_empty_reply(chatbot_format: ChatbotFormat, value: object) -> None:
    reply = read_reply(value, chatbot_format)  # type: ignore[arg-type]
    assert isinstance(reply.text, str)


@given(
    st.lists(st.builds(Turn, st.text(max_size=10), st.text(max_size=10)), max_size=5),
    st.sampled_from([ChatbotFormat.TUPLES, ChatbotFormat.MESSAGES, ChatbotFormat.NORMALISED]),
)
def test_read_history_reads_every_format(turns: list[Turn], chatbot_format: ChatbotFormat) -> None:
    assert read_history(chatbot_history(turns, chatbot_format)) == turns


def test_content_text_names_what_is_not_text() -> None:
    assert content_text("hi") == ("hi", [])
    assert content_text([{"type": "text", "text": "a"}, {"type": "image_url"}, {"type": "text", "text": "b"}]) == (
        "ab",
        ["image_url"],
    )
    assert content_text(None) is None
    assert content_text(b"bytes") is None
