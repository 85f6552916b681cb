"""Builds the queue messages a Gradio server sends for one chat turn of the Qwen app."""

from collections.abc import Sequence

from qwen_space.protocol import JSONValue, Turn
from qwen_space.protocol._chatbot import ChatbotFormat
from qwen_space.protocol._messages import CompletionStatus, Output, ProcessCompleted, ProcessGenerating, QueueMessage

from .gradio_diff import Variant, chunk_edits

SYSTEM = "You are a helpful assistant."


def chatbot_history(turns: Sequence[Turn], chatbot_format: ChatbotFormat) -> list[JSONValue]:
    """A Chatbot's value as a Gradio server sends it (5.x and 6.x messages carry
    ``metadata`` and ``options``; 6.x content is a list of parts)."""
    if chatbot_format is ChatbotFormat.TUPLES:
        return [[turn.user, turn.assistant] for turn in turns]

    def content(text: str) -> JSONValue:
        return [{"type": "text", "text": text}] if chatbot_format is ChatbotFormat.NORMALISED else text

    return [
        {"role": role, "metadata": None, "content": content(text), "options": None}
        for turn in turns
        for role, text in (("user", turn.user), ("assistant", turn.assistant))
    ]


def chatbot_value(history: list[Turn], query: str, answer: str, chatbot_format: ChatbotFormat) -> JSONValue:
    if chatbot_format is ChatbotFormat.TEXT:
        return answer
    return chatbot_history([*history, Turn(query, answer)], chatbot_format)


def qwen_turn(
    yields: list[str],
    chatbot_format: ChatbotFormat,
    *,
    history: list[Turn] | None = None,
    query: str = "q",
    event_id: str = "e",
    variant: Variant = "correct",
) -> list[QueueMessage]:
    """The generating messages and the completion for cumulative ``yields``
    of ``model_chat``: outputs ``('', chatbot, system)``."""
    previous: list[JSONValue] | None = None
    messages: list[QueueMessage] = []
    for text in yields:
        current: list[JSONValue] = ["", chatbot_value(history or [], query, text, chatbot_format), SYSTEM]
        data = current if previous is None else chunk_edits(previous, current, variant)
        messages.append(ProcessGenerating(event_id=event_id, output=Output(data=data, is_generating=True)))
        previous = current
    final: list[JSONValue] = [
        "",
        chatbot_value(history or [], query, yields[-1] if yields else "", chatbot_format),
        SYSTEM,
    ]
    messages.append(
        ProcessCompleted(event_id=event_id, status=CompletionStatus.SUCCEEDED, output=Output(data=final, duration=0.5))
    )
    return messages
