"""``ChatStream``: the bytes of one ``queue/data`` stream in, one chat's events out.

The SSE decoder, the JSON decoder, the message parser and the chat job, composed
the way the client reads a stream, with one shortcut for the message that makes up
nearly all of a reply: Gradio's per-token ``process_generating``, one ``append`` of
a few characters to the reply.

The shortcut compares each decoded message with the last message that the typed
path found to be a pure append (its *template*), after blanking the parts that may
vary between tokens: the appended string and the two durations. The comparison is
of orjson serialisations, so ``1``, ``1.0`` and ``true`` stay distinct as they are
to the typed path. A message equal to the template is, by construction, one the
typed path would take as the same pure append; anything else (another tag, a
``replace``, a new field, other key order) goes through the typed path, which then
sets or clears the template. ``tests/test_stream.py`` checks the two paths against
each other on generated streams.

Text appended by consecutive shortcut messages of one chunk becomes one
:class:`TextDelta`: they arrived together, so nobody could have seen them apart.
"""

from __future__ import annotations

from typing import Any

import orjson

from ._chat import ChatEvent, ChatJob
from ._errors import QwenSpaceError
from ._json import JSONValue, loads, loads_text
from ._messages import CloseStream, message_from_json
from ._sse import DEFAULT_MAX_EVENT_SIZE, SSEDecoder

__all__ = ["ChatStream"]

_ABSENT = object()
# Messages longer than this are decoded by json rather than orjson, for memory.
_LARGE = 256 * 1024


class ChatStream:
    """Feed the raw chunks of one ``queue/data`` response; get the job's events.

    Messages of other events are skipped (counted in :attr:`foreign_messages`); a
    ``close_stream`` sets :attr:`closed_by_server`. Reading stops at the job's end.
    ``feed`` never raises: a stream that breaks the protocol ends the job with a
    :class:`Failed` event, and :attr:`error` tells the caller the Space's job may
    still be running.
    """

    __slots__ = ("_decoder", "_template", "closed_by_server", "error", "foreign_messages", "job")

    def __init__(self, job: ChatJob, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        self.job = job
        self._decoder = SSEDecoder(max_event_size=max_event_size)
        self._template: bytes | None = None
        self.closed_by_server = False
        self.foreign_messages = 0
        self.error: QwenSpaceError | None = None

    def feed(self, chunk: bytes) -> list[ChatEvent]:
        """The events that ``chunk`` completes (possibly none)."""
        events: list[ChatEvent] = []
        if self.job.state.is_terminal:
            return events
        job = self.job
        pieces: list[str] = []
        take = pieces.append
        duration = job.server_duration
        slot = job.reply_slot
        decode, encode = orjson.loads, orjson.dumps
        try:
            data = self._decoder.feed_data(chunk)
            # Popped from the end so that each message's bytes are freed once decoded:
            # a long reply's final message is as big as the reply.
            data.reverse()
            pop = data.pop
            template = self._template
            while data:
                raw = pop()
                if len(raw) > _LARGE:
                    # Text first, then the bytes go: a long reply's final message is
                    # held twice at most, never three times (see loads_text).
                    text = raw.decode("utf-8", "replace")
                    del raw
                    payload: Any = loads_text(text, what="a queue message")
                    del text
                else:
                    try:
                        payload = decode(raw)
                    except orjson.JSONDecodeError:
                        payload = loads(raw, what="a queue message")
                    del raw
                if template is not None:
                    # Any message may come here: a shape that does not fit raises
                    # before anything is changed.
                    try:
                        output = payload["output"]
                        edit = output["data"][slot][0]
                        suffix = edit[2]
                        took = output.get("duration", _ABSENT)
                        average = output.get("average_duration", _ABSENT)
                        edit[2] = output["duration"] = output["average_duration"] = None
                    except (KeyError, TypeError, IndexError, AttributeError):
                        pass
                    else:
                        if (
                            encode(payload) == template
                            and type(suffix) is str
                            and (took is None or took is _ABSENT or type(took) is float)
                            and (average is None or average is _ABSENT or type(average) is float)
                        ):
                            take(suffix)
                            if type(took) is float:
                                duration = (duration or 0.0) + took  # as ChatJob adds them
                            continue
                        _restore(output, edit, suffix, took, average)
                events += _take(job, pieces, duration)
                events += self._receive(payload)
                if job.state.is_terminal:
                    return events
                template = self._template
                duration = job.server_duration
            events += _take(job, pieces, duration)
            if self._decoder.failed:
                self._decoder.close()  # raises the decoder's error, after the valid events
        except QwenSpaceError as error:
            events += _take(job, pieces, duration)
            self.error = error
            self._template = None
            events += job.fail(error)
        return events

    def _receive(self, payload: JSONValue) -> list[ChatEvent]:
        """The typed path, which also decides the template for the messages after."""
        self._template = None
        message = message_from_json(payload)
        if type(message) is CloseStream:
            self.closed_by_server = True
            return []
        job = self.job
        if message.event_id != job.event_id and message.event_id is not None:
            self.foreign_messages += 1
            return []
        events = job.receive(message)
        if job.last_was_pure_append:
            self._template = _template(payload, job.reply_slot)
        return events


def _take(job: ChatJob, pieces: list[str], duration: float | None) -> list[ChatEvent]:
    """The shortcut's appends so far, given to the job as one."""
    if not pieces:
        return []
    text = "".join(pieces)
    pieces.clear()
    return job.append_reply(text, duration)


def _template(payload: Any, slot: int) -> bytes:
    """``payload`` (a pure append the typed path took) with its varying parts blanked,
    serialised as the shortcut serialises each candidate."""
    output = payload["output"]
    output["data"][slot][0][2] = output["duration"] = output["average_duration"] = None
    return orjson.dumps(payload)


def _restore(output: Any, edit: Any, suffix: object, took: object, average: object) -> None:
    """Put back what the shortcut blanked in a message that did not fit the template."""
    edit[2] = suffix
    for key, value in (("duration", took), ("average_duration", average)):
        if value is _ABSENT:
            del output[key]
        else:
            output[key] = value
