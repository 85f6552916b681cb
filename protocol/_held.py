"""Text the app shows and then replaces wholesale never reaches the reader.

Apps show a placeholder ("Generating..."), a status line or a draft in the answer's
place and then replace it. A reader that printed it would have to take it back. So
each snapshot of the reply (the text after one network read) is held back until the
next one extends it: only then was it really part of the answer. At the end the
final text is what the Space ends with. The cost is one read of latency; a
:class:`Correction` comes out only when text already released is rewritten.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TypeVar

from ._events import ChatEvent, Completed, Correction, Failed, TextDelta

__all__ = ["HeldReply"]

E = TypeVar("E")


class HeldReply:
    """Feed the events of each read (:meth:`batch`); get them with the reply held back one read."""

    __slots__ = ("_current", "_emitted", "_emitted_length", "_held", "_rewritten")

    def __init__(self) -> None:
        self._emitted: list[str] = []  # released, in pieces (joined only after a rewrite)
        self._emitted_length = 0
        self._held: list[str] = []  # the last snapshot beyond what was released
        self._current: list[str] = []  # this read's additions
        # After a Correction within this read: the whole current snapshot.
        self._rewritten: str | None = None

    def batch(self, events: Iterable[ChatEvent | E]) -> list[ChatEvent | E]:
        """The events of one read, the text held back as described above."""
        out: list[ChatEvent | E] = []
        for event in events:
            if type(event) is TextDelta:
                if self._rewritten is None:
                    self._current.append(event.text)
                else:
                    self._rewritten += event.text
            elif isinstance(event, Correction):
                self._rewritten = event.previous[: len(event.previous) - event.retract] + event.text
                self._current.clear()
            elif isinstance(event, Completed):
                self._settle(out)
                self._finish(event.text, out)
                out.append(event)
            elif isinstance(event, Failed):
                # What the Space showed last is what it answered before failing.
                self._settle(out)
                self._release(out)
                out.append(event)
            else:
                out.append(event)
        self._settle(out)
        return out

    def _settle(self, out: list[ChatEvent | E]) -> None:
        """The read's snapshot: release the held one if this one extends it."""
        if self._rewritten is None:
            if self._current:
                self._release(out)
                self._held, self._current = self._current, []
            return
        new, self._rewritten = self._rewritten, None
        emitted = self._emitted_text()
        old = emitted + "".join(self._held)
        if new.startswith(old):
            self._release(out)
            self._held = [new[len(old) :]] if len(new) > len(old) else []
            return
        self._held = []
        if not new.startswith(emitted):
            common = common_prefix_length(emitted, new)
            out.append(Correction(retract=len(emitted) - common, text="", previous=emitted))
            self._emitted, self._emitted_length = [emitted[:common]], common
        if len(new) > self._emitted_length:
            self._held = [new[self._emitted_length :]]

    def _release(self, out: list[ChatEvent | E]) -> None:
        text = "".join(self._held)
        self._held = []
        if text:
            out.append(TextDelta(text))
            self._emitted.append(text)
            self._emitted_length += len(text)

    def _finish(self, final: str, out: list[ChatEvent | E]) -> None:
        self._held = []
        emitted = self._emitted_text()
        if final.startswith(emitted):
            if len(final) > len(emitted):
                out.append(TextDelta(final[len(emitted) :]))
        else:
            common = common_prefix_length(emitted, final)
            out.append(Correction(retract=len(emitted) - common, text=final[common:], previous=emitted))
        self._emitted, self._emitted_length = [final], len(final)

    def _emitted_text(self) -> str:
        if len(self._emitted) > 1:
            self._emitted = ["".join(self._emitted)]
        return self._emitted[0] if self._emitted else ""


def common_prefix_length(a: str, b: str) -> int:
    """How many leading characters ``a`` and ``b`` share."""
    limit = min(len(a), len(b))
    low, high = 0, limit
    # Binary search on slices compares in C: O(n log n) worst case, fast in practice.
    while low < high:
        middle = (low + high + 1) // 2
        if a[:middle] == b[:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def held_text(batches: Sequence[Sequence[ChatEvent]]) -> list[ChatEvent]:
    """Every batch through one :class:`HeldReply` (for tests and recorded streams)."""
    held = HeldReply()
    return [event for batch in batches for event in held.batch(batch)]
