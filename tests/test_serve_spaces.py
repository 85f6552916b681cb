"""``qwen-space serve`` with several Spaces (``spaces=``, ``--space``), OpenAI's sampling
parameters and the Space's thoughts, against loopback fakes serving real captured
configs: for what a real Gradio server will not do on demand (a Space that cannot say
its models, a secret in a thought). tests/live/test_live_serve_spaces.py has the rest."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import openai
import pytest
from aiohttp.test_utils import TestServer
from qwen_space.client import UsageError
from qwen_space.client.ways_in.serve import check_spaces, create_openai_app

from .cli import run_cli
from .fake_space import CLOSE_STREAM, FakeSpace, completed, generating, script
from .serving import HELLO, async_openai, serving

THINKING = (Path(__file__).parent / "data" / "configs" / "replicas" / "6.31.0" / "thinking_blocks.json").read_bytes()
SECRET = "hf_secretsecretsecret42"


@asynccontextmanager
async def fake(config: bytes) -> AsyncIterator[FakeSpace]:
    space = FakeSpace(config=config)
    server = TestServer(space.app(), host="127.0.0.1")
    await server.start_server()
    space.server = server
    try:
        yield space
    finally:
        await server.close()


def parts(text: str) -> list[dict[str, str]]:
    return [{"type": "text", "text": text}]  # 6.x sends a message's content as typed parts


def thought(text: str, status: str) -> dict[str, Any]:
    return {"role": "assistant", "content": parts(text), "metadata": {"title": "Thinking", "status": status}}


def thinking_reply(thinking: str, answer: str) -> list[bytes]:
    """The Blocks app's stream: a thought, then the answer below it (outputs: textbox, chatbot)."""
    user = {"role": "user", "content": parts("hi")}
    return [
        generating(["", [user, thought(thinking, "pending")]]),
        completed(["", [user, thought(thinking, "done"), {"role": "assistant", "content": parts(answer)}]]),
        CLOSE_STREAM,
    ]


async def post(base: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.post(f"{base}/chat/completions", json=body) as answer:
        return answer.status, await answer.json()


async def test_models_lists_each_alias_and_the_choices_of_those_that_can_say() -> None:
    async with (
        fake(THINKING) as think,
        fake(b'{"version": "6.31.0", "components": [], "dependencies": []}') as odd,
        serving(spaces={"think": think.url, "odd": odd.url}) as base,
        async_openai(base) as client,
    ):
        models = await client.models.list()
    # "odd" has no chat event, so no choices: listed by its alias alone, not a failed listing.
    assert [model.id for model in models.data] == ["think", "think/alpha-1", "think/beta-2", "odd"]


async def test_a_model_id_picks_the_space_and_the_dropdown_choice() -> None:
    async with fake(THINKING) as think, fake(THINKING) as other:
        think.stream = script(*thinking_reply("pondering", "the answer"))
        async with serving(spaces={"think": think.url, "other": other.url}) as base, async_openai(base) as client:
            reply = await client.chat.completions.create(model="think/beta-2", messages=HELLO, temperature=0.3)
    assert reply.choices[0].message.content == "the answer"
    assert reply.model == "think/beta-2"
    assert other.join_bodies == []
    # Inputs [textbox, chatbot, dropdown]; no temperature input, so none is set.
    assert think.join_bodies[0]["data"] == ["hi", [], "beta-2"]


async def test_thoughts_are_reasoning_content_scrubbed_of_secrets() -> None:
    async with fake(THINKING) as think:
        think.stream = script(*thinking_reply(f"the token is {SECRET}", "done"))
        async with serving(spaces={"think": think.url}, hf_token=SECRET) as base:
            status, whole = await post(base, {"model": "think", "messages": HELLO})
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    f"{base}/chat/completions", json={"model": "think", "messages": HELLO, "stream": True}
                ) as answer,
            ):
                raw = (await answer.read()).decode()
    assert status == 200
    assert whole["choices"][0]["message"] == {
        "role": "assistant",
        "content": "done",
        "reasoning_content": "the token is [REDACTED]",
    }
    chunks = [json.loads(line[6:]) for line in raw.split("\n\n") if line.startswith("data: {")]
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks]
    assert "".join(d.get("reasoning_content", "") for d in deltas) == "the token is [REDACTED]"
    assert "".join(d.get("content", "") for d in deltas) == "done"
    assert deltas[0]["role"] == "assistant"
    assert SECRET not in raw
    assert raw.endswith("data: [DONE]\n\n")


@pytest.mark.parametrize("stream", [False, True])
async def test_what_the_space_cannot_take_is_a_400_before_anything_is_sent(stream: bool) -> None:
    async with fake(THINKING) as think, serving(spaces={"think": think.url}) as base:
        wrong_type = await post(base, {"model": "think", "messages": HELLO, "temperature": "hot", "stream": stream})
        whole_tokens = await post(base, {"model": "think", "messages": HELLO, "max_tokens": 1.5, "stream": stream})
    assert wrong_type[0] == whole_tokens[0] == 400
    assert (wrong_type[1]["error"]["param"], whole_tokens[1]["error"]["param"]) == ("temperature", "max_tokens")
    assert think.join_bodies == []


async def test_a_system_message_is_folded_into_the_first_user_turn_where_the_space_has_no_system_input(
    caplog: pytest.LogCaptureFixture,
) -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "system", "content": "And kind."},
        {"role": "user", "content": "again"},
    ]
    async with fake(THINKING) as think:
        think.stream = script(*thinking_reply("pondering", "the answer"))
        caplog.set_level("INFO", "qwen_space.serve")
        async with serving(spaces={"think": think.url}) as base:
            status, body = await post(base, {"model": "think", "messages": messages})
    assert status == 200, body
    message, history, _ = think.join_bodies[0]["data"]
    assert message == "again"
    # Both system messages, joined by a newline, then a blank line, then the first user turn.
    assert history[0]["content"] == [{"type": "text", "text": "Be brief.\nAnd kind.\n\nhi"}]
    folds = [r.getMessage() for r in caplog.records if "folded into the first user turn" in r.getMessage()]
    assert folds == ["think has no system prompt input: the system message is folded into the first user turn"]


async def test_unknown_models_are_404s_listing_the_known_ones() -> None:
    async with fake(THINKING) as think, serving(spaces={"think": think.url, "more": think.url}) as base:
        choice = await post(base, {"model": "think/gamma-3", "messages": HELLO})
        slash = await post(base, {"model": "think/", "messages": HELLO})
        alias = await post(base, {"model": "nope", "messages": HELLO})
    for status, body in (choice, slash, alias):
        assert status == 404
        assert body["error"]["code"] == "model_not_found"
        assert body["error"]["param"] == "model"
    assert "think, think/alpha-1, think/beta-2, more" in choice[1]["error"]["message"]
    # "more"'s choices are not known until its /config is read: the message says where to look.
    assert "GET /v1/models" in choice[1]["error"]["message"]
    assert think.join_bodies == []


async def test_the_one_url_space_keeps_its_ids_and_ignores_parameters_it_has_no_input_for(
    fake_space: FakeSpace,
) -> None:
    from .fake_space import chat_body

    fake_space.stream = script(*chat_body("hi", ["Hel", "lo"]))
    async with serving(fake_space.url) as base, async_openai(base) as client:
        reply = await client.chat.completions.create(
            model="127.0.0.1", messages=HELLO, temperature=0.1, top_p=0.2, max_tokens=3
        )
        with pytest.raises(openai.NotFoundError):
            await client.chat.completions.create(model="127.0.0.1/x", messages=HELLO)
    assert reply.choices[0].message.content == "Hello"
    assert fake_space.join_bodies[0]["data"] == ["hi", [], "You are a helpful assistant."]


def test_aliases_are_checked() -> None:
    assert check_spaces([("a", "x/y"), ("b.2", "http://h")]) == {"a": "x/y", "b.2": "http://h"}
    for pairs, said in (
        ([("a/b", "x/y")], "cannot be a model alias"),
        ([("", "x/y")], "cannot be a model alias"),
        ([("a", "x/y"), ("a", "z/w")], "given twice"),
        ([("a", " ")], "no Space given"),
        ([], "no Space to serve"),
    ):
        with pytest.raises(UsageError, match=said):
            check_spaces(pairs)
    with pytest.raises(UsageError, match="not both"):
        create_openai_app("http://127.0.0.1:1", spaces={"a": "x/y"})


async def test_the_command_refuses_bad_spaces_with_a_usage_error() -> None:
    bad = await run_cli("serve", "--space", "a/b=x/y", "--port", "0")
    twice = await run_cli("serve", "--space", "a=x/y", "--space", "a=z/w", "--port", "0")
    both = await run_cli("serve", "--space", "a=x/y", "--url", "http://127.0.0.1:1", "--port", "0")
    shape = await run_cli("serve", "--space", "just-a-name", "--port", "0")
    assert [r.code for r in (bad, twice, both, shape)] == [2, 2, 2, 2]
    assert "cannot be a model alias" in bad.err
    assert "given twice" in twice.err
    assert "not both" in both.err
    assert "is not ALIAS=SPACE" in shape.err
    assert "Traceback" not in bad.err + twice.err + both.err + shape.err
