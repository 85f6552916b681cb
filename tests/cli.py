"""Running the ``qwen-space`` command: in this process (``run_cli``, what most tests
need), as a process of its own with pipes (``start_command``, for signals), or on a
pseudo-terminal (``Terminal``, for the interactive chat)."""

import asyncio
import contextlib
import errno
import io
import os
import pty
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from qwen_space.client.ways_in.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


# One command at a time: it has the process's standard streams and environment to itself.
_ONE_AT_A_TIME = threading.Lock()


@contextlib.contextmanager
def _environment(env: Mapping[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _run_main(args: tuple[str, ...], env: Mapping[str, str], stdin: str) -> Result:
    """``main(args)`` as the ``qwen-space`` script runs it, with the standard streams as
    strings: an exception that escapes is a traceback on stderr and exit code 1, as
    Python reports it."""
    out, err = io.StringIO(), io.StringIO()
    streams = sys.stdin, sys.stdout, sys.stderr
    with _ONE_AT_A_TIME, _environment(env):
        sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
        try:
            code = main(list(args))
        except SystemExit as stop:  # argparse: --help, --version and usage errors
            code = stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
        except BaseException:
            traceback.print_exc(file=err)
            code = 1
        finally:
            sys.stdin, sys.stdout, sys.stderr = streams
    return Result(code, out.getvalue(), err.getvalue())


async def run_cli(*args: str, env: Mapping[str, str] | None = None, stdin: str = "", timeout: float = 60) -> Result:
    """``qwen-space ARGS`` in this process, with ``env`` over the environment for its run.

    main() runs an event loop of its own (asyncio.run), so it runs on a thread while
    the test's loop serves the fakes it talks to. A command that does not end within
    ``timeout`` fails the test (its daemon thread is left to the end of the run).
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[Result] = loop.create_future()

    def deliver(result: Result | BaseException) -> None:
        if done.done():
            return
        if isinstance(result, BaseException):
            done.set_exception(result)
        else:
            done.set_result(result)

    def run() -> None:
        try:
            result: Result | BaseException = _run_main(args, env or {}, stdin)
        except BaseException as exc:  # pragma: no cover - the helper's own failure, reported in the test
            result = exc
        with contextlib.suppress(RuntimeError):  # the test's loop closed after a timeout
            loop.call_soon_threadsafe(deliver, result)

    threading.Thread(target=run, name=f"qwen-space {' '.join(args)[:40]}", daemon=True).start()
    try:
        return await asyncio.wait_for(done, timeout)
    except TimeoutError:
        raise AssertionError(f"qwen-space {' '.join(args)} did not end within {timeout:g} s") from None


def default_sigint() -> None:
    """In a child before exec: SIGINT at its default, as in a terminal, whatever this
    process inherited (a background job or CI runner may ignore it)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def command_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "qwen_space.client", *args]


async def start_command(*args: str, env: Mapping[str, str] | None = None, **options: Any) -> asyncio.subprocess.Process:
    """``qwen-space ARGS`` as a process of its own, for what only a process has: signals."""
    return await asyncio.create_subprocess_exec(
        *command_argv(*args),
        env={**os.environ, "NO_PROXY": "*", **(env or {})},
        preexec_fn=default_sigint,
        **options,
    )


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
                command_argv(*args),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env={**os.environ, "NO_PROXY": "*"},
                preexec_fn=default_sigint,
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
