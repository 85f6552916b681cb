"""Running the ``qwen-space`` command in a subprocess, as a user would: with pipes
(``run_cli``) or on a pseudo-terminal (``Terminal``)."""

import asyncio
import errno
import os
import pty
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Self


@dataclass
class Result:
    code: int
    out: str
    err: str


async def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "qwen_space.client",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NO_PROXY": "*", **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


def _default_sigint() -> None:
    # Whatever this process inherited (a background job or CI runner may ignore
    # SIGINT), the command starts with SIGINT at its default, as in a terminal.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Terminal:
    """``qwen-space ARGS`` with stdin, stdout and stderr on a pseudo-terminal.

    The waits block: call them through ``asyncio.to_thread`` when a server runs in the
    test's event loop. Every wait is bounded by ``timeout`` and fails saying what the
    screen showed.
    """

    def __init__(self, *args: str, timeout: float = 30) -> None:
        self.timeout = timeout
        self._pending = b""
        self.master, slave = pty.openpty()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "qwen_space.client", *args],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env={**os.environ, "NO_PROXY": "*"},
                preexec_fn=_default_sigint,
            )
        finally:
            os.close(slave)
        os.set_blocking(self.master, False)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        os.close(self.master)

    def type(self, text: bytes) -> None:
        os.write(self.master, text)

    def interrupt(self) -> None:
        """SIGINT, as Ctrl-C on a terminal sends it."""
        self.process.send_signal(signal.SIGINT)

    def expect(self, marker: bytes) -> bytes:
        """The screen up to and including the next ``marker``."""
        deadline = time.monotonic() + self.timeout
        while marker not in self._pending:
            if not self._read(deadline):
                raise AssertionError(f"{marker!r} never appeared; the screen showed {self._pending!r}")
        end = self._pending.index(marker) + len(marker)
        seen, self._pending = self._pending[:end], self._pending[end:]
        return seen

    def finish(self) -> tuple[int, bytes]:
        """The exit code, and what the command showed after the last ``expect``."""
        deadline = time.monotonic() + self.timeout
        while self._read(deadline):
            pass
        rest, self._pending = self._pending, b""
        try:
            return self.process.wait(max(0.0, deadline - time.monotonic())), rest
        except subprocess.TimeoutExpired:
            raise AssertionError(f"the command did not exit; the screen showed {rest!r}") from None

    def _read(self, deadline: float) -> bool:
        """Append what the command wrote; False once it closed the terminal or time is up."""
        while time.monotonic() < deadline:
            try:
                chunk = os.read(self.master, 4096)
            except BlockingIOError:
                time.sleep(0.02)
                continue
            except OSError as exc:  # Linux: EIO once every copy of the other end is closed
                if exc.errno == errno.EIO:
                    return False
                raise
            if not chunk:
                return False
            self._pending += chunk
            return True
        return False
