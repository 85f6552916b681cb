"""The bytes of one ``queue/data`` stream in, one chat's events out.

:class:`ChatStream` is the one assembly of the pipeline, bytes -> SSE events ->
typed messages -> chat job -> chat events, run by the client on every network read;
:func:`chat_stream` is the one way to make it, from the config and the chat's
contract (where the reply is, how it is laid out, whether values come whole), so
the client, the recorder and :func:`read_chat_stream` (a whole recorded body:
contract tests, cassette checks) cannot read a reply two ways.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._chain import ChainStep
from ._chat_contract import ChatContract
from ._chatbot import ChatbotFormat
from ._config import SpaceConfig, parse_config
from ._derive import derive_contract
from ._events import ChatEvent, Correction, Failed, TextDelta
from ._job import TERMINAL_STATES, ChatJob, ChatJobState
from ._json import JSONValue, loads
from ._messages import CloseStream, message_from_json
from ._sse import DEFAULT_MAX_EVENT_SIZE, SSEDecoder
from ._token import TOKEN_READ_LIMIT, token_read
from .errors import QwenSpaceError

__all__ = ["ChatStream", "ChatStreamResult", "chat_job", "chat_stream", "read_chat_stream"]


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

    __slots__ = ("_decoder", "_token_limit", "closed_by_server", "error", "foreign_messages", "job")

    def __init__(self, job: ChatJob, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        self.job = job
        self._decoder = SSEDecoder(max_event_size=max_event_size)
        # The decoder counts an event's line without its LF against the limit.
        self._token_limit = min(max_event_size + 2, TOKEN_READ_LIMIT)
        self.closed_by_server = False
        self.foreign_messages = 0
        self.error: QwenSpaceError | None = None

    def feed(self, chunk: bytes) -> list[ChatEvent]:
        """The events that ``chunk`` completes (possibly none)."""
        job = self.job
        if job.state in TERMINAL_STATES:
            return []
        if (appended := self._token(chunk)) is not None:
            return appended
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
            _flush(text, events)
            events += job.fail(error)
            self.error = error.with_partial(job.text)  # as the Failed event's copy says
        _flush(text, events)
        return events

    def _token(self, chunk: bytes) -> list[ChatEvent] | None:
        """The events of a read that is one token's message (see :mod:`._token`), taken
        without the decoder; ``None``, with nothing changed, for any other read."""
        if len(chunk) > self._token_limit or not self._decoder.between_events:
            return None
        token = token_read(chunk, self.job.event_id, self.job.reply_slot)
        return None if token is None else self.job.appended(*token)

    def end(self) -> list[ChatEvent]:
        """The stream ended (EOF): fails the job if it is still pending."""
        return self.job.stream_ended()


@dataclass(slots=True, kw_only=True)
class ChatStreamResult:
    #: The final reply, or the partial one if the job failed.
    text: str
    #: Every TextDelta's text, in order. Without corrections they concatenate to ``text``.
    deltas: list[str] = field(default_factory=list)
    events: list[ChatEvent] = field(default_factory=list)
    #: ``None`` on success, else the package error that ended the job.
    error: QwenSpaceError | None = None
    state: ChatJobState = ChatJobState.QUEUED

    @property
    def corrections(self) -> list[Correction]:
        return [event for event in self.events if isinstance(event, Correction)]


def chat_job(
    config: SpaceConfig,
    contract: ChatContract,
    event_id: str | None,
    *,
    step: ChainStep | None = None,
    skip: int = 0,
    shown: str = "",
) -> ChatJob:
    """The job of event ``event_id`` of the chat ``contract`` describes: the one rule for
    where its reply is, how it is laid out, and whether values come whole (sse_v1).

    ``step``: one queued step of a chain contract; a step that does not write the
    Chatbot has no reply (its text is not the chat's), so ``skip`` and ``shown`` (the
    history entries sent, the reply shown by earlier steps) apply only to one that does.
    """
    reply_slot, reply_format = contract.reply_slot, contract.reply_format
    if step is not None:
        if contract.chatbot_id in step.outputs:
            reply_slot = step.outputs.index(contract.chatbot_id)
        else:
            reply_slot, reply_format, skip, shown = len(step.outputs), ChatbotFormat.TEXT, 0, ""
    return ChatJob(
        event_id=event_id,
        reply_slot=reply_slot,
        reply_format=reply_format,
        full_values=not config.release.sends_diffs,
        skip=skip,
        shown=shown,
    )


def chat_stream(
    config: SpaceConfig,
    contract: ChatContract,
    event_id: str | None,
    *,
    step: ChainStep | None = None,
    skip: int = 0,
    shown: str = "",
    max_event_size: int = DEFAULT_MAX_EVENT_SIZE,
) -> ChatStream:
    """The stream of :func:`chat_job`'s job (a stream opened again for the same job wraps
    ``stream.job`` in a new :class:`ChatStream`)."""
    job = chat_job(config, contract, event_id, step=step, skip=skip, shown=shown)
    return ChatStream(job, max_event_size=max_event_size)


def read_chat_stream(
    config: SpaceConfig | Mapping[str, JSONValue] | bytes | str,
    stream: bytes,
    *,
    event_id: str,
    api_name: str | int,
) -> ChatStreamResult:
    """Follow event ``event_id`` of the chat at ``api_name`` (an api_name or fn_index,
    as ``derive_contract`` takes it) through a recorded body, as the client would.

    Reading stops at the job's end, as the client's does.
    Problems in the stream (protocol violations, app errors, a stream that ends
    early) are returned in ``.error``; a config without that chat raises what
    :func:`derive_contract` raises.
    """
    space = config if isinstance(config, SpaceConfig) else parse_config(config)
    contract = derive_contract(space, api_name)
    wanted = api_name if isinstance(api_name, int) or api_name.startswith("/") else f"/{api_name}"
    # A chain's step named on its own: its stream is that step's, not the reply step's.
    step = next((s for s in contract.steps if wanted in (s.api_name, s.fn_index)), None)
    reader = chat_stream(space, contract, event_id, step=step)
    job = reader.job
    events: list[ChatEvent] = []
    # Line by line, so each message's text is its own delta, as if each had come in
    # its own network read.
    for line in stream.splitlines(keepends=True):
        events += reader.feed(line)
        if job.state.is_terminal:
            break
    events += reader.end()
    failures = [event.error for event in events if isinstance(event, Failed)]
    return ChatStreamResult(
        text=job.text,
        deltas=[event.text for event in events if isinstance(event, TextDelta)],
        events=events,
        error=failures[0] if failures else None,
        state=job.state,
    )


def _flush(text: list[str], events: list[ChatEvent]) -> None:
    if text:
        events.append(TextDelta("".join(text)))
        text.clear()
