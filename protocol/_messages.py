"""Typed Gradio queue messages and the total parser :func:`parse_message`.

One slotted dataclass per ``msg`` tag of the queue protocol (Gradio 4.x to
6.x: ``estimation``, ``process_starts``, ``progress``, ``log``, ``process_generating``,
``process_streaming``, ``process_completed``, ``heartbeat``, ``close_stream``,
``unexpected_error``), plus
:class:`UnknownMessage` for tags Gradio adds later, like h2's
``UnknownFrameReceived``: a newer server must not break an older client.

Validation lives in the parse functions, not in ``__init__``, so that values built
by hand in tests stay cheap. The dataclasses are not frozen (treat them as
read-only): a message is built per token, and a frozen one costs twice as much. The parser checks only what a client relies on and
tolerates absent optional fields: 4.44 omits ``title`` and the cache fields, 6.x
adds new ones. Every violation raises :class:`RemoteProtocolError` naming the field.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from ._json import JSONValue, loads
from .errors import RemoteProtocolError

__all__ = [
    "CloseStream",
    "CompletionStatus",
    "Estimation",
    "Heartbeat",
    "Log",
    "MessageTag",
    "Output",
    "ProcessCompleted",
    "ProcessGenerating",
    "ProcessStarts",
    "ProcessStreaming",
    "Progress",
    "ProgressUnit",
    "QueueMessage",
    "UnexpectedError",
    "UnknownMessage",
    "parse_message",
    "unquote_error",
]

JSONObject: TypeAlias = dict[str, JSONValue]


class MessageTag(enum.StrEnum):
    """The ``msg`` values of the queue protocol (gradio_client's ``ServerMessage``)."""

    ESTIMATION = "estimation"
    PROCESS_STARTS = "process_starts"
    PROGRESS = "progress"
    LOG = "log"
    PROCESS_GENERATING = "process_generating"
    PROCESS_STREAMING = "process_streaming"
    PROCESS_COMPLETED = "process_completed"
    HEARTBEAT = "heartbeat"
    CLOSE_STREAM = "close_stream"
    UNEXPECTED_ERROR = "unexpected_error"


class CompletionStatus(enum.Enum):
    """How a job ended, as told by ``process_completed``."""

    #: ``success: true`` with ``output.data``: the full final outputs.
    SUCCEEDED = "succeeded"
    #: ``success: false``: the function raised; ``output.error`` may be null.
    FAILED = "failed"
    #: ``success: true`` with no ``output.data``: the job was cancelled.
    CANCELLED = "cancelled"


@dataclass(slots=True)
class Output:
    """The ``output`` of a generating or completed message.

    ``data`` holds one entry per output component. In ``process_generating`` after
    the first one of an event these entries are *edit lists* (Gradio diffs), not
    values; the diff module applies them.
    """

    data: list[JSONValue]
    is_generating: bool | None = None
    duration: float | None = None
    average_duration: float | None = None


@dataclass(slots=True, kw_only=True)
class Estimation:
    """The event waits in the queue. ``rank`` is 0-based among the waiting events."""

    event_id: str | None
    rank: int | None = None
    queue_size: int | None = None
    rank_eta: float | None = None


@dataclass(slots=True, kw_only=True)
class ProcessStarts:
    """A worker picked the event up. ``eta`` is the function's average run time."""

    event_id: str | None
    eta: float | None = None


@dataclass(slots=True, kw_only=True)
class ProgressUnit:
    """One level of nested ``gr.Progress`` / tqdm progress."""

    index: int | None = None
    length: int | None = None
    unit: str | None = None
    progress: float | None = None
    desc: str | None = None


@dataclass(slots=True, kw_only=True)
class Progress:
    """Progress of the running function (rate-limited by the server)."""

    event_id: str | None
    progress_data: tuple[ProgressUnit, ...] = ()


@dataclass(slots=True, kw_only=True)
class Log:
    """``gr.Info`` / ``gr.Warning`` / ``gr.Success`` called inside the function."""

    event_id: str | None
    log: str
    level: str = "info"
    duration: float | None = None
    visible: bool = True
    title: str | None = None


@dataclass(slots=True)
class ProcessGenerating:
    """One yield of a generator: full values first, then diffs (sse_v2 and later)."""

    event_id: str | None
    output: Output
    success: bool = True
    time_limit: float | None = None


@dataclass(slots=True, kw_only=True)
class ProcessStreaming:
    """A chunk of a ``connection: "stream"`` dependency: full values, never diffs."""

    event_id: str | None
    output: Output
    success: bool = True
    time_limit: float | None = None


@dataclass(slots=True, kw_only=True)
class ProcessCompleted:
    """The event ended.

    On success ``output.data`` holds full values (never diffs). On failure ``error``
    is the Space's message, or ``None`` when the app hides its errors; Gradio 4.x
    wraps ``gr.Error`` text in quotes, which the parser removes. ``title`` is the
    error title when the server sends one (5.2+).
    """

    event_id: str | None
    status: CompletionStatus
    output: Output | None = None
    error: str | None = None
    title: str | None = None


@dataclass(slots=True, kw_only=True)
class Heartbeat:
    """Keep-alive, every 15 s by default. Proof that the stream is alive."""

    event_id: str | None = None


@dataclass(slots=True, kw_only=True)
class CloseStream:
    """The server is about to end the stream: the session has nothing pending (v3)."""

    event_id: str | None = None


@dataclass(slots=True, kw_only=True)
class UnexpectedError:
    """A stream-level failure that concerns every pending event of the session."""

    event_id: str | None = None
    message: str | None = None
    session_not_found: bool = False


@dataclass(slots=True, kw_only=True)
class UnknownMessage:
    """A message whose ``msg`` tag this version does not model; ``payload`` is all of it."""

    tag: str
    event_id: str | None
    payload: JSONObject


QueueMessage: TypeAlias = (
    Estimation
    | ProcessStarts
    | Progress
    | Log
    | ProcessGenerating
    | ProcessStreaming
    | ProcessCompleted
    | Heartbeat
    | CloseStream
    | UnexpectedError
    | UnknownMessage
)


def parse_message(data: str | bytes) -> QueueMessage:
    """Parse the ``data`` of one SSE event from ``queue/data``.

    Total: returns a message or raises :class:`RemoteProtocolError`.
    """
    return message_from_json(loads(data, what="a queue message"))


def message_from_json(payload: JSONValue) -> QueueMessage:
    """:func:`parse_message` for a message already decoded from JSON."""
    if not isinstance(payload, dict):
        raise RemoteProtocolError(f"a queue message must be a JSON object, got {_kind(payload)}")
    tag = payload.get("msg")
    if not isinstance(tag, str):
        raise RemoteProtocolError(f"message.msg: expected a string tag, got {_kind(tag)}")
    parser = _PARSERS.get(tag)
    if parser is None:
        return UnknownMessage(tag=tag, event_id=_optional_str(payload, tag, "event_id"), payload=payload)
    return parser(payload, tag)


class _Fields:
    """Typed access to a message's fields; errors name ``tag.field``."""

    __slots__ = ("payload", "tag")

    def __init__(self, payload: JSONObject, tag: str) -> None:
        self.payload = payload
        self.tag = tag

    def event_id(self) -> str | None:
        return _optional_str(self.payload, self.tag, "event_id")

    def required_event_id(self) -> str:
        value = self.event_id()
        if value is None:
            raise RemoteProtocolError(f"{self.tag}.event_id: missing, but this message belongs to an event")
        return value

    def opt_str(self, key: str) -> str | None:
        return _optional_str(self.payload, self.tag, key)

    def opt_int(self, key: str) -> int | None:
        return _optional_int(self.payload, self.tag, key)

    def opt_float(self, key: str) -> float | None:
        return _optional_float(self.payload, self.tag, key)

    def opt_bool(self, key: str) -> bool | None:
        return _optional_bool(self.payload, self.tag, key)


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        shown = repr(value)
        return f"the number {shown if len(shown) <= 40 else shown[:20] + '...'}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _optional_str(obj: JSONObject, where: str, key: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise RemoteProtocolError(f"{where}.{key}: expected a string or null, got {_kind(value)}")


def _optional_int(obj: JSONObject, where: str, key: str) -> int | None:
    value = obj.get(key)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    # Some servers serialise integral counters as floats (e.g. 3.0); accept those. An
    # integer too large for a double reads as infinite (see _json.read_int): not an
    # integer, so a 400-digit queue rank is a protocol error, never an OverflowError.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise RemoteProtocolError(f"{where}.{key}: expected an integer or null, got {_kind(value)}")


def _optional_float(obj: JSONObject, where: str, key: str) -> float | None:
    value = obj.get(key)
    if value is None or type(value) is float:
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise RemoteProtocolError(f"{where}.{key}: expected a number or null, got {_kind(value)}")


def _optional_bool(obj: JSONObject, where: str, key: str) -> bool | None:
    value = obj.get(key)
    if value is None or value is True or value is False:
        return value
    raise RemoteProtocolError(f"{where}.{key}: expected true, false or null, got {_kind(value)}")


def _object(obj: JSONObject, where: str, key: str) -> JSONObject:
    value = obj.get(key)
    if isinstance(value, dict):
        return value
    raise RemoteProtocolError(f"{where}.{key}: expected an object, got {_kind(value)}")


def _output(fields: _Fields, *, require_data: bool) -> Output | None:
    where = fields.tag
    output = _object(fields.payload, where, "output")
    data = output.get("data")
    if data is None and not require_data:
        return None
    if type(data) is not list:
        raise RemoteProtocolError(f"{where}.output.data: expected an array, got {_kind(data)}")
    where = f"{where}.output"
    return Output(
        data=data,
        is_generating=_optional_bool(output, where, "is_generating"),
        duration=_optional_float(output, where, "duration"),
        average_duration=_optional_float(output, where, "average_duration"),
    )


def _parse_estimation(payload: JSONObject, tag: str) -> Estimation:
    f = _Fields(payload, tag)
    return Estimation(
        event_id=f.event_id(),
        rank=f.opt_int("rank"),
        queue_size=f.opt_int("queue_size"),
        rank_eta=f.opt_float("rank_eta"),
    )


def _parse_process_starts(payload: JSONObject, tag: str) -> ProcessStarts:
    f = _Fields(payload, tag)
    return ProcessStarts(event_id=f.required_event_id(), eta=f.opt_float("eta"))


def _parse_progress(payload: JSONObject, tag: str) -> Progress:
    f = _Fields(payload, tag)
    raw = f.payload.get("progress_data")
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise RemoteProtocolError(f"progress.progress_data: expected an array, got {_kind(raw)}")
    units = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise RemoteProtocolError(f"progress.progress_data[{i}]: expected an object, got {_kind(item)}")
        where = f"progress.progress_data[{i}]"
        units.append(
            ProgressUnit(
                index=_optional_int(item, where, "index"),
                length=_optional_int(item, where, "length"),
                unit=_optional_str(item, where, "unit"),
                progress=_optional_float(item, where, "progress"),
                desc=_optional_str(item, where, "desc"),
            )
        )
    return Progress(event_id=f.required_event_id(), progress_data=tuple(units))


def _parse_log(payload: JSONObject, tag: str) -> Log:
    f = _Fields(payload, tag)
    visible = f.opt_bool("visible")
    return Log(
        event_id=f.required_event_id(),
        log=f.opt_str("log") or "",
        level=f.opt_str("level") or "info",
        duration=f.opt_float("duration"),
        visible=True if visible is None else visible,
        title=f.opt_str("title"),
    )


def _parse_generating(payload: JSONObject, tag: str) -> ProcessGenerating:
    # The message of every token: the values Gradio sends pass the first, cheap check
    # of each field; anything else gets the full check, which converts or raises.
    output = payload.get("output")
    if type(output) is not dict:
        output = _object(payload, tag, "output")
    data = output.get("data")
    if type(data) is not list:
        raise RemoteProtocolError(f"{tag}.output.data: expected an array, got {_kind(data)}")
    is_generating = output.get("is_generating")
    if is_generating is not None and type(is_generating) is not bool:
        is_generating = _optional_bool(output, f"{tag}.output", "is_generating")
    duration = output.get("duration")
    if duration is not None and type(duration) is not float:
        duration = _optional_float(output, f"{tag}.output", "duration")
    average = output.get("average_duration")
    if average is not None and type(average) is not float:
        average = _optional_float(output, f"{tag}.output", "average_duration")
    event_id = payload.get("event_id")
    if type(event_id) is not str:
        event_id = _Fields(payload, tag).required_event_id()
    success = payload.get("success", True)
    if type(success) is not bool:
        success = _optional_bool(payload, tag, "success")
    time_limit = payload.get("time_limit")
    if time_limit is not None:
        time_limit = _optional_float(payload, tag, "time_limit")
    # Positional: keyword calls cost a third of the parse of the message of every token.
    return ProcessGenerating(
        event_id, Output(data, is_generating, duration, average), True if success is None else success, time_limit
    )


def _parse_streaming(payload: JSONObject, tag: str) -> ProcessStreaming:
    generating = _parse_generating(payload, tag)
    return ProcessStreaming(
        event_id=generating.event_id,
        output=generating.output,
        success=generating.success,
        time_limit=generating.time_limit,
    )


def _parse_completed(payload: JSONObject, tag: str) -> ProcessCompleted:
    f = _Fields(payload, tag)
    event_id = f.required_event_id()
    success = f.opt_bool("success")
    if success is None:
        raise RemoteProtocolError("process_completed.success: missing; cannot tell success from failure")
    if not success:
        output = f.payload.get("output")
        if output is None:
            output = {}
        if not isinstance(output, dict):
            raise RemoteProtocolError(f"process_completed.output: expected an object, got {_kind(output)}")
        where = "process_completed.output"
        title = _optional_str(output, where, "title") or f.opt_str("title")
        return ProcessCompleted(
            event_id=event_id,
            status=CompletionStatus.FAILED,
            error=unquote_error(_error_text(output, where)),
            title=title,
        )
    parsed = _output(f, require_data=False)
    if parsed is None:
        return ProcessCompleted(event_id=event_id, status=CompletionStatus.CANCELLED)
    return ProcessCompleted(event_id=event_id, status=CompletionStatus.SUCCEEDED, output=parsed)


def _error_text(output: JSONObject, where: str) -> str | None:
    value = output.get("error")
    if value == "None":
        # Gradio 4.21 and older send str(Exception(None)) when the app hides errors.
        return None
    if value is None or isinstance(value, str):
        return value
    # Not seen from Gradio, but an app's exception may stringify to anything: keep
    # the information rather than refusing the whole completion.
    if isinstance(value, (bool, int, float)):
        return str(value)
    raise RemoteProtocolError(f"{where}.error: expected a string or null, got {_kind(value)}")


def unquote_error(error: str | None) -> str | None:
    """Undo Gradio < 5.2 sending ``repr(message)`` for ``gr.Error`` (PR #9681)."""
    if error is None or len(error) < 2 or error[0] not in "'\"" or error[-1] != error[0]:
        return error
    try:
        value = ast.literal_eval(error)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return error
    return value if isinstance(value, str) else error


def _parse_heartbeat(payload: JSONObject, tag: str) -> Heartbeat:
    f = _Fields(payload, tag)
    return Heartbeat(event_id=f.event_id())


def _parse_close_stream(payload: JSONObject, tag: str) -> CloseStream:
    f = _Fields(payload, tag)
    return CloseStream(event_id=f.event_id())


def _parse_unexpected_error(payload: JSONObject, tag: str) -> UnexpectedError:
    f = _Fields(payload, tag)
    return UnexpectedError(
        event_id=f.event_id(),
        message=f.opt_str("message"),
        session_not_found=bool(f.opt_bool("session_not_found")),
    )


_PARSERS: dict[str, Callable[[JSONObject, str], QueueMessage]] = {
    MessageTag.ESTIMATION: _parse_estimation,
    MessageTag.PROCESS_STARTS: _parse_process_starts,
    MessageTag.PROGRESS: _parse_progress,
    MessageTag.LOG: _parse_log,
    MessageTag.PROCESS_GENERATING: _parse_generating,
    MessageTag.PROCESS_STREAMING: _parse_streaming,
    MessageTag.PROCESS_COMPLETED: _parse_completed,
    MessageTag.HEARTBEAT: _parse_heartbeat,
    MessageTag.CLOSE_STREAM: _parse_close_stream,
    MessageTag.UNEXPECTED_ERROR: _parse_unexpected_error,
}
