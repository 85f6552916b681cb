"""A value from a Space (or a caller) as bounded text for a message or a line of ``info``.

``repr`` walks the whole value: a default nested a thousand deep raises RecursionError,
and a long one fills a screen. This stops at a few levels, items and characters."""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["bounded"]

_DEPTH, _ITEMS, _WIDTH = 4, 20, 300


def bounded(value: object, width: int = _WIDTH) -> str:
    """``value`` as ``repr`` shows it, cut to ``width`` characters and a few levels and
    items (``...`` where cut); a whole float as an integer (``4`` for ``4.0``)."""
    text = _shown(value, _DEPTH)
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."


def _shown(value: object, depth: int) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value)) if abs(value) < 1e15 else repr(value)
    if isinstance(value, str):
        return repr(value[:_WIDTH] + "...") if len(value) > _WIDTH else repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<int of {value.bit_length()} bits>"  # its repr is refused past 4,300 digits
    if isinstance(value, (list, tuple)):
        if depth == 0:
            return "[...]"
        shown = [_shown(item, depth - 1) for item in value[:_ITEMS]]
        return "[" + ", ".join(shown + (["..."] if len(value) > _ITEMS else [])) + "]"
    if isinstance(value, Mapping):
        if depth == 0:
            return "{...}"
        pairs = [f"{_shown(k, 0)}: {_shown(v, depth - 1)}" for k, v in list(value.items())[:_ITEMS]]
        return "{" + ", ".join(pairs + (["..."] if len(value) > _ITEMS else [])) + "}"
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    return f"<{type(value).__name__}>"  # not a JSON value: its repr is no one's to trust
