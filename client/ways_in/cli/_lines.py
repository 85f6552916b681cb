"""Lines typed at the interactive chat's prompt: with readline's line editing and
history where Python has it and the terminal is a real one, else read raw.

Either way the read runs on a daemon thread, so that Ctrl-C at the prompt ends the
command at once: asyncio.run waits for its executor's threads, and a read of the
terminal only returns when a line is typed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from types import ModuleType
from typing import Any

__all__ = ["LineReader", "kept_terminal"]


def _readline() -> ModuleType | None:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return None
    try:
        import readline  # absent on some builds (Windows, minimal Pythons): degrade to raw reads
    except ImportError:
        return None
    return readline


class LineReader:
    """``read_line(prompt)``: the next line without its newline, ``None`` at the end of
    input (Ctrl-D)."""

    def __init__(self) -> None:
        self._fd = sys.stdin.fileno()
        self._pending = b""
        self.editing = _readline() is not None

    async def read_line(self, prompt: str) -> str | None:
        read = self._edited if self.editing else self._raw
        loop = asyncio.get_running_loop()
        line: asyncio.Future[str | None] = loop.create_future()

        def deliver(result: str | None) -> None:
            if not line.done():  # not cancelled by Ctrl-C
                line.set_result(result)

        def run() -> None:
            result = read(prompt)
            with contextlib.suppress(RuntimeError):  # the loop closed: the command ended meanwhile
                loop.call_soon_threadsafe(deliver, result)

        threading.Thread(target=run, name="qwen-space-stdin", daemon=True).start()
        return await line

    def _edited(self, prompt: str) -> str | None:
        try:
            return input(prompt)  # readline's: arrows edit the line and walk the history
        except EOFError:
            return None

    def _raw(self, prompt: str) -> str | None:
        sys.stdout.write(prompt)
        sys.stdout.flush()
        data = self._read()
        return None if data is None else data.decode(sys.stdin.encoding or "utf-8", errors="replace")

    def _read(self) -> bytes | None:
        while b"\n" not in self._pending:
            try:
                chunk = os.read(self._fd, 4096)
            except OSError:  # the terminal went away
                chunk = b""
            if not chunk:
                if not self._pending:
                    return None
                # Ctrl-D after some text ends that line, as input() does.
                line, self._pending = self._pending, b""
                return line
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line


@contextlib.contextmanager
def kept_terminal() -> Iterator[None]:
    """The terminal's settings as they were, whatever way the chat ends: readline
    changes them while it reads, and Ctrl-C at the prompt ends the command mid-read."""
    try:
        import termios  # POSIX only
    except ImportError:
        yield
        return
    fd = sys.stdin.fileno()
    try:
        saved: list[Any] | None = termios.tcgetattr(fd)
    except (termios.error, OSError):
        saved = None  # not a terminal: nothing to restore
    try:
        yield
    finally:
        if saved is not None:
            with contextlib.suppress(termios.error, OSError):
                termios.tcsetattr(fd, termios.TCSADRAIN, saved)
