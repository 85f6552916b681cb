"""JSON decoding for wire payloads, total over any input.

orjson is the fast path (it is several times faster than :mod:`json` on Gradio's
per-token messages, which is where a streaming client spends its CPU). It refuses a
few things Gradio can legitimately send, so :mod:`json` is the fallback: ``NaN`` and
``Infinity`` from servers up to 4.22, lone surrogate escapes, integers beyond 64 bits.
"""

from __future__ import annotations

import json
from typing import TypeAlias

import orjson

from ._errors import RemoteProtocolError

__all__ = ["JSONValue", "loads", "loads_text"]

JSONValue: TypeAlias = "bool | int | float | str | list[JSONValue] | dict[str, JSONValue] | None"


def loads(data: str | bytes | bytearray, *, what: str) -> JSONValue:
    """Decode ``data`` or raise :class:`RemoteProtocolError` naming ``what`` it was.

    Bytes that are not valid UTF-8 are read with replacement characters, as the SSE
    decoder reads them into text: the result never depends on which one was used.
    """
    try:
        value: JSONValue = orjson.loads(data)
        return value
    except orjson.JSONDecodeError:
        pass
    return loads_text(data if isinstance(data, str) else data.decode("utf-8", "replace"), what=what)


def loads_text(text: str, *, what: str) -> JSONValue:
    """Decode ``text`` with :mod:`json`: :func:`loads`'s fallback, and the reader of
    large documents. orjson copies its whole input before parsing, so a 1 MB message
    would briefly need 3 MB; json parses in place, and is as fast where it matters
    here (one long string). Valid JSON decodes to the same value either way.
    """
    try:
        value: JSONValue = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise RemoteProtocolError(f"{what} is not valid JSON ({exc}); it began with {text[:80]!r}") from None
    return value
