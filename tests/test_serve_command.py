"""The ``qwen-space serve`` command: its flags, and in a process of its own, its log and
how it stops on Ctrl-C and SIGTERM (signals are sent explicitly; the command starts with
SIGINT at its default whatever the test runner's own disposition)."""

import asyncio
import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import openai
import pytest
from aiohttp import web
from openai.types.chat import ChatCompletionChunk

from .cli import run_cli, start_command
from .fake_space import EVENT_ID, FakeSpace, chat_body, script, under_way
from .serving import HELLO, async_openai
from .support import PATIENCE, PIECES

WAIT = PATIENCE  # bounds every wait for the command; none is expected to come near it


@dataclass
class Command:
    process: asyncio.subprocess.Process
    base: str = ""
    lines: list[str] = field(default_factory=list)

    async def expect(self, text: str) -> str:
        """The next stderr line containing ``text``."""
        assert self.process.stderr is not None
        while True:
            line = (await asyncio.wait_for(self.process.stderr.readline(), WAIT)).decode()
            if not line:
                raise AssertionError(f"{text!r} never came; stderr was {self.lines}")
            self.lines.append(line)
            if text in line:
                return line

    def send(self, signum: int) -> None:
        self.process.send_signal(signum)

    async def finish(self) -> tuple[int, str]:
        """The exit code and all of stderr."""
        assert self.process.stderr is not None
        rest = await asyncio.wait_for(self.process.stderr.read(), WAIT)
        code = await asyncio.wait_for(self.process.wait(), WAIT)
        return code, "".join(self.lines) + rest.decode()


@asynccontextmanager
async def serve_command(*args: str) -> AsyncIterator[Command]:
    process = await start_command(
        *("serve", "--port", "0", *args),
        env={"QWEN_SPACE_API_KEY": ""},
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


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--port", "99999"], "--port"),
        (["--port", "-1"], "--port"),
        (["--port", "http"], "--port"),
        (["--api-key", ""], "--api-key"),
        (["--api-key", "  "], "--api-key"),
        (["--api-key", " key"], "--api-key"),
        (["--shutdown-timeout", "-1"], "--shutdown-timeout"),
    ],
)
async def test_bad_flags_are_usage_errors_naming_the_flag(args: list[str], flag: str) -> None:
    result = await run_cli("serve", *args, env={"QWEN_SPACE_API_KEY": ""})
    assert result.code == 2
    assert f"argument {flag}:" in result.err
    assert "Traceback" not in result.err


async def test_an_empty_key_variable_means_no_key_and_sigterm_stops_cleanly(fake_space: FakeSpace) -> None:
    async with serve_command("--url", fake_space.url) as command:
        command.send(signal.SIGTERM)
        code, err = await command.finish()
    assert code == 0
    assert "Traceback" not in err


async def test_one_log_line_per_request(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES))
    async with serve_command("--url", fake_space.url) as command, async_openai(command.base) as client:
        await client.chat.completions.create(model="127.0.0.1", messages=HELLO)
        line = await command.expect("POST /v1/chat/completions")
        with pytest.raises(openai.NotFoundError):
            await client.chat.completions.create(model="gpt-4o", messages=HELLO)
        refused = await command.expect("POST /v1/chat/completions")
        await client.models.list()
        listed = await command.expect("GET /v1/models")
        command.send(signal.SIGTERM)
        code, err = await command.finish()
    assert re.fullmatch(r"qwen-space: POST /v1/chat/completions 200 127\.0\.0\.1 \d+\.\d\d s\n", line)
    assert re.fullmatch(r"qwen-space: POST /v1/chat/completions 404 model_not_found \d+\.\d\d s\n", refused)
    assert re.fullmatch(r"qwen-space: GET /v1/models 200 \d+\.\d\d s\n", listed)
    assert code == 0
    assert "waiting" not in err  # nothing was in progress


async def open_stream(client: openai.AsyncOpenAI) -> tuple[str, openai.AsyncStream[ChatCompletionChunk]]:
    """A streamed chat, read up to its first delta."""
    stream = await client.chat.completions.create(model="127.0.0.1", messages=HELLO, stream=True)
    first = await anext(aiter(stream))
    return first.choices[0].delta.content or "", stream


async def rest_of(stream: openai.AsyncStream[ChatCompletionChunk]) -> list[str]:
    return [chunk.choices[0].delta.content or "" async for chunk in stream]


async def test_ctrl_c_twice_stops_at_once_and_cancels_the_job(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*under_way("hi", PIECES[:2]), end=False)  # a Space that never finishes
    async with serve_command("--url", fake_space.url) as command, async_openai(command.base) as client:
        first, stream = await open_stream(client)
        command.send(signal.SIGINT)
        waiting = await command.expect("waiting")
        command.send(signal.SIGINT)
        with pytest.raises(openai.APIError, match="stopping") as caught:
            await rest_of(stream)
        code, err = await command.finish()
    assert first == "Hel"
    assert waiting == "qwen-space: stopping: waiting up to 5 s for 1 request in progress; Ctrl-C again to stop now\n"
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "server_stopping"
    assert code == 130
    assert "cancelling 1 request on the Space" in err
    assert "POST /v1/chat/completions 200 127.0.0.1 stream server_stopping" in err
    assert fake_space.cancels == [
        {"session_hash": fake_space.join_bodies[0]["session_hash"], "fn_index": 0, "event_id": EVENT_ID}
    ]


async def test_sigterm_drains_for_the_timeout_then_cancels_the_job(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*under_way("hi", PIECES[:2]), end=False)
    async with (
        serve_command("--url", fake_space.url, "--shutdown-timeout", "0.2") as command,
        async_openai(command.base) as client,
    ):
        _, stream = await open_stream(client)
        command.send(signal.SIGTERM)
        waiting = await command.expect("waiting")
        with pytest.raises(openai.APIError, match="stopping"):
            await rest_of(stream)
        code, err = await command.finish()
    assert "waiting up to 0.2 s for 1 request in progress; SIGTERM again to stop now" in waiting
    assert code == 0
    assert len(fake_space.cancels) == 1
    assert "Traceback" not in err


async def test_the_drain_lets_an_answer_in_progress_finish(fake_space: FakeSpace) -> None:
    release = asyncio.Event()
    body = chat_body("hi", PIECES)

    async def held_until_released(response: web.StreamResponse, space: FakeSpace) -> None:
        # Two pieces in reads of their own: the first reaches the reader (the client holds one back).
        for message in body[:3]:
            await response.write(message)
        await asyncio.sleep(0.02)
        await response.write(body[3])
        await release.wait()
        await script(*body[4:])(response, space)

    fake_space.stream = held_until_released
    # A bound no machine comes near: the answer is released as soon as the drain begins.
    async with (
        serve_command("--url", fake_space.url, "--shutdown-timeout", "600") as command,
        async_openai(command.base) as client,
    ):
        first, stream = await open_stream(client)
        command.send(signal.SIGINT)
        await command.expect("waiting")
        release.set()
        rest = await rest_of(stream)
        code, err = await command.finish()
    assert first + "".join(rest) == "Hello there!"
    assert code == 130
    assert fake_space.cancels == []
    assert "cancelling" not in err
