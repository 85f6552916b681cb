"""``serve`` per Space (issue 26): a Space's endpoint and options chosen at start-up,
``GET /v1/models/{id}``, a Space served by URL under its own name and its dropdown's
choices, an unreachable Space as 503 ``space_unavailable``, errors in OpenAI's words,
a reply of thoughts alone, and a changed ``/config`` read again. Through the official
openai SDK against the server on loopback, with fakes serving captured configs."""

import json
import logging
import subprocess
import sys
from typing import Any

import openai
import pytest
from qwen_space.client import QwenSpaceError
from qwen_space.client.errors import ContractMismatchError, empty_reply, total_timeout
from qwen_space.client.ways_in.serve.wire import refusal_for
from qwen_space.protocol import derive_contract, parse_config

from .cli import run_cli
from .fake_space import (
    CLOSE_STREAM,
    CONFIG,
    FakeSpace,
    JoinAnswer,
    Lockstep,
    chat_body,
    completed,
    generating,
    script,
)
from .serving import HELLO, async_openai, serving
from .support import PIECES
from .test_serve_command import serve_command
from .test_serve_spaces import THINKING, fake, parts, thinking_reply, thought


def test_importing_the_client_does_not_import_the_server() -> None:
    code = (
        "import sys, qwen_space.client as c; assert 'aiohttp.web' not in sys.modules, 'imported';"
        "from qwen_space.client import create_openai_app; assert callable(create_openai_app);"
        "assert c.create_openai_app is create_openai_app"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


async def test_a_model_is_retrieved_by_id_and_an_unknown_one_is_model_not_found() -> None:
    async with fake(THINKING) as think, serving(spaces={"think": think.url}) as base, async_openai(base) as client:
        alias = await client.models.retrieve("think")
        choice = await client.models.retrieve("think/beta-2")  # read from /config on demand
        with pytest.raises(openai.NotFoundError) as missing:
            await client.models.retrieve("gpt-4o")
    assert (alias.id, alias.owned_by, choice.id) == ("think", "think", "think/beta-2")
    body: Any = missing.value.body
    assert missing.value.code == "model_not_found"
    assert body["param"] == "model"
    assert "'gpt-4o' does not exist" in body["message"]


async def test_a_space_by_url_is_its_host_plus_its_dropdown_choices() -> None:
    async with fake(THINKING) as think:
        think.stream = script(*thinking_reply("pondering", "the answer"))
        async with serving(think.url) as base, async_openai(base) as client:
            models = [model.id for model in (await client.models.list()).data]
            reply = await client.chat.completions.create(model="beta-2", messages=HELLO)
            with pytest.raises(openai.NotFoundError):
                await client.chat.completions.create(model="qwen-2.5-max", messages=HELLO)
    assert models == ["127.0.0.1", "alpha-1", "beta-2"]
    assert reply.model == "beta-2"
    assert reply.choices[0].message.content == "the answer"
    assert think.join_bodies[0]["data"][2] == "beta-2"  # the dropdown the choice names


@pytest.mark.parametrize("stream", [False, True])
async def test_an_unreachable_space_is_503_space_unavailable_which_the_sdk_may_retry(stream: bool) -> None:
    # Port 1 on loopback: nothing listens, the connection is refused.
    async with serving("http://127.0.0.1:1") as base, async_openai(base) as client:
        with pytest.raises(openai.InternalServerError) as failed:
            await client.chat.completions.create(model="127.0.0.1", messages=HELLO, stream=stream)
    assert failed.value.status_code == 503
    assert failed.value.code == "space_unavailable"
    assert failed.value.response.headers["x-should-retry"] == "true"
    assert failed.value.response.headers["Retry-After"] == "30"


def python_advice(text: str) -> list[str]:
    return [
        word for word in ("allow_empty", "hf_token", "HF_TOKEN", "--endpoint", "endpoint=", "Timeouts(") if word in text
    ]


@pytest.mark.parametrize("stream", [False, True])
async def test_an_empty_reply_is_explained_in_openai_terms(fake_space: FakeSpace, stream: bool) -> None:
    fake_space.stream = script(completed(["", [["hi", ""]], "You are a helpful assistant."]), CLOSE_STREAM)
    async with serving(fake_space.url) as base, async_openai(base) as client:
        with pytest.raises(openai.APIStatusError) as failed:
            await client.chat.completions.create(model="127.0.0.1", messages=HELLO, stream=stream)
    assert failed.value.status_code == 502
    assert failed.value.code == "space_empty_reply"
    assert "empty reply" in failed.value.message
    assert python_advice(failed.value.message) == []


async def test_a_space_refusing_the_servers_token_is_explained_in_openai_terms(
    fake_space: FakeSpace, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="qwen_space.serve")
    fake_space.joins = [JoinAnswer(status=401, body=b'{"detail": "Invalid credentials"}')]
    async with serving(fake_space.url) as base, async_openai(base) as client:
        with pytest.raises(openai.APIStatusError) as failed:
            await client.chat.completions.create(model="127.0.0.1", messages=HELLO)
    assert failed.value.code == "space_refused_server"
    assert "Invalid credentials" in failed.value.message
    assert "token this server was started with" in failed.value.message
    assert python_advice(failed.value.message) == []
    assert "HF_TOKEN" in caplog.text  # the operator's log has the whole error, advice included


def thoughts_only(thinking: str) -> list[bytes]:
    user = {"role": "user", "content": parts("hi")}
    return [
        generating(["", [user, thought(thinking, "pending")]]),
        completed(["", [user, thought(thinking, "done")]]),
        CLOSE_STREAM,
    ]


async def test_a_reply_of_thoughts_alone_is_reasoning_content_with_empty_content() -> None:
    async with fake(THINKING) as think, serving(spaces={"think": think.url}) as base, async_openai(base) as client:
        think.stream = script(*thoughts_only("just pondering"))
        whole = await client.chat.completions.create(model="think", messages=HELLO)
        think.stream = script(*thoughts_only("just pondering"))
        chunks = [
            chunk async for chunk in await client.chat.completions.create(model="think", messages=HELLO, stream=True)
        ]
    message = whole.choices[0].message
    assert message.content == ""
    assert (message.model_extra or {})["reasoning_content"] == "just pondering"
    deltas = [chunk.choices[0].delta for chunk in chunks]
    assert "".join((d.model_extra or {}).get("reasoning_content") or "" for d in deltas) == "just pondering"
    assert [d.content for d in deltas if d.content is not None] == [""]
    assert chunks[-1].choices[0].finish_reason == "stop"


def moved(config: bytes, fn_index: int) -> bytes:
    """The same app restarted with its chat event at another ``fn_index``."""
    loaded = json.loads(config)
    for dependency in loaded["dependencies"]:
        if dependency.get("api_name") == "model_chat":
            dependency["id"] = fn_index
    return json.dumps(loaded).encode()


async def answer_text(client: openai.AsyncOpenAI, stream: bool) -> str:
    if not stream:
        reply = await client.chat.completions.create(model="127.0.0.1", messages=HELLO)
        return reply.choices[0].message.content or ""
    chunks = await client.chat.completions.create(model="127.0.0.1", messages=HELLO, stream=True)
    return "".join([chunk.choices[0].delta.content or "" async for chunk in chunks])


STALE = JoinAnswer(status=500, body=b"Internal Server Error", content_type="text/plain")


@pytest.mark.parametrize("stream", [False, True])
async def test_a_changed_config_is_read_again_once(fake_space: FakeSpace, stream: bool) -> None:
    fake_space.stream = script(*chat_body("hi", PIECES))
    async with serving(fake_space.url) as base, async_openai(base) as client:
        await client.chat.completions.create(model="127.0.0.1", messages=HELLO)
        # The Space restarts with its chat elsewhere: the old fn_index crashes its join,
        # as gradio's fns[fn_index] does.
        fake_space.config = moved(CONFIG, 7)
        fake_space.joins = [STALE]
        fake_space.stream = script(*chat_body("hi", PIECES))
        text = await answer_text(client, stream)
        # Refused again moments later: the error, without another read (a Space that
        # refuses for its own reasons must not make every request read /config).
        fake_space.joins = [STALE, STALE, STALE]
        with pytest.raises(openai.APIStatusError) as failed:
            await client.chat.completions.create(model="127.0.0.1", messages=HELLO)
    assert text == "".join(PIECES)
    assert [body["fn_index"] for body in fake_space.join_bodies] == [0, 0, 7, 7]
    assert failed.value.status_code == 502
    assert python_advice(failed.value.message) == []


async def test_a_chat_under_way_finishes_on_the_old_reading(fake_space: FakeSpace) -> None:
    lock = Lockstep("hi", PIECES)
    fake_space.stream = lock.script()
    async with serving(fake_space.url) as base, async_openai(base) as client:
        under_way = await client.chat.completions.create(model="127.0.0.1", messages=HELLO, stream=True)
        first = await anext(aiter(under_way))
        fake_space.config = moved(CONFIG, 7)
        fake_space.joins = [STALE]
        fake_space.stream = script(*chat_body("hi", PIECES))
        fresh = await answer_text(client, stream=False)  # read /config again meanwhile
        lock.release()
        rest = [chunk.choices[0].delta.content or "" async for chunk in under_way]
    assert fresh == "".join(PIECES)
    assert (first.choices[0].delta.content or "") + "".join(rest) == "".join(PIECES)
    assert fake_space.cancels == []  # the old client was not closed under it
    assert [body["fn_index"] for body in fake_space.join_bodies] == [0, 0, 7]


async def test_endpoint_and_options_per_space_reach_the_space() -> None:
    async with fake(THINKING) as think, fake(CONFIG) as qwen:
        think.stream = script(*thinking_reply("pondering", "the answer"))
        qwen.stream = script(*chat_body("hi", PIECES))
        flags = ("--space", f"think={think.url}", "--space", f"qwen={qwen.url}")
        settings = ("--option", "think:model=beta-2", "--endpoint", "qwen=/model_chat_1")
        async with serve_command(*flags, *settings) as command, async_openai(command.base) as client:
            await client.chat.completions.create(model="think", messages=HELLO)
            await client.chat.completions.create(model="qwen", messages=HELLO)
    assert think.join_bodies[0]["data"][2] == "beta-2"  # the label matched without regard to case
    assert qwen.join_bodies[0]["fn_index"] == 1


async def test_url_endpoint_and_option_reach_the_space() -> None:
    async with fake(THINKING) as think:
        think.stream = script(*thinking_reply("pondering", "the answer"))
        flags = ("--url", think.url, "--option", "Model=beta-2", "--endpoint", "/generate")
        async with serve_command(*flags) as command, async_openai(command.base) as client:
            await client.chat.completions.create(model="127.0.0.1", messages=HELLO)
    assert think.join_bodies[0]["data"][2] == "beta-2"


async def test_a_bad_endpoint_or_option_stops_the_start_naming_the_flag() -> None:
    async with fake(THINKING) as think:
        space = ("--space", f"think={think.url}", "--port", "0")
        results = {
            "--endpoint think=/nope": await run_cli("serve", *space, "--endpoint", "think=/nope"),
            "--option think:Nope=1": await run_cli("serve", *space, "--option", "think:Nope=1"),
            "--option think:Model=gamma": await run_cli("serve", *space, "--option", "think:Model=gamma"),
            "--option other:Model=x": await run_cli("serve", *space, "--option", "other:Model=x"),
            "--option Model=x": await run_cli("serve", *space, "--option", "Model=x"),
            "--option Model=gamma": await run_cli(
                "serve", "--url", think.url, "--port", "0", "--option", "Model=gamma"
            ),
        }
    for flag, result in results.items():
        assert result.code == 2, (flag, result)
        assert "Traceback" not in result.err
        assert flag.split()[0] in result.err, (flag, result.err)
        assert flag.split()[1].split("=")[0] in result.err, (flag, result.err)
    assert "'alpha-1', 'beta-2'" in results["--option think:Model=gamma"].err
    assert "its options: 'Model'" in results["--option think:Nope=1"].err


def no_chat_event() -> ContractMismatchError:
    """What deriving a chat contract raises for a Space without a chat event."""
    config = parse_config(b'{"version": "6.31.0", "protocol": "sse_v3", "components": [], "dependencies": []}')
    with pytest.raises(ContractMismatchError) as raised:
        derive_contract(config)
    return raised.value


@pytest.mark.parametrize(
    "error",
    [empty_reply(), total_timeout(300, "reading the reply"), no_chat_event()],
    ids=lambda error: type(error).__name__,
)
def test_no_advice_for_python_reaches_an_openai_client(error: QwenSpaceError) -> None:
    assert python_advice(str(error)) != []  # the client's own message has some
    refusal = refusal_for(error)
    assert python_advice(refusal.message) == []
    assert str(error).split(" (")[0].split(";")[0].split(":")[0] in refusal.message  # what happened stays
