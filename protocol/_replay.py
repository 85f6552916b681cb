"""``read_chat_stream``: a whole recorded ``queue/data`` body through the chat pipeline.

It feeds the body to the :class:`ChatStream` the client runs on a live stream, for
contract tests and cassette checks: what passes here is what the client would have
shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ._chat import ChatEvent, ChatJob, ChatJobState, Correction, Failed, TextDelta
from ._config import SpaceConfig, parse_config
from ._contract import QWEN_CONTRACT
from ._errors import ContractMismatchError, QwenSpaceError
from ._json import JSONValue
from ._stream import ChatStream

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
    api_name: str = QWEN_CONTRACT.api_name,
) -> ChatStreamResult:
    """Follow event ``event_id`` of the endpoint ``api_name`` through a recorded body.

    Reading stops at the job's end, as the client's does.
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
    chat_stream = ChatStream(job)
    events: list[ChatEvent] = []
    # Line by line, so each message's text is its own delta, as if each had come in
    # its own network read.
    for line in stream.splitlines(keepends=True):
        events += chat_stream.feed(line)
        if job.state.is_terminal:
            break
    events += chat_stream.end()
    failures = [event.error for event in events if isinstance(event, Failed)]
    return ChatStreamResult(
        text=job.text,
        deltas=[event.text for event in events if isinstance(event, TextDelta)],
        events=events,
        error=failures[0] if failures else None,
        state=job.state,
    )
