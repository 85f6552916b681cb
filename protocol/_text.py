"""A string built from many small appends in O(total length) time and memory.

``s += piece`` copies ``s`` every time (quadratic over a long reply), and a plain
list of pieces costs ~50 bytes of object overhead per token. This keeps the recent
small pieces in a list and folds them into ~4 KiB blocks, so a 1 MB reply of 100,000
tokens is about 250 strings, each byte copied a bounded number of times.
"""

from __future__ import annotations

from ._json import JSONValue

__all__ = ["TextBuilder"]

_BLOCK = 4096


class TextBuilder:
    __slots__ = ("_blocks", "_length", "_tail", "_tail_length")

    def __init__(self, text: str = "") -> None:
        self._blocks: list[str] = [text] if text else []
        self._tail: list[str] = []
        self._tail_length = 0
        self._length = len(text)

    def __len__(self) -> int:
        return self._length

    def append(self, piece: str) -> None:
        self._tail.append(piece)
        self._tail_length += len(piece)
        self._length += len(piece)
        if self._tail_length >= _BLOCK:
            self._blocks.append("".join(self._tail))
            self._tail = []
            self._tail_length = 0

    def is_prefix_of(self, text: str, start: int = 0) -> bool:
        """Whether ``text`` has this text at ``start``, compared piece by piece, unbuilt."""
        if len(text) - start < self._length:
            return False
        position = start
        for piece in (*self._blocks, *self._tail):
            if not text.startswith(piece, position):
                return False
            position += len(piece)
        return True

    def build_after(self, prefix: JSONValue) -> str:
        """``prefix`` (a string) followed by this text, joined at once: a long reply is
        copied once, not once to build it and again to append it."""
        assert isinstance(prefix, str)  # DiffedOutputs checked it when the first piece came
        return "".join([prefix, *self._blocks, *self._tail])
