"""``--auth`` on ``qwen-space chat`` and ``serve`` against a real Gradio app launched
with ``auth=`` (the one tests/live/test_live_auth.py uses, started once per run), with the official
openai SDK for ``serve``. The password never shows in anything the commands print."""

import asyncio
import os
import pty
import re
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from ..cli import command_argv, run_cli, start_command
from ..test_serve_command import Command
from .conftest import PASSWORD, USER, App

QUESTION: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello"}]


async def test_chat_with_user_and_password(locked: App) -> None:
    result = await run_cli("chat", "Hello", "--url", locked.replica.url, "--auth", f"{USER}:{PASSWORD}")
    assert result.code == 0, result.err
    assert result.out == locked.expected("Hello") + "\n"
    assert PASSWORD not in result.out + result.err


async def test_chat_with_the_password_from_the_environment(locked: App) -> None:
    env = {"QWEN_SPACE_PASSWORD": PASSWORD}
    result = await run_cli("chat", "Hello", "--url", locked.replica.url, "--auth", USER, "--json", env=env)
    assert result.code == 0, result.err
    assert '"type": "completed"' in result.out
    assert PASSWORD not in result.out + result.err


async def test_the_refusals_name_the_flags(locked: App) -> None:
    wrong = await run_cli("chat", "Hello", "--url", locked.replica.url, "--auth", f"{USER}:wrong-password-1")
    assert wrong.code == 6
    assert "refused the login of 'ada' (HTTP 400" in wrong.err
    assert "--auth" in wrong.err
    assert "wrong-password-1" not in wrong.err
    without = await run_cli("info", locked.replica.url)
    assert without.code == 6
    assert "HTTP 401" in without.err
    assert "pass --token" in without.err
    assert "pass --auth USER" in without.err


def test_chat_asks_for_the_password_on_a_terminal(locked: App) -> None:
    """``--auth USER`` on a terminal: getpass's prompt, the password typed and not echoed."""
    master, slave = pty.openpty()
    env = {key: value for key, value in os.environ.items() if key != "QWEN_SPACE_PASSWORD"}
    argv = command_argv("chat", "Hello", "--url", locked.replica.url, "--auth", USER)
    # A session of its own: getpass reads the pseudo-terminal, never the runner's /dev/tty.
    process = subprocess.Popen(
        argv, stdin=slave, stdout=slave, stderr=slave, env={**env, "NO_PROXY": "*"}, start_new_session=True
    )
    os.close(slave)
    screen = b""
    try:
        deadline = time.monotonic() + 60
        while b"password of ada: " not in screen and time.monotonic() < deadline:
            screen += os.read(master, 4096)
        assert b"password of ada: " in screen, screen
        os.write(master, PASSWORD.encode() + b"\n")
        while process.poll() is None and time.monotonic() < deadline:
            try:
                screen += os.read(master, 4096)
            except OSError:
                break
        code = process.wait(max(0.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
        os.close(master)
    assert code == 0, screen
    assert locked.expected("Hello").encode() in screen.replace(b"\r\n", b"\n")
    assert PASSWORD.encode() not in screen


@asynccontextmanager
async def serve_logged_in(url: str) -> AsyncIterator[Command]:
    process = await start_command(
        *("serve", "--port", "0", "--url", url, "--auth", USER),
        env={"QWEN_SPACE_API_KEY": "", "QWEN_SPACE_PASSWORD": PASSWORD},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    command = Command(process)
    try:
        found = re.search(r"(http://127\.0\.0\.1:\d+/v1)", await command.expect("serving "))
        assert found is not None
        command.base = found.group(1)
        yield command
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_serve_logged_in_with_the_openai_sdk(locked: App) -> None:
    async with (
        serve_logged_in(locked.replica.url) as command,
        openai.AsyncOpenAI(base_url=command.base, api_key="unused") as client,
    ):
        whole = await client.chat.completions.create(model="127.0.0.1", messages=QUESTION)
        stream = await client.chat.completions.create(model="127.0.0.1", messages=QUESTION, stream=True)
        streamed = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
        command.send(15)  # SIGTERM
        code, log = await command.finish()
    assert whole.choices[0].message.content == streamed == locked.expected("Hello")
    assert code == 0
    assert "POST /v1/chat/completions 200" in log
    assert PASSWORD not in log


async def test_serve_with_a_wrong_password_answers_in_openai_words(locked: App) -> None:
    # Without --endpoint or --option nothing is read at start-up: the login happens at the first chat.
    process = await start_command(
        *("serve", "--port", "0", "--url", locked.replica.url, "--auth", f"{USER}:wrong-password-1"),
        env={"QWEN_SPACE_API_KEY": ""},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    command = Command(process)
    try:
        found = re.search(r"(http://127\.0\.0\.1:\d+/v1)", await command.expect("serving "))
        assert found is not None
        async with openai.AsyncOpenAI(base_url=found.group(1), api_key="unused") as client:
            with pytest.raises(openai.APIStatusError) as caught:
                await client.chat.completions.create(model="127.0.0.1", messages=QUESTION)
        command.send(15)
        _, log = await command.finish()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    error = caught.value
    assert error.status_code == 502
    assert error.code == "space_refused_server"
    assert "its login to the app" in error.message
    assert "auth=" not in error.message
    assert "--" not in error.message
    assert "wrong-password-1" not in error.message + log
    assert log.count("POST /v1/chat/completions 502") == 1  # x-should-retry: false: the SDK did not retry
