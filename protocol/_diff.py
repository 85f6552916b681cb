"""Gradio's generator diffs (sse_v2 and later), applied in time proportional to the edit.

The first ``process_generating`` of an event carries full values, one per output;
every later one carries, per output, a list of ``[op, path, value]`` edits (ops
``replace``, ``append``, ``add``, ``delete``; an empty list when the output did not
change). :class:`DiffedOutputs` keeps the current values of one event.

Two choices keep a long reply linear in its length:

* values are copied once, when a full value arrives, and then edited in place;
  gradio_client deep-copies the whole output before every message instead;
* string appends are not concatenated at once. ``parent[k] += suffix`` copies the
  whole string, so a reply of n tokens would cost O(n^2). Appends to one path are
  kept as a list of pieces and joined only when the value is read or another edit
  touches the output.

Edits that cannot apply (Gradio's diff has known defects: up to 5.29.0, removing two
trailing list elements gives deletes that run past the end; and anything malformed)
never raise: the output is marked *desynchronised* and ignores further edits until
its next full value. ``process_completed`` always brings one.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._json import JSONValue

__all__ = ["DiffedOutputs"]

_Path = tuple[int | str, ...]


class _CannotApply(Exception):
    """Internal: an edit does not fit the current value."""


_BLOCK = 4096


class TextBuilder:
    """A string built from many small appends in O(total length) time and memory.

    ``s += piece`` copies ``s`` every time (quadratic over a long reply), and a plain
    list of pieces costs ~50 bytes of object overhead per token. This keeps the recent
    small pieces in a list and folds them into ~4 KiB blocks, so a 1 MB reply of 100,000
    tokens is about 250 strings, each byte copied a bounded number of times.
    """

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


class DiffedOutputs:
    """The current values of one event's outputs."""

    __slots__ = ("_desynchronised", "_pending", "_values")

    def __init__(self, values: Sequence[JSONValue]) -> None:
        """Take one message's full values (a first yield, or any under sse_v1).

        They are copied once so that later in-place edits never mutate the message
        the values came from.
        """
        self._values: list[JSONValue] = [_copy(value) for value in values]
        self._pending: dict[int, dict[_Path, TextBuilder]] = {}
        self._desynchronised: set[int] = set()

    def apply(self, edit_lists: Sequence[JSONValue]) -> None:
        """Apply one message's ``output.data``: an edit list per output slot."""
        for slot, edits in enumerate(edit_lists):
            if (type(edits) is list and not edits) or slot in self._desynchronised:  # most outputs do not change
                continue
            if slot >= len(self._values):
                # After a hot reload an output can appear late; Gradio starts it from null.
                self._values.extend([None] * (slot + 1 - len(self._values)))
            if not isinstance(edits, list):
                self._desynchronise(slot)
                continue
            try:
                for edit in edits:
                    self._apply_edit(slot, edit)
            except _CannotApply:
                self._desynchronise(slot)

    def string_length_if_prefix(self, slot: int, path: tuple[int | str, ...], text: str) -> int | None:
        """The length of the string at ``path`` if ``text`` starts with it (``None`` if
        it does not, or there is no string there), compared without joining the
        appends it is still made of: a long reply is not copied to be compared."""
        if slot >= len(self._values) or slot in self._desynchronised:
            return None
        try:
            base = self._walk(self._values[slot], path)
        except _CannotApply:
            return None
        if not isinstance(base, str) or not text.startswith(base):
            return None
        pieces = self._pending.get(slot, {}).get(path)
        if pieces is None:
            return len(base)
        return len(base) + len(pieces) if pieces.is_prefix_of(text, len(base)) else None

    def value(self, slot: int) -> JSONValue:
        """The current value of output ``slot`` (``None`` if the server never sent it)."""
        if slot >= len(self._values):
            return None
        self._flush(slot)
        return self._values[slot]

    def is_desynchronised(self, slot: int) -> bool:
        """Whether an edit of ``slot`` failed since its last full value."""
        return slot in self._desynchronised

    def _desynchronise(self, slot: int) -> None:
        # The appends taken so far are kept: the value stays the last one known good.
        self._flush(slot)
        self._desynchronised.add(slot)

    def _apply_edit(self, slot: int, edit: JSONValue) -> None:
        if not isinstance(edit, list) or len(edit) != 3:
            raise _CannotApply
        op, raw_path, value = edit
        if type(raw_path) is not list:
            raise _CannotApply
        for key in raw_path:
            if type(key) is not int and type(key) is not str:  # bools and floats are not keys
                raise _CannotApply
        path: _Path = tuple(raw_path)  # type: ignore[arg-type]  # checked above
        if op == "append" and isinstance(value, str) and self.append_text(slot, path, value):
            return
        self._flush(slot)
        if not path:
            self._values[slot] = _apply_at_root(op, self._values[slot], value)
            return
        parent = self._walk(self._values[slot], path[:-1])
        _apply_at_parent(op, parent, path[-1], value)

    def append_text(self, slot: int, path: _Path, text: str) -> bool:
        """An ``append`` of ``text`` to the string at ``path`` of ``slot``; ``False``, with
        the value unchanged, where no string is there (the general edit then decides)."""
        if slot >= len(self._values) or slot in self._desynchronised:
            return False
        pending = self._pending.get(slot)
        if pending is not None and path in pending:
            pending[path].append(text)
            return True
        try:
            target = self._target(slot, path)
        except _CannotApply:
            return False
        if not isinstance(target, str):
            return False
        self._pending.setdefault(slot, {})[path] = TextBuilder(text)
        return True

    def _target(self, slot: int, path: _Path) -> JSONValue:
        """The value at ``path`` in ``slot``, pending appends included."""
        self._flush(slot)
        return self._walk(self._values[slot], path)

    def _walk(self, node: JSONValue, path: _Path) -> JSONValue:
        for key in path:
            node = _child(node, key)
        return node

    def _flush(self, slot: int) -> None:
        pending = self._pending.pop(slot, None)
        if not pending:
            return
        # Each path was checked to hold a string when its first piece arrived, and
        # nothing else touched the slot since, so these appends cannot fail.
        for path, pieces in pending.items():
            if path:
                parent = self._walk(self._values[slot], path[:-1])
                _apply_at_parent("replace", parent, path[-1], pieces.build_after(_child(parent, path[-1])))
            else:
                self._values[slot] = pieces.build_after(self._values[slot])


def _copy(value: JSONValue) -> JSONValue:
    """A deep copy of a JSON value, without recursion: a Space may send values nested
    deeper than Python's recursion limit, and those must not break the chat."""
    if type(value) is not list and type(value) is not dict:
        return value
    root: list[JSONValue] = [None]
    # (copy to fill, key in it, original value) for each container still to copy.
    pending: list[tuple[list[JSONValue] | dict[str, JSONValue], int | str, JSONValue]] = [(root, 0, value)]
    while pending:
        parent, key, original = pending.pop()
        if type(original) is list:
            copied_list: list[JSONValue] = list(original)
            _set(parent, key, copied_list)
            pending += [(copied_list, i, item) for i, item in enumerate(original) if type(item) in (list, dict)]
        elif type(original) is dict:
            copied_dict: dict[str, JSONValue] = dict(original)
            _set(parent, key, copied_dict)
            pending += [(copied_dict, k, item) for k, item in original.items() if type(item) in (list, dict)]
    return root[0]


def _set(parent: list[JSONValue] | dict[str, JSONValue], key: int | str, value: JSONValue) -> None:
    if isinstance(parent, list):
        assert isinstance(key, int)
        parent[key] = value
    else:
        assert isinstance(key, str)
        parent[key] = value


def _child(node: JSONValue, key: int | str) -> JSONValue:
    if isinstance(node, list) and isinstance(key, int):
        if -len(node) <= key < len(node):
            return node[key]
    elif isinstance(node, dict) and isinstance(key, str) and key in node:
        return node[key]
    raise _CannotApply


def _apply_at_root(op: JSONValue, current: JSONValue, value: JSONValue) -> JSONValue:
    if op == "replace":
        return value
    if op == "append":
        if isinstance(current, str) and isinstance(value, str):
            return current + value
        if isinstance(current, list) and isinstance(value, list):
            current.extend(value)
            return current
    raise _CannotApply


def _apply_at_parent(op: JSONValue, parent: JSONValue, key: int | str, value: JSONValue) -> None:
    if isinstance(parent, list) and isinstance(key, int):
        if op == "add":
            # list.insert clamps out-of-range indexes; the server only adds at the end.
            if not -len(parent) <= key <= len(parent):
                raise _CannotApply
            parent.insert(key, value)
            return
        if not -len(parent) <= key < len(parent):
            raise _CannotApply
        if op == "replace":
            parent[key] = value
        elif op == "append":
            parent[key] = _apply_at_root("append", parent[key], value)
        elif op == "delete":
            del parent[key]
        else:
            raise _CannotApply
    elif isinstance(parent, dict) and isinstance(key, str):
        if op in ("replace", "add"):
            parent[key] = value
        elif op == "append" and key in parent:
            parent[key] = _apply_at_root("append", parent[key], value)
        elif op == "delete" and key in parent:
            del parent[key]
        else:
            raise _CannotApply
    else:
        raise _CannotApply
