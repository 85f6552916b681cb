"""``ChatStream``: the bytes of one ``queue/data`` stream in, one chat's events out.

The one assembly of the pipeline, bytes -> SSE events -> typed messages -> chat job
-> chat events, run by the client on every network read and by
:func:`read_chat_stream` on a recorded body, so the two can never disagree.
"""

from __future__ import annotations

from ._chat import TERMINAL_STATES, ChatEvent, ChatJob, TextDelta
from ._errors import QwenSpaceError
from ._json import loads
from ._messages import CloseStream, message_from_json
from ._sse import DEFAULT_MAX_EVENT_SIZE, SSEDecoder

__all__ = ["ChatStream"]


class ChatStream:
    """Feed the raw chunks of one ``queue/data`` response; get the job's events.

    Messages of other events are skipped (counted in :attr:`foreign_messages`); a
    ``close_stream`` sets :attr:`closed_by_server`. Reading stops at the job's end:
    what follows is not this job's business. The text of one chunk comes as one
    :class:`TextDelta`, since nobody could have seen its parts apart.

    ``feed`` and ``end`` never raise: a stream that breaks the protocol ends the job
    with a :class:`Failed` event, and :attr:`error` tells the caller that the Space's
    job may still be running.
    """

    __slots__ = ("_decoder", "closed_by_server", "error", "foreign_messages", "job")

    def __init__(self, job: ChatJob, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        self.job = job
        self._decoder = SSEDecoder(max_event_size=max_event_size)
        self.closed_by_server = False
        self.foreign_messages = 0
        self.error: QwenSpaceError | None = None

    def feed(self, chunk: bytes) -> list[ChatEvent]:
        """The events that ``chunk`` completes (possibly none)."""
        if self.job.state.is_terminal:
            return []
        job = self.job
        events: list[ChatEvent] = []
        text: list[str] = []  # the deltas not yet in ``events``, joined at the next other event
        try:
            sse_events = self._decoder.feed(chunk)
            # Popped from the front as they are read, so that a long reply's final
            # message is freed once parsed instead of living to the end of the chunk.
            sse_events.reverse()
            while sse_events:
                message = message_from_json(loads(sse_events.pop().data, what="a queue message"))
                if type(message) is CloseStream:
                    self.closed_by_server = True
                elif message.event_id is not None and message.event_id != job.event_id:
                    self.foreign_messages += 1
                else:
                    for event in job.receive(message):
                        if type(event) is TextDelta:
                            text.append(event.text)
                        else:
                            _flush(text, events)
                            events.append(event)
                    if job.state in TERMINAL_STATES:
                        break
            if self._decoder.failed and not job.state.is_terminal:
                self._decoder.close()  # raises the decoder's error, after the valid events
        except QwenSpaceError as error:
            self.error = error
            _flush(text, events)
            events += job.fail(error)
        _flush(text, events)
        return events

    def end(self) -> list[ChatEvent]:
        """The stream ended (EOF): fails the job if it is still pending."""
        return self.job.stream_ended()


def _flush(text: list[str], events: list[ChatEvent]) -> None:
    if text:
        events.append(TextDelta("".join(text)))
        text.clear()
