"""``read_chat_stream``: a whole recorded ``queue/data`` body through the chat pipeline.

The same pieces the client composes (SSE decoder, message parser, chat job), as one
pure function, for contract tests and cassette checks: what passes here is what the
client would have shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._chat import ChatEvent, ChatJob, ChatJobState, Correction, Failed, TextDelta
from ._config import SpaceConfig, parse_config
from ._errors import ContractMismatchError, QwenSpaceError
from ._json import JSONValue
from ._messages import parse_message
from ._sse import SSEDecoder

__all__ = ["ChatStreamResult", "read_chat_stream"]


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


def read_chat_stream(
    config: SpaceConfig | Mapping[str, JSONValue] | bytes | str,
    stream: bytes,
    *,
    event_id: str,
    api_name: str = "/model_chat",
) -> ChatStreamResult:
    """Follow event ``event_id`` of the endpoint ``api_name`` through a recorded body.

    Problems in the stream (protocol violations, app errors, a stream that ends
    early) are returned in ``.error``; a config without the endpoint raises
    :class:`ContractMismatchError`.
    """
    space = config if isinstance(config, SpaceConfig) else parse_config(config)
    endpoint = space.endpoint(api_name)
    if endpoint.reply_slot is None or endpoint.reply_format is None:
        raise ContractMismatchError(
            f"the endpoint {api_name} has no chatbot, textbox or JSON output to read a reply from"
        )
    job = ChatJob(event_id=event_id, reply_slot=endpoint.reply_slot, reply_format=endpoint.reply_format)
    result = ChatStreamResult(text="")
    try:
        decoder = SSEDecoder()
        sse_events = decoder.feed(stream)
        decoder.close()
        for sse_event in sse_events:
            message = parse_message(sse_event.data)
            if message.event_id not in (None, event_id):
                continue
            result.events.extend(job.receive(message))
        # Messages after the end are still read: a duplicate completion is a violation.
        result.events.extend(job.stream_ended())
    except QwenSpaceError as error:
        error.partial_text = job.text
        result.events.append(Failed(error))
        job.state = ChatJobState.FAILED
    result.state = job.state
    result.text = job.text
    result.deltas = [event.text for event in result.events if isinstance(event, TextDelta)]
    failures = [event.error for event in result.events if isinstance(event, Failed)]
    result.error = failures[0] if failures else None
    return result
