"""A thought is a message whose metadata has a title, whatever JSON the title is: the
answer and the reasoning read one rule, so no message's text is lost between them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from qwen_space.protocol import JSONValue
from qwen_space.protocol._chatbot import ChatbotFormat, read_reply
from qwen_space.protocol._reasoning import Thought, split_reply

from .strategies import json_values


def message(text: str, metadata: JSONValue, chatbot_format: ChatbotFormat) -> JSONValue:
    content: JSONValue = [{"type": "text", "text": text}] if chatbot_format is ChatbotFormat.NORMALISED else text
    return {"role": "assistant", "metadata": metadata, "content": content, "options": None}


def test_a_numeric_title_is_a_thought_in_both() -> None:
    value: list[JSONValue] = [
        {"role": "user", "content": "hi"},
        message("thinking", {"title": 42, "status": "done"}, ChatbotFormat.MESSAGES),
        message("the answer", None, ChatbotFormat.MESSAGES),
    ]
    parts = split_reply(value, ChatbotFormat.MESSAGES)
    assert parts.thoughts == (Thought("42", "thinking", "done"),)
    assert parts.answer == read_reply(value, ChatbotFormat.MESSAGES).text == "the answer"


def test_a_deep_title_is_bounded() -> None:
    title: JSONValue = []
    for _ in range(5000):
        title = [title]
    parts = split_reply([message("t", {"title": title}, ChatbotFormat.MESSAGES)], ChatbotFormat.MESSAGES)
    assert parts.thoughts == (Thought("[[[[[...]]]]]", "t"),)


titles = st.one_of(st.none(), st.just(""), st.just(0), st.just(False), st.just([]), json_values)
formats = st.sampled_from([ChatbotFormat.MESSAGES, ChatbotFormat.NORMALISED, ChatbotFormat.TEXT])


@given(st.lists(st.tuples(titles, st.booleans()), max_size=6), formats)
def test_no_message_text_is_lost(titled: list[tuple[JSONValue, bool]], chatbot_format: ChatbotFormat) -> None:
    content_format = ChatbotFormat.MESSAGES if chatbot_format is ChatbotFormat.TEXT else chatbot_format
    texts = [f"text {i}" for i in range(len(titled))]
    value: list[JSONValue] = [
        message(text, {"title": title} if in_metadata else title, content_format)
        for text, (title, in_metadata) in zip(texts, titled, strict=True)
    ]
    parts = split_reply(value, chatbot_format)
    thought_texts = [thought.text for thought in parts.thoughts]
    answers = [text for text in texts if text not in thought_texts]
    # Every message is a thought or an answer; the answer is the last one that is not a thought.
    assert parts.answer == (answers[-1] if answers else "")
    assert parts.answer == read_reply(value, chatbot_format).text
    for text, (title, in_metadata) in zip(texts, titled, strict=True):
        assert (text in thought_texts) == bool(in_metadata and title)
    assert all(isinstance(t.title, str) and t.title for t in parts.thoughts)
