import pytest
from hypothesis import given
from hypothesis import strategies as st
from qwen_space.protocol import (
    ChatEvent,
    Completed,
    Correction,
    Failed,
    JSONValue,
    LogMessage,
    QueuePosition,
    Started,
    TextDelta,
    Turn,
)
from qwen_space.protocol._chatbot import ChatbotFormat
from qwen_space.protocol._job import HIDDEN_ERROR_TEXT, ChatJob, ChatJobState
from qwen_space.protocol._messages import (
    CloseStream,
    CompletionStatus,
    Estimation,
    Heartbeat,
    Log,
    Output,
    ProcessCompleted,
    ProcessGenerating,
    ProcessStarts,
    QueueMessage,
    UnexpectedError,
    UnknownMessage,
)
from qwen_space.protocol.errors import (
    AppError,
    JobCancelledError,
    RemoteProtocolError,
    SessionNotFoundError,
    StreamError,
    StreamInterruptedError,
)

from .chat_streams import qwen_turn
from .gradio_diff import server_diff

CHAT_FORMATS = [ChatbotFormat.TUPLES, ChatbotFormat.MESSAGES, ChatbotFormat.NORMALISED]


def new_job(chatbot_format: ChatbotFormat = ChatbotFormat.TUPLES) -> ChatJob:
    return ChatJob(event_id="e", reply_slot=1, reply_format=chatbot_format)


def run(job: ChatJob, messages: list[QueueMessage]) -> list[ChatEvent]:
    return [event for message in messages for event in job.receive(message)]


def shown_text(events: list[ChatEvent]) -> str:
    """What a consumer applying deltas and corrections displays."""
    text = ""
    for event in events:
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, Correction):
            text = text[: len(text) - event.retract] + event.text
    return text


@st.composite
def cumulative_yields(draw: st.DrawFn) -> tuple[str, list[str]]:
    reply = draw(st.text(min_size=0, max_size=80))
    cuts = sorted(draw(st.lists(st.integers(min_value=0, max_value=len(reply)), max_size=12)))
    return reply, [reply[:cut] for cut in cuts] + [reply]


@pytest.mark.parametrize("chatbot_format", CHAT_FORMATS)
@given(case=cumulative_yields(), history_size=st.integers(min_value=0, max_value=3))
def test_deltas_concatenate_to_the_reply(
    chatbot_format: ChatbotFormat, case: tuple[str, list[str]], history_size: int
) -> None:
    """For any split of a reply into cumulative yields, the deltas concatenate to it."""
    reply, yields = case
    history = [Turn(f"u{i}", f"a{i}") for i in range(history_size)]
    events = run(new_job(chatbot_format), qwen_turn(yields, chatbot_format, history=history))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == reply
    assert not [e for e in events if isinstance(e, Correction)]
    assert events[-1] == Completed(reply, 0.5)


def test_text_output_streams_too() -> None:
    job = ChatJob(event_id="e", reply_slot=0, reply_format=ChatbotFormat.TEXT)
    events = run(
        job,
        [
            ProcessGenerating(event_id="e", output=Output(data=["tok0 "])),
            ProcessGenerating(event_id="e", output=Output(data=[[["append", [], "tok1 "]]])),
            ProcessCompleted(event_id="e", status=CompletionStatus.SUCCEEDED, output=Output(data=["tok0 tok1 "])),
        ],
    )
    assert events == [TextDelta("tok0 "), TextDelta("tok1 "), Completed("tok0 tok1 ", None)]


def test_queue_start_log_and_late_estimation() -> None:
    job = new_job()
    events = run(
        job,
        [
            Estimation(event_id="e", rank=3, queue_size=5, rank_eta=9.0),
            Heartbeat(),
            ProcessStarts(event_id="e", eta=2.0),
            Estimation(event_id="e", rank=0, queue_size=1),
            Log(event_id="e", log="careful", level="warning", title="Warning"),
            UnknownMessage(tag="future", event_id="e", payload={}),
        ],
    )
    assert events == [QueuePosition(3, 5, 9.0), Started(2.0), LogMessage("warning", "careful", "Warning")]
    assert job.state is ChatJobState.STARTED


def test_rewrite_of_shown_text_is_an_explicit_correction() -> None:
    job = new_job()
    first = run(job, qwen_turn(["Hello wor"], ChatbotFormat.TUPLES)[:1])
    rewritten = ProcessGenerating(event_id="e", output=Output(data=[[], [["replace", [0, 1], "Hello, world"]], []]))
    events = first + job.receive(rewritten)
    assert events == [TextDelta("Hello wor"), Correction(retract=4, text=", world", previous="Hello wor")]
    assert shown_text(events) == "Hello, world"


def test_desynchronised_output_waits_and_the_final_value_corrects() -> None:
    job = new_job()
    events = run(job, qwen_turn(["abc"], ChatbotFormat.TUPLES)[:1])
    events += job.receive(ProcessGenerating(event_id="e", output=Output(data=[[], [["delete", [7], None]], []])))
    events += job.receive(ProcessGenerating(event_id="e", output=Output(data=[[], [["append", [0, 1], "d"]], []])))
    assert events == [TextDelta("abc")], "nothing is shown from a desynchronised output"
    final = ProcessCompleted(
        event_id="e", status=CompletionStatus.SUCCEEDED, output=Output(data=["", [["q", "abXYZ"]], ""])
    )
    events += job.receive(final)
    assert events[1:] == [Correction(retract=1, text="XYZ", previous="abc"), Completed("abXYZ", None)]
    assert shown_text(events) == "abXYZ"


# Answers of several text parts: Gradio 6 content whose nested deletes hit the defect.
_histories = st.lists(
    st.tuples(st.text("ab", max_size=2), st.lists(st.text("ab", max_size=2), min_size=1, max_size=3)),
    min_size=1,
    max_size=3,
)


def _normalised(history: list[tuple[str, list[str]]]) -> JSONValue:
    messages: list[JSONValue] = []
    for user, answer in history:
        messages.append({"role": "user", "content": [{"type": "text", "text": user}]})
        messages.append({"role": "assistant", "content": [{"type": "text", "text": part} for part in answer]})
    return messages


@given(_histories, _histories)
def test_the_final_value_repairs_a_silently_wrong_diff(
    old: list[tuple[str, list[str]]], new: list[tuple[str, list[str]]]
) -> None:
    """Whatever Gradio 5.29.1+'s nested delete defect does to the history, the consumer
    ends up holding the completion's reply."""
    diff = server_diff(_normalised(old), _normalised(new), "nested_renumber")
    final = Output(data=["", _normalised(new), ""])
    events = run(
        new_job(ChatbotFormat.NORMALISED),
        [
            ProcessGenerating(event_id="e", output=Output(data=["", _normalised(old), ""])),
            ProcessGenerating(event_id="e", output=Output(data=[[], diff, []])),
            ProcessCompleted(event_id="e", status=CompletionStatus.SUCCEEDED, output=final),
        ],
    )
    reply = "".join(new[-1][1])
    assert shown_text(events) == reply
    assert events[-1] == Completed(reply, None)


def test_final_value_that_extends_is_a_delta() -> None:
    job = new_job()
    events = run(job, qwen_turn(["ab"], ChatbotFormat.TUPLES)[:1])
    final = ProcessCompleted(
        event_id="e", status=CompletionStatus.SUCCEEDED, output=Output(data=["", [["q", "abc"]], ""])
    )
    assert job.receive(final) == [TextDelta("c"), Completed("abc", None)]
    assert events == [TextDelta("ab")]


def test_hidden_app_error_carries_partial_text_and_helpful_message() -> None:
    job = new_job()
    run(job, qwen_turn(["partial"], ChatbotFormat.TUPLES)[:1])
    [event] = job.receive(ProcessCompleted(event_id="e", status=CompletionStatus.FAILED, title="Error"))
    assert isinstance(event, Failed)
    assert isinstance(event.error, AppError)
    assert event.error.space_message is None
    assert event.error.message == HIDDEN_ERROR_TEXT
    assert event.error.partial_text == "partial"
    assert job.state is ChatJobState.FAILED


def test_app_error_with_message_and_title() -> None:
    [event] = new_job().receive(
        ProcessCompleted(event_id="e", status=CompletionStatus.FAILED, error="Bad input: x", title="Custom title")
    )
    assert isinstance(event, Failed)
    assert isinstance(event.error, AppError)
    assert "Custom title: Bad input: x" in str(event.error)
    assert event.error.title == "Custom title"


def test_cancelled() -> None:
    job = new_job()
    [event] = job.receive(ProcessCompleted(event_id="e", status=CompletionStatus.CANCELLED))
    assert isinstance(event, Failed)
    assert isinstance(event.error, JobCancelledError)
    assert job.state is ChatJobState.CANCELLED


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (UnexpectedError(message="404: Not Found", session_not_found=True), SessionNotFoundError),
        (UnexpectedError(message="404: Session not found."), SessionNotFoundError),
        (UnexpectedError(message="Server stopped unexpectedly."), StreamError),
        (CloseStream(), StreamInterruptedError),
    ],
)
def test_session_level_failures(message: QueueMessage, error: type[Exception]) -> None:
    job = new_job()
    run(job, qwen_turn(["so far"], ChatbotFormat.TUPLES)[:1])
    [event] = job.receive(message)
    assert isinstance(event, Failed)
    assert type(event.error) is error
    assert event.error.partial_text == "so far"
    assert job.receive(message) == [], "a finished job ignores later session-level messages"


@pytest.mark.parametrize(
    "late",
    [
        ProcessCompleted(event_id="e", status=CompletionStatus.SUCCEEDED, output=Output(data=["", [["q", "x"]], ""])),
        ProcessGenerating(event_id="e", output=Output(data=[[], [], []])),
        ProcessStarts(event_id="e"),
    ],
)
def test_messages_after_completion_are_illegal(late: QueueMessage) -> None:
    job = new_job()
    run(job, qwen_turn(["x"], ChatbotFormat.TUPLES))
    with pytest.raises(RemoteProtocolError, match="after the job was completed") as caught:
        job.receive(late)
    assert caught.value.partial_text == "x"


def test_process_starts_after_generating_is_illegal() -> None:
    job = new_job()
    run(job, qwen_turn(["x"], ChatbotFormat.TUPLES)[:1])
    with pytest.raises(RemoteProtocolError, match="after the job had started generating"):
        job.receive(ProcessStarts(event_id="e"))


def test_message_of_another_event_is_illegal() -> None:
    with pytest.raises(RemoteProtocolError, match="event 'other'"):
        new_job().receive(ProcessStarts(event_id="other"))
