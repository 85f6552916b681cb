"""Server-Sent Events: an incremental, total decoder and a matching encoder.

The decoder implements the WHATWG "event stream interpretation" rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)
over *bytes*:

* lines end at CR LF, CR or LF, and nowhere else. Gradio sends U+2028 and U+0085 raw
  inside its JSON, so ``str.splitlines()`` (which splits on them) must never be used;
  splitting bytes is safe because CR and LF never occur inside a UTF-8 sequence;
* each line is decoded as UTF-8 with replacement characters, so no byte sequence
  makes the decoder raise a Unicode error;
* a CR that ends a chunk ends the line at once; a LF that starts the next chunk is
  then swallowed as the second half of CR LF;
* one leading BOM is ignored; a final event without its blank line is dropped, as
  the spec says (``close()`` reports the stream end).

The only exception it raises is :class:`RemoteProtocolError`, when one event grows
past ``max_event_size`` bytes (h11's ``max_incomplete_event_size``): an unbounded
line from a broken server must not eat the memory of the process.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._errors import LocalProtocolError, RemoteProtocolError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEDecoder", "SSEEvent", "encode_events"]

#: Large enough for a chat reply carrying a few base64 images, small enough that a
#: server that never ends its line fails fast instead of exhausting memory.
DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"
# Data lines longer than this are handed over rather than copied out of the buffer.
_HAND_OVER = 64 * 1024
# The most bytes of plain events split at once (see SSEDecoder._plain_events).
_WINDOW = _HAND_OVER


@dataclass(frozen=True, slots=True, kw_only=True)
class SSEEvent:
    """One dispatched event.

    ``id`` is the stream's last event id at dispatch time (it persists across events,
    as the spec says); ``retry`` is set only on the event whose block carried a valid
    ``retry`` field.
    """

    data: str
    event: str = "message"
    id: str = ""
    retry: int | None = None


class SSEDecoder:
    """Incremental decoder: ``feed(bytes) -> list[SSEEvent]``, then ``close()``."""

    __slots__ = (
        "_buffer",
        "_closed",
        "_data",
        "_data_size",
        "_error",
        "_event_type",
        "_last_id",
        "_max_event_size",
        "_retry",
        "_scanned",
        "_seen_start",
        "_skip_lf",
    )

    def __init__(self, *, max_event_size: int = DEFAULT_MAX_EVENT_SIZE) -> None:
        if max_event_size < 1:
            raise LocalProtocolError("max_event_size must be a positive number of bytes")
        self._max_event_size = max_event_size
        self._buffer = bytearray()
        # The buffer's first _scanned bytes hold no CR or LF: an event that arrives in
        # many chunks is searched once, not once per chunk (h11's receive buffer).
        self._scanned = 0
        self._seen_start = False  # whether the BOM check is done
        self._skip_lf = False  # the previous chunk ended with CR
        self._data: list[bytearray] = []
        self._data_size = 0
        self._event_type = ""
        self._last_id = ""
        self._retry: int | None = None
        self._error: RemoteProtocolError | None = None
        self._closed = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume ``chunk`` and return the events it completed (possibly none)."""
        events: list[SSEEvent] = self._feed(chunk, raw=False)
        return events

    def feed_data(self, chunk: bytes) -> list[bytes | bytearray]:
        """Like :meth:`feed`, but give each completed event's data only, as the raw
        UTF-8 bytes, undecoded.

        For consumers that parse JSON straight from bytes (orjson does, and decoding
        to ``str`` first would copy every message once more). The event type, id and
        retry fields are applied to the stream state as usual but not reported:
        Gradio sends none of them. Each item belongs to the caller; a data line of
        more than 64 KiB is handed over without being copied.
        """
        data: list[bytes | bytearray] = self._feed(chunk, raw=True)
        return data

    def _feed(self, chunk: bytes, *, raw: bool) -> list[Any]:
        self._check_usable()
        if not chunk:
            return []
        buffer = self._buffer
        if self._skip_lf:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        buffer += chunk
        if not self._seen_start:
            if len(buffer) < len(_BOM) and _BOM.startswith(buffer):
                return []
            self._seen_start = True
            if buffer.startswith(_BOM):
                del buffer[: len(_BOM)]
        events: list[Any] = []
        start = 0
        # Gradio only ever sends LF; looking for CR only when one is present keeps
        # the common case to one C-level search per line.
        scanned = self._scanned
        has_cr = buffer.find(b"\r", scanned) >= 0
        if not has_cr and not self._data and not self._event_type and self._retry is None:
            events = self._plain_events(raw)
            scanned = self._scanned
        if not has_cr:
            # The common case, inlined: LF-only lines, most of them "data: ..." lines.
            find = buffer.find
            while True:
                lf = find(b"\n", start or scanned)
                if lf < 0:
                    break
                if lf == start:
                    event = self._dispatch(raw)
                    if event is not None:
                        events.append(event)
                elif buffer.startswith(b"data: ", start):
                    self._data_size += lf - start
                    if self._data_size > self._max_event_size:
                        self._fail(raise_now=not events)
                        return events
                    if lf - start > _HAND_OVER:
                        # A big line (a long reply's final message): the buffer itself
                        # becomes the line, and only the bytes after it are copied.
                        rest = buffer[lf + 1 :]
                        del buffer[lf:]
                        del buffer[: start + 6]  # O(1) at the front of a bytearray
                        self._data.append(buffer)
                        buffer = self._buffer = rest
                        find = buffer.find
                        start = scanned = 0
                        continue
                    self._data.append(buffer[start + 6 : lf])
                elif self._process_line(buffer, start, lf, after_events=bool(events)):
                    return events
                start = lf + 1
        end = len(buffer)
        while has_cr and start < end:
            lf = buffer.find(b"\n", start)
            cr = buffer.find(b"\r", start, lf if lf >= 0 else end)
            if cr >= 0:
                line_end, next_start = cr, cr + 1
                if next_start < end and buffer[next_start] == 0x0A:
                    next_start += 1
                elif next_start == end:
                    self._skip_lf = True
            elif lf >= 0:
                line_end, next_start = lf, lf + 1
            else:
                break
            if line_end == start:
                event = self._dispatch(raw)
                if event is not None:
                    events.append(event)
            elif self._process_line(buffer, start, line_end, after_events=bool(events)):
                return events
            start = next_start
        if start:
            del buffer[:start]
        self._scanned = len(buffer)
        if len(buffer) + self._data_size > self._max_event_size:
            self._fail(raise_now=not events)
        return events

    def _plain_events(self, raw: bool) -> list[Any]:
        """The events at the front of the buffer while they are all Gradio's kind, one
        ``data: ...`` line and a blank line each, found with C-level searches only;
        the line-by-line loop reads whatever is left.

        Splitting a span at ``LF LF data:`` gives the data of each event; the events
        are plain exactly when the LFs in the span are those of the separators. Spans
        are at most ``_WINDOW`` bytes, so a long line is handed over by the loop
        instead of being copied here.
        """
        buffer = self._buffer
        events: list[Any] = []
        while buffer.startswith(b"data: "):
            # An event completed by earlier feeds would have been taken then: the
            # search starts where they stopped.
            end = buffer.rfind(b"\n\n", max(self._scanned - 1, 0), _WINDOW)
            if end < 0:
                break
            with memoryview(buffer) as view:
                # bytes, not bytearray: one allocation per event instead of two.
                span = bytes(view[6:end])
            data = span.split(b"\n\ndata: ")
            if span.count(b"\n") != 2 * len(data) - 2:
                break
            if end > self._max_event_size and max(map(len, data)) + 6 > self._max_event_size:
                break  # the line-by-line loop raises at the right event
            del buffer[: end + 2]
            self._scanned = 0
            if raw:
                events += data
            else:
                last_id = self._last_id
                events += [SSEEvent(data=line.decode("utf-8", "replace"), id=last_id) for line in data]
        return events

    def close(self) -> list[SSEEvent]:
        """Signal the end of the stream.

        Returns the events still pending, which per the spec is always none: an event
        whose blank line never arrived is discarded. Callers that need to know
        whether the stream ended cleanly check :attr:`has_incomplete_event` first.
        """
        self._check_usable()
        self._closed = True
        self._buffer.clear()
        self._scanned = 0
        self._reset_event()
        return []

    @property
    def has_incomplete_event(self) -> bool:
        """Whether bytes of an event are buffered that no blank line has dispatched."""
        return bool(self._buffer) or bool(self._data)

    @property
    def failed(self) -> bool:
        """Whether the stream broke a limit: the next ``feed`` or ``close`` raises why."""
        return self._error is not None

    def _check_usable(self) -> None:
        if self._error is not None:
            raise self._error
        if self._closed:
            raise LocalProtocolError("the decoder was closed; start a new decoder for a new stream")

    def _fail(self, *, raise_now: bool = True) -> None:
        """Enter the failed state. Events completed by the same ``feed`` are still
        returned (``raise_now=False``): they are valid, and the error follows them."""
        self._error = RemoteProtocolError(
            f"a server-sent event exceeded {self._max_event_size} bytes without ending; "
            "the server is broken or the limit is too low (raise max_event_size if the "
            "Space really sends outputs this large)"
        )
        self._buffer.clear()
        self._scanned = 0
        self._reset_event()
        if raise_now:
            raise self._error

    def _reset_event(self) -> None:
        self._data = []
        self._data_size = 0
        self._event_type = ""
        self._retry = None

    def _process_line(self, buffer: bytearray, start: int, end: int, *, after_events: bool) -> bool:
        """One non-empty line: a comment or a field. True if it broke the size limit:
        the decoder has then failed, and raises at once unless events came before."""
        if buffer[start] == 0x3A:  # ":" starts a comment
            return False
        colon = buffer.find(b":", start, end)
        if colon < 0:
            name = buffer[start:end]
            value_start = end
        else:
            name = buffer[start:colon]
            value_start = colon + 1
            if value_start < end and buffer[value_start] == 0x20:
                value_start += 1
        if name == b"data":
            self._data.append(buffer[value_start:end])
            self._data_size += end - start
            if self._data_size > self._max_event_size:
                self._fail(raise_now=not after_events)
                return True
            return False
        value = buffer[value_start:end].decode("utf-8", "replace")
        if name == b"event":
            self._event_type = value
        elif name == b"id" and "\x00" not in value:
            self._last_id = value
        elif name == b"retry" and value.isascii() and value.isdigit():
            self._retry = int(value)
        return False

    def _dispatch(self, raw: bool) -> SSEEvent | bytearray | None:
        """The pending event, which then resets; none if it has no data line."""
        lines = self._data
        if not lines:
            self._event_type = ""
            self._retry = None
            return None
        data = lines[0] if len(lines) == 1 else bytearray(b"\n").join(lines)
        event: SSEEvent | bytearray = data
        if not raw:
            # Lines are decoded after joining: LF is ASCII, so this is the same as
            # decoding each line, with one copy less.
            event = SSEEvent(
                data=data.decode("utf-8", "replace"),
                event=self._event_type or "message",
                id=self._last_id,
                retry=self._retry,
            )
        self._reset_event()
        return event


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
