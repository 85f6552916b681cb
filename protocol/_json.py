"""JSON decoding for wire payloads: a value or :class:`RemoteProtocolError`, whatever the input.

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

from ._errors import RemoteProtocolError

__all__ = ["JSONValue", "loads"]

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
