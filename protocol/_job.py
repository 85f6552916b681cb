"""The chat job: typed queue messages of one event in, chat events out.

:class:`ChatJob` is a small state machine::

    QUEUED --process_starts--> STARTED --process_generating--> GENERATING
       |                          |                                |
       +--------------------------+--- process_completed ----------+--> COMPLETED | FAILED | CANCELLED

``estimation`` may repeat while queued; cached results skip ``process_starts``;
``log`` and ``progress`` may come at any time before the end. Anything for the
event after its end, ``process_starts`` after generation began, or a message of
another event is an illegal ordering and raises :class:`RemoteProtocolError`.

The events it gives keep the text invariant of :mod:`._events`.
"""

from __future__ import annotations

import enum

from ._chatbot import ChatbotFormat, Reply, read_reply
from ._diff import DiffedOutputs
from ._events import (
    ChatEvent,
    Completed,
    Correction,
    Failed,
    LogMessage,
    ProgressUpdate,
    QueuePosition,
    ReasoningDelta,
    Started,
    TextDelta,
)
from ._held import common_prefix_length
from ._join import clip
from ._json import JSONValue
from ._messages import (
    CloseStream,
    CompletionStatus,
    Estimation,
    Heartbeat,
    Log,
    ProcessCompleted,
    ProcessGenerating,
    ProcessStarts,
    ProcessStreaming,
    Progress,
    QueueMessage,
    UnexpectedError,
    UnknownMessage,
)
from ._quota import app_error
from ._reasoning import split_reply
from .errors import (
    JobCancelledError,
    QwenSpaceError,
    RemoteProtocolError,
    SessionNotFoundError,
    StreamError,
    StreamInterruptedError,
)

__all__ = ["HIDDEN_ERROR_TEXT", "TERMINAL_STATES", "ChatJob", "ChatJobState"]

#: What the user reads when the Space failed but hides why (``show_error=False``).
HIDDEN_ERROR_TEXT = (
    "the Space's app raised an error but hides its message (it runs with show_error=False): "
    "try again; if it keeps failing, the reason is in the Space's logs"
)


class ChatJobState(enum.Enum):
    QUEUED = "queued"
    STARTED = "started"
    GENERATING = "generating"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


# The messages that belong to one event.
EventMessage = Estimation | ProcessStarts | Log | Progress | ProcessGenerating | ProcessStreaming | ProcessCompleted
# A tuple, not a set: membership compares by identity in C, where a set would call
# Enum.__hash__, a Python function, for every message.
TERMINAL_STATES = (ChatJobState.COMPLETED, ChatJobState.FAILED, ChatJobState.CANCELLED)


class ChatJob:
    """Follows one event and turns its messages into :data:`ChatEvent` values."""

    __slots__ = (
        "_duration",
        "_frozen",
        "_full_values",
        "_growing_path",
        "_outputs",
        "_skip",
        "_thinks",
        "_thoughts",
        "event_id",
        "final_outputs",
        "reply_format",
        "reply_slot",
        "state",
    )

    def __init__(
        self,
        *,
        event_id: str | None,
        reply_slot: int,
        reply_format: ChatbotFormat,
        full_values: bool = False,
        skip: int = 0,
        shown: str = "",
    ) -> None:
        """``full_values``: every ``process_generating`` carries whole values, never
        diffs (the sse_v1 protocol). ``skip``: the leading entries of the Chatbot value
        that are the history the client sent (the reply is what comes after them).
        ``shown``: the reply as shown before this job (a chain's earlier steps)."""
        self.event_id = event_id
        self._skip = skip
        #: The outputs of ``process_completed`` (for a chain's store of values).
        self.final_outputs: list[JSONValue] | None = None
        self._full_values = full_values
        self.reply_slot = reply_slot
        self.reply_format = reply_format
        self.state = ChatJobState.QUEUED
        self._outputs: DiffedOutputs | None = None
        # The reply is kept once: in the outputs while they follow the Space. The text
        # shown is kept apart only when it is not theirs: before the first value, while
        # the reply's output is desynchronised, and after the end.
        self._frozen: str | None = shown
        # Where in the reply's value an append extends the reply text, as edits spell it.
        self._growing_path: tuple[int | str, ...] | None = None
        self._duration: float | None = None
        # Thoughts (titled messages) exist only where replies are messages; their text shown so far.
        self._thinks = reply_format is not ChatbotFormat.TUPLES
        self._thoughts = ""

    @property
    def text(self) -> str:
        """The reply shown so far."""
        if self._frozen is not None:
            return self._frozen
        assert self._outputs is not None
        return self._read(self._outputs.value(self.reply_slot)).text

    def _read(self, value: JSONValue) -> Reply:
        """The reply in a value of the reply's output: after the history sent, if any."""
        if not self._skip or type(value) is not list:
            return read_reply(value, self.reply_format)
        reply = read_reply(value[self._skip :], self.reply_format)
        path = reply.growing_path
        if path and type(path[0]) is int:
            return Reply(reply.text, (path[0] + self._skip, *path[1:]))
        return reply

    def _tail(self, value: JSONValue) -> JSONValue:
        return value[self._skip :] if self._skip and type(value) is list else value

    @property
    def server_duration(self) -> float | None:
        """The run time the Space reported so far (the sum of its per-yield durations)."""
        return self._duration

    def receive(self, message: QueueMessage) -> list[ChatEvent]:
        """Feed one message of this event (or a session-level one)."""
        if type(message) is ProcessGenerating or type(message) is ProcessStreaming:
            # First, as nearly every message is one.
            if message.event_id != self.event_id or self.state in TERMINAL_STATES:
                self._check_belongs(message)  # raises why
            self.state = ChatJobState.GENERATING
            return self._generating(message)
        if isinstance(message, (Heartbeat, UnknownMessage)):
            return []
        if isinstance(message, CloseStream):
            return [] if self.state in TERMINAL_STATES else self.stream_ended()
        if isinstance(message, UnexpectedError):
            return [] if self.state in TERMINAL_STATES else self.fail(_stream_error(message))
        self._check_belongs(message)
        if isinstance(message, Estimation):
            if self.state is not ChatJobState.QUEUED:
                return []  # A late broadcast racing the start: harmless, not news.
            return [QueuePosition(message.rank, message.queue_size, message.rank_eta)]
        if isinstance(message, ProcessStarts):
            if self.state is ChatJobState.GENERATING:
                self._illegal("process_starts arrived after the job had started generating")
            self.state = ChatJobState.STARTED
            return [Started(message.eta)]
        if isinstance(message, Log):
            return [LogMessage(message.level, message.log, message.title)]
        if isinstance(message, Progress):
            return [ProgressUpdate(message.progress_data)]
        assert isinstance(message, ProcessCompleted)
        return self._completed(message)

    def appended(self, path: list[JSONValue], text: str, duration: float | None) -> list[ChatEvent] | None:
        """The events of a ``process_generating`` of this job whose only change is ``text``
        appended at ``path`` of the reply's output, as :meth:`receive` gives them (the
        message of nearly every token: :func:`~._token.token_read`); ``None``, with
        nothing changed, where that takes :meth:`receive`'s reading: the append is not at
        the reply's growing end, or the job is not following diffs of a known reply."""
        # Outputs exist only while generating (the end drops them), and the text shown is
        # apart from them (``_frozen``) only while the reply's output is desynchronised,
        # which ``append_text`` refuses: so this is the append branch of ``_generating``.
        outputs = self._outputs
        if outputs is None or self._full_values or self._growing_path is None or tuple(path) != self._growing_path:
            return None
        if not outputs.append_text(self.reply_slot, self._growing_path, text):
            return None
        if duration is not None:
            self._duration = (self._duration or 0.0) + duration
        return [TextDelta(text)]

    def _check_belongs(self, message: EventMessage) -> None:
        if message.event_id != self.event_id:
            self._illegal(f"a {type(message).__name__} message of event {message.event_id!r} reached this job")
        if self.state in TERMINAL_STATES:
            self._illegal(f"a {type(message).__name__} message arrived after the job was {self.state.value}")

    def stream_ended(self) -> list[ChatEvent]:
        """The stream ended while this job was pending."""
        if self.state.is_terminal:
            return []
        return self.fail(
            StreamInterruptedError(
                "the Space's stream ended before the reply was complete (the connection dropped or the "
                "Space restarted); Gradio cannot resume it: send the request again"
            )
        )

    def fail(self, error: QwenSpaceError) -> list[ChatEvent]:
        """End the job with ``error`` (a copy of it that carries the partial text)."""
        self._end(ChatJobState.CANCELLED if isinstance(error, JobCancelledError) else ChatJobState.FAILED)
        return [Failed(error.with_partial(self.text))]

    def _end(self, state: ChatJobState) -> None:
        self._frozen = self.text
        self._outputs = None
        self.state = state

    def _illegal(self, what: str) -> None:
        self._end(ChatJobState.FAILED)
        raise RemoteProtocolError(f"illegal message order: {what}", partial_text=self.text)

    def _add_duration(self, duration: float | None) -> None:
        if duration is not None:
            self._duration = (self._duration or 0.0) + duration

    def _generating(self, message: ProcessGenerating | ProcessStreaming) -> list[ChatEvent]:
        output = message.output
        data = output.data
        if output.duration is not None:
            self._duration = (self._duration or 0.0) + output.duration
        outputs = self._outputs
        # The first yield and every process_streaming carry full values, not diffs;
        # under sse_v1 every yield does.
        if outputs is None or self._full_values or isinstance(message, ProcessStreaming):
            previous = self.text
            self._outputs = DiffedOutputs(data)
            return self._reread(previous)
        slot = self.reply_slot
        edits = data[slot] if slot < len(data) else []
        if type(edits) is list and len(edits) == 1 and self._frozen is None:
            edit = edits[0]
            if (
                type(edit) is list
                and len(edit) == 3
                and edit[0] == "append"
                and type(edit[1]) is list
                and tuple(edit[1]) == self._growing_path
            ):
                suffix = edit[2]
                if type(suffix) is str and suffix:
                    # One append at the growing path extends the reply by exactly that
                    # text: re-reading the whole reply for every token would be quadratic.
                    outputs.apply(data)
                    if not outputs.is_desynchronised(slot):
                        return [TextDelta(suffix)]
                    # It did not apply (a path spelled with floats, say): the value is
                    # as it was before, so that is what was shown.
                    self._frozen = self._read(outputs.value(slot)).text
                    return []
        if type(edits) is list and not edits:
            outputs.apply(data)
            return []
        previous = self.text
        outputs.apply(data)
        if outputs.is_desynchronised(slot):
            self._frozen = previous
            return []
        return self._reread(previous)

    def _shown_length_if_prefix(self, text: str) -> int | None:
        """The length of the reply shown, if ``text`` starts with it, found without
        copying the reply; ``None`` where that takes reading it whole. Where the reply
        is one string (every format but Gradio 6's content parts), it is the string at
        the growing path."""
        if (
            self._frozen is not None
            or self._outputs is None
            or self._growing_path is None
            or self.reply_format is ChatbotFormat.NORMALISED
        ):
            return None
        return self._outputs.string_length_if_prefix(self.reply_slot, self._growing_path, text)

    def _reread(self, previous: str) -> list[ChatEvent]:
        """Show the reply as the outputs now hold it; ``previous`` is what was shown."""
        assert self._outputs is not None
        value = self._outputs.value(self.reply_slot)
        reply = self._read(value)
        self._growing_path = reply.growing_path
        self._frozen = None
        events = _advance(previous, reply.text)
        if self._thinks:
            # The thoughts come before the answer in the Chatbot: their news first.
            events = self._think(value) + events
        return events

    def _think(self, value: JSONValue) -> list[ChatEvent]:
        """The thoughts' new text in ``value``, apart from the answer. A thought the Space
        rewrote is not taken back here: ``Completed.reasoning`` holds the final thoughts."""
        thoughts = split_reply(self._tail(value), self.reply_format).thoughts
        text = "\n\n".join(thought.text for thought in thoughts)
        shown, self._thoughts = self._thoughts, text
        if thoughts and len(text) > len(shown) and text.startswith(shown):
            return [ReasoningDelta(text[len(shown) :], thoughts[-1].title)]
        return []

    def _completed(self, message: ProcessCompleted) -> list[ChatEvent]:
        if message.status is CompletionStatus.CANCELLED:
            return self.fail(
                JobCancelledError("the job was cancelled before it completed (by this client or on the Space)")
            )
        if message.status is CompletionStatus.FAILED:
            if message.error:
                title = f"{message.title}: " if message.title and message.title != "Error" else ""
                text = f"the Space reported an error: {clip(title + message.error)}"
            else:
                text = HIDDEN_ERROR_TEXT
            return self.fail(app_error(text, space_message=message.error, title=message.title))
        assert message.output is not None
        self._add_duration(message.output.duration)
        data = message.output.data
        self.final_outputs = data
        value = data[self.reply_slot] if self.reply_slot < len(data) else None
        # The final value is authoritative: it repairs anything a diff defect broke.
        text = self._read(value).text
        shown = self._shown_length_if_prefix(text)
        if shown is not None:  # nearly always: the final reply extends what was shown
            events: list[ChatEvent] = [TextDelta(text[shown:])] if len(text) > shown else []
        else:
            events = _advance(self.text, text)
        if self._thinks:
            events = self._think(value) + events
        # The final value replaces the diffed state.
        self._outputs = None
        self._frozen = text
        self.state = ChatJobState.COMPLETED
        events.append(Completed(text, self._duration, self._thoughts if self._thinks else ""))
        return events


def _stream_error(message: UnexpectedError) -> QwenSpaceError:
    detail = clip(message.message or "no detail")
    if message.session_not_found or "session not found" in detail.lower():
        return SessionNotFoundError(
            f"the Space no longer knows this session ({detail}): the job is lost; send the request again"
        )
    if "server stopped" in detail.lower():
        return StreamError(
            f"the Space stopped while answering ({detail}); try again once it is back up", retryable=True
        )
    return StreamError(f"the Space's stream failed ({detail}); send the request again")


def _advance(shown: str, text: str) -> list[ChatEvent]:
    """The events that take a consumer from ``shown`` to ``text``."""
    if text.startswith(shown):
        return [TextDelta(text[len(shown) :])] if len(text) > len(shown) else []
    common = common_prefix_length(shown, text)
    return [Correction(retract=len(shown) - common, text=text[common:], previous=shown)]
