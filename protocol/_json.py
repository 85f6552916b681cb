"""JSON for wire payloads: decoding (a value or :class:`RemoteProtocolError`, whatever the
input) and encoding the request bodies we send (:func:`request_body`).

orjson reads the documents, several times faster than :mod:`json`: a client spends
most of its CPU decoding one small message per token. It refuses a few things Gradio
can legitimately send: ``NaN`` and ``Infinity`` (servers up to 4.22), lone surrogate
escapes, nesting deeper than 1,024. Those documents go to :mod:`json`, told to read
integers as orjson does: exact within 64 bits (``-2**63`` to ``2**64 - 1``), a float
beyond. Either way a document means the same; ``tests/test_json.py`` checks it over
hostile documents against :mod:`json` with that one rule.

Documents over 256 KiB (a long reply's final message) go to :mod:`json` directly:
orjson's working memory is many times the document (12 MiB for a 1 MB reply), json's
is the result alone, and one large document per reply costs nothing in speed.
"""

from __future__ import annotations

import json
import math
from typing import TypeAlias

import orjson

from .errors import ChatRequestError, LocalProtocolError, RemoteProtocolError

__all__ = ["JSONValue", "loads", "request_body"]

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"

_LARGE = 256 * 1024


def loads(data: str | bytes, *, what: str) -> JSONValue:
    """Decode ``data`` or raise :class:`RemoteProtocolError` naming ``what`` it was.

    Bytes that are not valid UTF-8 are read with replacement characters, as the SSE
    decoder reads them into text.
    """
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    if len(text) < _LARGE:
        try:
            value: JSONValue = orjson.loads(text)
            return value
        except orjson.JSONDecodeError:
            pass
    try:
        value = json.loads(text, parse_int=read_int)
    except (ValueError, RecursionError) as exc:
        raise RemoteProtocolError(f"{what} is not valid JSON ({exc}); it began with {text[:80]!r}") from None
    return value


def read_int(literal: str) -> int | float:
    """An integer literal as orjson reads it; one beyond a double's range is infinite,
    as :mod:`json` reads a float literal that large (orjson refuses both)."""
    number = int(literal)
    if -(2**63) <= number < 2**64:
        return number
    try:
        return float(number)
    except OverflowError:
        return math.inf if number > 0 else -math.inf


def request_body(body: dict[str, object], *, what: str) -> bytes:
    """``body`` as compact UTF-8 JSON, for every request that carries the chat's values
    (``queue/join``, a chain step's ``run/predict``).

    The values are the caller's (messages, options, file references), and JSON cannot
    carry some of them: a lone surrogate, ``NaN`` or an infinity (sent, they would be
    invalid UTF-8 or not JSON, or changed to ``null``), nesting past Python's recursion
    limit. Those raise :class:`ChatRequestError`, a usage error saying what to change.
    A value of no JSON type at all the typing already forbids, so it is a bug of the
    calling code: :class:`LocalProtocolError`.
    """
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except TypeError as exc:
        raise LocalProtocolError(f"{what} cannot be sent as JSON: {exc}") from None
    except UnicodeEncodeError as exc:
        raise ChatRequestError(
            f"{what} cannot be sent as JSON: a value holds a lone surrogate ({exc.reason}); pass valid Unicode text"
        ) from None
    except ValueError as exc:
        raise ChatRequestError(f"{what} cannot be sent as JSON: {exc}; pass finite numbers") from None
    except RecursionError:
        raise ChatRequestError(f"{what} cannot be sent as JSON: a value is nested too deeply; flatten it") from None
