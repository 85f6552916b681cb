"""How a chat's events reach the terminal: the answer on stdout as it arrives, the
rest (queue, thoughts, logs) on stderr; or one JSON object per event with ``--json``."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from ....protocol import (
    ChatEvent,
    Completed,
    Correction,
    Failed,
    FileReply,
    LogMessage,
    ProgressUpdate,
    QueuePosition,
    ReasoningDelta,
    ReplyFile,
    Started,
    TextDelta,
)
from ...hub.space import SpaceStarting
from ._terminal import one_line, printable

__all__ = ["QUEUE_PATIENCE", "Printer", "event_json"]

#: Seconds at the head of the queue before the wait is shown: position 1 of 1 is no wait.
QUEUE_PATIENCE = 2.0

_DIM, _UNDIM = "\x1b[2m", "\x1b[0m"


class Printer:
    """Text to stdout as it arrives; queue position, thoughts and logs to stderr."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        # The streams of the moment, not of import time: a caller of main() may have replaced them.
        self.out: TextIO = sys.stdout
        self.err: TextIO = sys.stderr
        self.live_status = self.err.isatty()
        self._status_shown = False
        self._mid_line = False
        # Thoughts are for a person watching: dimmed on a terminal, never in a pipe or a log.
        self._thought_title: str | None = None
        # Thoughts that come once the answer has begun wait for its end, not to break it up.
        self._answering = False
        self._late_thoughts: list[ReasoningDelta] = []
        self._queue_timer: asyncio.TimerHandle | None = None

    def status(self, text: str) -> None:
        if self.live_status:
            self.err.write(f"\r\x1b[K{text}")
            self._status_shown = True
        else:
            self.err.write(text + "\n")
        self.err.flush()

    def clear_status(self) -> None:
        if self._queue_timer is not None:
            self._queue_timer.cancel()
            self._queue_timer = None
        if self._status_shown:
            self.err.write("\r\x1b[K")
            self.err.flush()
            self._status_shown = False

    def end_line(self) -> None:
        """End the line an interrupted answer left open."""
        self.clear_status()
        self._answering = False
        self._late_thoughts.clear()
        if self._mid_line:
            self.out.write("\n")
            self.out.flush()
            self._mid_line = False

    def event(self, event: ChatEvent | SpaceStarting) -> None:
        if self.as_json:
            self.out.write(json.dumps(event_json(event), ensure_ascii=False) + "\n")
            self.out.flush()
        elif isinstance(event, SpaceStarting):
            self.status(printable(str(event)))
        elif isinstance(event, QueuePosition):
            self._queue(event)
        elif isinstance(event, Started):
            self.clear_status()
        elif isinstance(event, ReasoningDelta):
            self._thought(event)
        elif isinstance(event, (TextDelta, Correction)):
            self._text(event)
        elif isinstance(event, LogMessage):
            self.clear_status()
            self.err.write(f"[{one_line(event.level)}] {printable(event.message)}\n")
        elif isinstance(event, (Completed, Failed)):
            self._finished(event)

    def file(self, file: ReplyFile, saved: Path | None) -> None:
        """A reply file: its JSON event (with ``path`` once saved), else its saved path or
        its URL on stderr (the answer's text alone stays on stdout)."""
        if self.as_json:
            fields = event_json(FileReply(file))
            if saved is not None:
                fields["path"] = str(saved)
            self.out.write(json.dumps(fields, ensure_ascii=False) + "\n")
            self.out.flush()
            return
        self.clear_status()
        if saved is not None:
            self.err.write(f"saved {printable(file.name)}: {printable(str(saved))}\n")
        else:
            self.err.write(f"file {printable(file.name)} ({file.mime_type}): {printable(file.url)}\n")
        self.err.flush()

    def _queue(self, event: QueuePosition) -> None:
        position = "?" if event.rank is None else str(event.rank + 1)
        size = f" of {event.queue_size}" if event.queue_size is not None else ""
        eta = f", about {event.eta:.0f} s" if event.eta is not None else ""
        text = f"waiting in the queue: position {position}{size}{eta}"
        if event.rank is not None and event.rank > 0:
            self.status(text)
        elif self._queue_timer is None and not self._status_shown:
            # At the head of the queue a job starts at once: say so only if it does not.
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # pragma: no cover - events are printed inside the chat's loop
                return
            self._queue_timer = loop.call_later(QUEUE_PATIENCE, self._waited, text)

    def _waited(self, text: str) -> None:
        self._queue_timer = None
        self.status(text)

    def _text(self, event: TextDelta | Correction) -> None:
        self.clear_status()
        self._end_thought()
        self._answering = True
        if isinstance(event, Correction):
            self.out.write(f"\n[the Space rewrote the last {event.retract} characters as:]\n{event.text}")
        else:
            self.out.write(event.text)
        self.out.flush()
        self._mid_line = not event.text.endswith("\n")

    def _finished(self, event: Completed | Failed) -> None:
        self.clear_status()
        self._end_thought()
        if isinstance(event, Failed):
            self.out.write("\n" if event.error.partial_text else "")
        else:
            self.out.write("\n")
        self.out.flush()
        self._mid_line = False
        self._answering = False
        late, self._late_thoughts = self._late_thoughts, []
        for thought in late:
            self._thought(thought)
        self._end_thought()

    def _thought(self, event: ReasoningDelta) -> None:
        if not self.live_status:
            return
        if self._answering:
            self._late_thoughts.append(event)
            return
        self.clear_status()
        title = f"{one_line(event.title) or 'Thinking'}: " if event.title != self._thought_title else ""
        self._thought_title = event.title
        # The Space's text, printed, never obeyed: no escape sequence of its own reaches the terminal.
        self.err.write(f"{_DIM}{title}{printable(event.text)}{_UNDIM}")
        self.err.flush()

    def _end_thought(self) -> None:
        if self._thought_title is not None:
            self.err.write("\n")
            self.err.flush()
            self._thought_title = None


def event_json(event: ChatEvent | SpaceStarting) -> dict[str, Any]:
    if isinstance(event, Failed):
        error = event.error
        return {
            "type": "failed",
            "error": type(error).__name__,
            "message": str(error),
            "partial_text": error.partial_text,
        }
    if isinstance(event, FileReply):
        file = event.file
        return {"type": "file", "url": file.url, "mime_type": file.mime_type, "name": file.name, "size": file.size}
    if isinstance(event, ProgressUpdate):
        return {
            "type": "progress",
            "units": [{"index": u.index, "length": u.length, "desc": u.desc} for u in event.units],
        }
    names = {
        SpaceStarting: "starting",
        QueuePosition: "queue",
        Started: "started",
        TextDelta: "delta",
        ReasoningDelta: "reasoning",
        Correction: "correction",
        LogMessage: "log",
        Completed: "completed",
    }
    fields = {slot: getattr(event, slot) for slot in type(event).__slots__}
    return {"type": names[type(event)], **fields}
