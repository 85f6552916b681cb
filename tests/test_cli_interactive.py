"""The interactive chat on a terminal (a pseudo-terminal), two turns with history."""

import asyncio
import os
import pty
import subprocess
import sys
import time

from .fake_space import FakeSpace, chat_body, script


def read_until(fd: int, marker: bytes, timeout: float = 20) -> bytes:
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"{marker!r} never appeared; screen so far: {seen!r}")
        try:
            seen += os.read(fd, 4096)
        except BlockingIOError:
            time.sleep(0.02)
    return seen


async def test_interactive_chat_keeps_the_history(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", ["Hel", "lo"]))
    master, slave = pty.openpty()
    os.set_blocking(master, False)
    process = subprocess.Popen(
        [sys.executable, "-m", "qwen_space.client", "chat", "--url", fake_space.url],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env={**os.environ, "NO_PROXY": "*"},
    )
    os.close(slave)
    loop = asyncio.get_running_loop()
    try:
        await loop.run_in_executor(None, read_until, master, b"you> ")
        os.write(master, b"first question\n")
        screen = await loop.run_in_executor(None, read_until, master, b"you> ")
        assert b"Hello" in screen
        os.write(master, b"second question\n")
        await loop.run_in_executor(None, read_until, master, b"you> ")
        os.write(master, b"\n")
        assert await loop.run_in_executor(None, process.wait, 20) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
    first, second = fake_space.join_bodies
    assert first["data"][:2] == ["first question", []]
    assert second["data"][:2] == ["second question", [["first question", "Hello"]]]
