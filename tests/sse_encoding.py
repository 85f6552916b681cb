"""An SSE encoder for tests and fake servers: what the decoder must give back unchanged."""

from collections.abc import Iterable

from qwen_space.protocol import SSEEvent
from qwen_space.protocol.errors import LocalProtocolError


def encode_events(events: Iterable[SSEEvent]) -> bytes:
    """Serialise events so that :class:`SSEDecoder` gives them back unchanged.

    For tests and fake servers. The ``id`` line is written whenever the stream's last
    event id changes, because ids persist across events on the decoding side.
    """
    out: list[str] = []
    last_id = ""
    for event in events:
        _check_encodable(event)
        if event.event != "message":
            out.append(f"event: {event.event}\n")
        if event.id != last_id:
            out.append(f"id: {event.id}\n" if event.id else "id\n")
            last_id = event.id
        if event.retry is not None:
            out.append(f"retry: {event.retry}\n")
        out.extend(f"data: {line}\n" for line in event.data.split("\n"))
        out.append("\n")
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LocalProtocolError(f"an event holds text that is not valid Unicode: {exc}") from None


def _check_encodable(event: SSEEvent) -> None:
    if "\r" in event.data:
        raise LocalProtocolError("event data cannot contain CR: SSE would split the line there")
    for field, value in (("event", event.event), ("id", event.id)):
        if "\r" in value or "\n" in value:
            raise LocalProtocolError(f"the {field} field cannot contain a line break")
    if not event.event:
        raise LocalProtocolError("the event type cannot be empty (use 'message')")
    if "\x00" in event.id:
        raise LocalProtocolError("the id field cannot contain NUL: decoders ignore such ids")
    if event.retry is not None and event.retry < 0:
        raise LocalProtocolError("retry must be a non-negative number of milliseconds")
