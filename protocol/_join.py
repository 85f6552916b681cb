"""``POST queue/join``: the request body as exact bytes, and the response parser.

The request is serialised by us, byte for byte, so that cassettes hold the real wire
body and request matching on it is meaningful. The response parser turns every
answer Gradio gives into the event id or a typed :class:`SpaceHTTPError`: Gradio answers errors in JSON, plain text *and* HTML (the last
from the Hugging Face proxy when a Space sleeps or builds), so nothing here assumes
JSON until the body proves it.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from ._json import JSONValue, loads, request_body
from .errors import (
    AuthenticationError,
    LocalProtocolError,
    QueueFullError,
    RateLimitedError,
    RemoteProtocolError,
    RequestRejectedError,
    ServerError,
    SpaceHTTPError,
    SpaceUnavailableError,
)

__all__ = [
    "CancelRequest",
    "JoinRequest",
    "error_for_response",
    "is_web_page",
    "media_type",
    "new_session_hash",
    "parse_join_response",
]


def new_session_hash() -> str:
    """Return 12 random lower-case hex characters, the shape of the seed's session hashes.

    The server keys the stream, state and cancellation on this value, so independent
    chats need independent hashes.
    """
    return secrets.token_hex(6)


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinRequest:
    """The body of ``queue/join``.

    ``data`` holds one value per input of the dependency, in order (``None`` for
    ``gr.State`` inputs). ``simple_format=True`` asks the server for full values on
    every yield instead of diffs; it is only written when true, so default bodies
    are the ones the browser sends.
    """

    data: Sequence[JSONValue]
    fn_index: int
    session_hash: str
    trigger_id: int | None = None
    event_data: JSONValue = None
    simple_format: bool = False

    def to_bytes(self) -> bytes:
        """Serialise as compact UTF-8 JSON (:func:`request_body`: a value JSON cannot carry raises
        :class:`ChatRequestError`); a bad ``fn_index`` or ``session_hash`` is :class:`LocalProtocolError`."""
        if isinstance(self.fn_index, bool) or not isinstance(self.fn_index, int) or self.fn_index < 0:
            raise LocalProtocolError(f"fn_index must be a non-negative integer, got {self.fn_index!r}")
        if not isinstance(self.session_hash, str) or not self.session_hash:
            raise LocalProtocolError("session_hash must be a non-empty string: the server refuses joins without one")
        body: dict[str, object] = {
            "data": list(self.data),
            "event_data": self.event_data,
            "fn_index": self.fn_index,
            "trigger_id": self.trigger_id,
            "session_hash": self.session_hash,
        }
        if self.simple_format:
            body["simple_format"] = True
        return request_body(body, what="the join request")


@dataclass(frozen=True, slots=True)
class CancelRequest:
    """The body of ``POST /cancel``: stop event ``event_id`` of ``session_hash``."""

    session_hash: str
    fn_index: int
    event_id: str

    def to_bytes(self) -> bytes:
        """Compact UTF-8 JSON; raises :class:`LocalProtocolError` for text JSON cannot carry."""
        body = {"session_hash": self.session_hash, "fn_index": self.fn_index, "event_id": self.event_id}
        try:
            return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except ValueError as exc:  # a lone surrogate in an id
            raise LocalProtocolError(f"the cancel request cannot be sent as JSON: {exc}") from None


def parse_join_response(status: int, content_type: str | None, body: bytes) -> str:
    """Return the event id of an accepted join, or raise the matching :class:`SpaceHTTPError`.

    A 200 that is not the expected JSON raises :class:`RemoteProtocolError`.
    """
    if status == 200 and not is_web_page(content_type, body):
        return _event_id(body)
    raise error_for_response(status, content_type, body)


def error_for_response(status: int, content_type: str | None, body: bytes) -> SpaceHTTPError:
    """The typed error for a refusal of any request made before a job exists
    (``/config``, ``queue/join``, opening ``queue/data``)."""
    if is_web_page(content_type, body):
        return _html_error(status, body)
    said = _detail(media_type(content_type), body)
    detail = None if said is None else clip(said, _MAX_DETAIL)
    # Messages stay readable whatever the Space sends; ``detail`` keeps more of it.
    no_detail = clip(detail or "", _MAX_SHOWN_DETAIL) or "no detail"
    if status == 503:
        if detail is not None and detail.startswith("Queue is full"):
            return QueueFullError(
                f"the Space's queue is full ({no_detail}); wait and try again, or use another Space",
                status=status,
                detail=detail,
            )
        return SpaceUnavailableError(
            f"the Space is not accepting jobs (HTTP 503: {no_detail}); try again later", status=status, detail=detail
        )
    if status == 429:
        return RateLimitedError(
            f"the Space is rate limiting this client (HTTP 429: {no_detail}); slow down and retry",
            status=status,
            detail=detail,
        )
    if status in (401, 403):
        return AuthenticationError(
            f"the Space refused the request as unauthorised (HTTP {status}: {no_detail}); "
            "for a private Space pass a Hugging Face token with access to it (hf_token= or $HF_TOKEN); "
            "for an app launched with auth=, pass its user name and password (auth=(user, password))",
            status=status,
            detail=detail,
        )
    if status in (400, 404, 405, 409, 413, 422):
        return RequestRejectedError(
            f"the Space rejected the request (HTTP {status}: {no_detail}); "
            "the Space's API has probably changed: check that the endpoint and its inputs still match its /config",
            status=status,
            detail=detail,
        )
    if status in (502, 504):
        return SpaceUnavailableError(
            f"the Space's proxy could not reach it (HTTP {status}); it may be restarting: try again later",
            status=status,
            detail=detail,
        )
    if status >= 500:
        return ServerError(
            f"the Space crashed while accepting the request (HTTP {status}: {_summary(detail)}); "
            "a stale fn_index causes this: check that the endpoint still matches the Space's /config",
            status=status,
            detail=detail,
        )
    return SpaceHTTPError(
        f"unexpected answer from the Space (HTTP {status}: {no_detail})", status=status, detail=detail
    )


_MAX_DETAIL = 2000
_MAX_SHOWN_DETAIL = 300


def clip(text: str, limit: int = 1000) -> str:
    """What a server said, cut for a message (the whole stays on the error's attributes)."""
    return text if len(text) <= limit else text[:limit] + "…"


def media_type(content_type: str | None) -> str:
    """``text/html`` of ``Text/HTML; charset=utf-8``."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_web_page(content_type: str | None, body: bytes) -> bool:
    """An HTML page where JSON was expected: the Spaces proxy's "Building" or "Sleeping"."""
    return media_type(content_type) == "text/html" or body.lstrip()[:1] == b"<"


def _event_id(body: bytes) -> str:
    payload = loads(body, what="the queue/join response")
    if not isinstance(payload, dict):
        raise RemoteProtocolError("the queue/join response must be a JSON object with an event_id")
    event_id = payload.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        raise RemoteProtocolError(f"the queue/join response has no event_id: {body[:200]!r}")
    return event_id


def _html_error(status: int, body: bytes) -> SpaceUnavailableError:
    title = _html_title(body)
    what = f"HTTP {status}" + (f", page title {title!r}" if title else "")
    return SpaceUnavailableError(
        f"the Space answered with a web page instead of the API ({what}): it is asleep, "
        "building, paused or removed; open it in a browser to wake it, then try again",
        status=status,
        detail=title,
    )


def _html_title(body: bytes) -> str | None:
    lower = body[:65536].lower()
    start = lower.find(b"<title>")
    end = lower.find(b"</title>", start)
    if start < 0 or end < 0:
        return None
    return clip(body[start + len(b"<title>") : end].decode("utf-8", "replace").strip(), 200) or None


def _detail(kind: str, body: bytes) -> str | None:
    """The human-readable reason in an error body: JSON ``detail``, or the text itself."""
    if kind == "application/json" or body.lstrip()[:1] in (b"{", b"["):
        try:
            payload = loads(body, what="the queue/join error body")
        except RemoteProtocolError:
            payload = None
        if isinstance(payload, dict):
            return _format_detail(payload.get("detail", payload.get("error")))
    text = body[:2000].decode("utf-8", "replace").strip()
    return text or None


def _format_detail(detail: JSONValue) -> str | None:
    if detail is None:
        return None
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        return "; ".join(_format_detail_item(item) for item in detail) or None
    if isinstance(detail, dict):
        error = detail.get("error")
        if isinstance(error, str):
            return error
    return json.dumps(detail, ensure_ascii=False)[:500]


def _format_detail_item(item: JSONValue) -> str:
    if isinstance(item, dict):
        if item.get("__type__") == "validate":
            name = item.get("parameter_name")
            message = item.get("message")
            return f"input {name!s} failed validation: {message!s}"
        loc = item.get("loc")
        msg = item.get("msg")
        if isinstance(loc, list) and isinstance(msg, str):
            return ".".join(str(part) for part in loc) + f": {msg}"
    return json.dumps(item, ensure_ascii=False)[:200]


def _summary(detail: str | None) -> str:
    """One line of a plain-text error; for a Python traceback, its last line (the exception)."""
    lines = [line.strip() for line in (detail or "").splitlines() if line.strip()]
    if not lines:
        return "no detail"
    return (lines[-1] if lines[0].startswith("Traceback") else lines[0])[:200]
