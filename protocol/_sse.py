"""Server-Sent Events: an incremental decoder that accepts any bytes.

It implements the WHATWG "event stream interpretation" rules
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation)
over *bytes*:

* lines end at CR LF, CR or LF, and nowhere else. Gradio sends U+2028 and U+0085 raw
  inside its JSON, so ``str.splitlines()`` (which splits on them) must never be used;
  splitting bytes is safe because CR and LF never occur inside a UTF-8 sequence;
* each event's data is decoded as UTF-8 with replacement characters, so no byte
  sequence makes the decoder raise a Unicode error;
* a CR that ends a chunk ends the line at once; a LF that starts the next chunk is
  then swallowed as the second half of CR LF;
* one leading BOM is ignored; a final event without its blank line is dropped, as
  the spec says (``close()`` reports the stream end).

``feed`` raises :class:`RemoteProtocolError` when one event grows past
``max_event_size`` bytes (h11's ``max_incomplete_event_size``): an unbounded line
from a broken server must not eat the memory of the process. The events completed
before the breach are returned first; the error comes with the next call.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import RemoteProtocolError, UsageError

__all__ = ["DEFAULT_MAX_EVENT_SIZE", "SSEDecoder", "SSEEvent"]

#: Large enough for a chat reply carrying a few base64 images, small enough that a
#: server that never ends its line fails fast instead of exhausting memory.
DEFAULT_MAX_EVENT_SIZE = 16 * 1024 * 1024

_BOM = b"\xef\xbb\xbf"
_VIEW = 64 * 1024


@dataclass(slots=True)
class SSEEvent:
    """One dispatched event (a plain record: one is made per message, so it is not
    frozen, which would cost a third of the decoder's time).

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
        "_error",
        "_event_size",
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
            raise UsageError(f"max_event_size must be a positive number of bytes, got {max_event_size!r}")
        self._max_event_size = max_event_size
        self._buffer = bytearray()
        # The buffer's first _scanned bytes hold no line end: a line that arrives in
        # many chunks is searched once, not once per chunk (h11's receive buffer).
        self._scanned = 0
        self._seen_start = False  # whether the BOM check is done
        self._skip_lf = False  # the previous line ended with a CR at the end of a chunk
        self._data: list[memoryview | bytes | bytearray] = []
        self._event_size = 0
        self._event_type = ""
        self._last_id = ""
        self._retry: int | None = None
        self._error: RemoteProtocolError | None = None
        self._closed = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Consume ``chunk`` and return the events it completed (possibly none)."""
        self._check_usable()
        if b"\r" in chunk:
            chunk = self._to_lf(chunk)
        elif self._skip_lf and chunk:
            self._skip_lf = False
            if chunk[:1] == b"\n":
                chunk = chunk[1:]
        buffer = self._buffer
        buffer += chunk
        if not self._seen_start:
            if len(buffer) < len(_BOM) and _BOM.startswith(buffer):
                return []
            self._seen_start = True
            if buffer.startswith(_BOM):
                del buffer[: len(_BOM)]
        events: list[SSEEvent] = []
        if buffer.find(b"\n", self._scanned) >= 0:
            *lines, rest = buffer.split(b"\n")
            buffer = self._buffer = rest  # the old buffer goes now: its lines hold its bytes
            data, size, limit = self._data, self._event_size, self._max_event_size
            for line in lines:
                if not line:  # the blank line that ends an event
                    if data:
                        events.append(self._event(data))
                        data = self._data = []
                    else:  # an event without data is dropped
                        self._event_type, self._retry = "", None
                    size = 0
                    continue
                # Every line counts towards the event's size, so that where the reads
                # cut the stream never decides whether it breaks the limit.
                size += len(line)
                if size > limit:
                    self._fail()
                    return self._raise_unless(events)
                if line.startswith(b"data: "):  # Gradio's only kind of line
                    # A long line (a long reply's final message is as big as the reply) is
                    # viewed, not copied; a view costs more than copying a short one.
                    data.append(line[6:] if len(line) < _VIEW else memoryview(line)[6:])
                else:
                    self._line(line)
            self._event_size = size
        self._scanned = len(buffer)
        if len(buffer) + self._event_size > self._max_event_size:
            self._fail()
            return self._raise_unless(events)
        return events

    def _to_lf(self, chunk: bytes) -> bytes:
        """``chunk`` with every line end as LF: CR LF and lone CR both end a line."""
        if self._skip_lf and chunk[:1] == b"\n":
            chunk = chunk[1:]
        # A CR at the end may be the first half of a CR LF whose LF comes next.
        self._skip_lf = chunk.endswith(b"\r")
        return chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")

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
    def between_events(self) -> bool:
        """Whether nothing of an event is held: no bytes, and no line of one (every field
        and comment line counts towards its size). A chunk of one whole event is then
        read as a fresh decoder would read it."""
        return (
            self._seen_start and not self._buffer and not self._event_size and self._error is None and not self._closed
        )

    @property
    def failed(self) -> bool:
        """Whether the stream broke a limit: the next ``feed`` or ``close`` raises why."""
        return self._error is not None

    def _check_usable(self) -> None:
        if self._error is not None:
            raise self._error
        if self._closed:
            # A bug in the calling code, not something a user or a server did: it must
            # surface as one, never be handled as a chat's failure.
            raise RuntimeError("the decoder was closed; start a new decoder for a new stream")

    def _fail(self) -> None:
        self._error = RemoteProtocolError(
            f"a server-sent event exceeded {self._max_event_size} bytes without ending; "
            "the server is broken or the limit is too low (raise max_event_size if the "
            "Space really sends outputs this large)"
        )
        self._buffer.clear()
        self._scanned = 0
        self._reset_event()

    def _raise_unless(self, events: list[SSEEvent]) -> list[SSEEvent]:
        """The valid events of this feed come first; the error then comes with the next call."""
        if not events and self._error is not None:
            raise self._error
        return events

    def _reset_event(self) -> None:
        self._data = []
        self._event_size = 0
        self._event_type = ""
        self._retry = None

    def _line(self, line: bytearray) -> None:
        """One non-empty line: a comment or a field."""
        if line[0] == 0x3A:  # ":" starts a comment
            return
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            self._data.append(bytes(value))
        elif name == b"event":
            self._event_type = value.decode("utf-8", "replace")
        elif name == b"id" and b"\x00" not in value:
            self._last_id = value.decode("utf-8", "replace")
        elif name == b"retry" and value.isdigit():
            self._retry = int(value)

    def _event(self, lines: list[memoryview | bytes | bytearray]) -> SSEEvent:
        """The event of the data ``lines``; the next event starts with the default type."""
        # Decoded after joining: LF is ASCII, so this equals decoding each line.
        data = lines[0] if len(lines) == 1 else b"\n".join(lines)
        event = SSEEvent(str(data, "utf-8", "replace"), self._event_type or "message", self._last_id, self._retry)
        if self._event_type or self._retry is not None:
            self._event_type, self._retry = "", None
        return event
