"""``qwen-space serve`` at its edges: secrets a Space echoes, hostile bodies and headers,
text JSON cannot carry as UTF-8, the parts of OpenAI's API it cannot honour, and what
the OpenAI SDK retries."""

import asyncio
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import pytest
from aiohttp import web
from openai.types.chat import ChatCompletionMessageParam
from qwen_space.client import RetryPolicy, SpaceClient, TextDelta
from qwen_space.client.ways_in.serve.wire import MAX_BODY

from .fake_space import CLOSE_STREAM, EVENT_ID, FakeSpace, JoinAnswer, chat_body, script, sse
from .serving import HELLO, async_openai, create, serving

TOKEN = "hf_SpaceTokenNeverRelayed0123456789ab"
KEY = "sk-the-callers-own-key-0123456789"


def app_error(message: str) -> bytes:
    return sse(
        {
            "msg": "process_completed",
            "event_id": EVENT_ID,
            "output": {"error": message},
            "success": False,
            "title": None,
        }
    )


def echo_header(make: Any) -> Any:
    """A stream script built from the ``x-hf-authorization`` value the Space was sent."""

    async def run(response: web.StreamResponse, space: FakeSpace) -> None:
        headers = {name.lower(): value for name, value in space.join_headers[-1].items()}
        await script(*make(headers["x-hf-authorization"]))(response, space)

    return run


async def raw_sse(base: str, body: dict[str, Any]) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.post(f"{base}/chat/completions", json=body) as answer:
        return answer.status, await answer.read()


async def send(
    base: str, body: bytes | dict[str, Any] | None = None, *, method: str = "POST", path: str = "/chat/completions"
) -> tuple[int, Any, Any]:
    """One request to the server: its status, headers and JSON body."""
    # A stream: aiohttp warns about large bodies given as bytes.
    data = io.BytesIO(json.dumps(body).encode() if isinstance(body, dict) else body or b"")
    async with aiohttp.ClientSession() as session, session.request(method, base + path, data=data) as answer:
        return answer.status, answer.headers, await answer.json()


# Item 4: the token the client holds never reaches a caller, whatever the Space sends.


@pytest.mark.parametrize("stream", [False, True])
async def test_an_app_error_echoing_the_token_is_scrubbed(fake_space: FakeSpace, stream: bool) -> None:
    fake_space.stream = echo_header(lambda value: [app_error(f"bad header x-hf-authorization: {value}"), CLOSE_STREAM])
    async with serving(fake_space.url, hf_token=TOKEN) as base:
        with pytest.raises(openai.APIStatusError) as caught:
            await create(base, model="127.0.0.1", messages=HELLO, stream=stream)
    assert fake_space.join_headers[0]["x-hf-authorization"] == f"Bearer {TOKEN}"  # the Space did get it
    assert caught.value.status_code == 502
    assert "bad header x-hf-authorization: Bearer [REDACTED]" in caught.value.message
    assert TOKEN not in caught.value.response.text


async def test_a_streamed_error_event_echoing_the_token_is_scrubbed(fake_space: FakeSpace) -> None:
    fake_space.stream = echo_header(lambda value: [*chat_body("hi", ["Hel", "lo"])[:4], app_error(value), CLOSE_STREAM])
    async with serving(fake_space.url, hf_token=TOKEN) as base:
        status, raw = await raw_sse(base, {"model": "127.0.0.1", "messages": HELLO, "stream": True})
    assert status == 200
    assert b"event: error" in raw
    assert b"Bearer [REDACTED]" in raw
    assert TOKEN[4:].encode() not in raw


@pytest.mark.parametrize("stream", [False, True])
async def test_a_reply_echoing_secrets_is_scrubbed_even_split_across_deltas(
    fake_space: FakeSpace, stream: bool
) -> None:
    def reply(value: str) -> list[bytes]:
        # The token arrives in three pieces, the caller's key in two.
        pieces = ["token ", value[:12], value[12:30], value[30:], " key ", KEY[:9], KEY[9:], " end"]
        return chat_body("hi", pieces)

    fake_space.stream = echo_header(reply)
    async with serving(fake_space.url, hf_token=TOKEN) as base, async_openai(base, api_key=KEY) as client:
        if stream:
            chunks = await client.chat.completions.create(model="127.0.0.1", messages=HELLO, stream=True)
            text = "".join([c.choices[0].delta.content or "" async for c in chunks])
        else:
            whole = await client.chat.completions.create(model="127.0.0.1", messages=HELLO)
            text = whole.choices[0].message.content or ""
    assert text == "token Bearer [REDACTED] key [REDACTED] end"


async def test_short_placeholder_keys_are_not_treated_as_secrets(fake_space: FakeSpace) -> None:
    # "unused" is what examples pass as the key: replacing it would mangle ordinary replies.
    fake_space.stream = script(*chat_body("hi", ["an unused ", "variable"]))
    async with serving(fake_space.url) as base:
        whole = await create(base, api_key="unused", model="127.0.0.1", messages=HELLO)
    assert whole.choices[0].message.content == "an unused variable"


# Item 6: a body nested beyond Python's recursion limit.


@pytest.mark.parametrize("body", [b"[" * 5000 + b"]" * 5000, b'{"model":"127.0.0.1","messages":' + b"[" * 100_000])
async def test_deeply_nested_json_is_a_400(fake_space: FakeSpace, body: bytes) -> None:
    async with serving(fake_space.url) as base:
        status, _, error = await send(base, body)
    assert status == 400
    assert set(error["error"]) == {"message", "type", "param", "code"}
    assert error["error"]["code"] == "invalid_json"
    assert "nested" in error["error"]["message"]
    assert fake_space.join_bodies == []


# Item 7: an Authorization header that is not UTF-8.


async def raw_request(base: str, head: bytes) -> tuple[int, bytes]:
    """``head`` (request line and headers, no blank line) sent as raw bytes; the status and body."""
    host, port = base.removeprefix("http://").split("/")[0].split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        answer = await reader.read()
    finally:
        writer.close()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize("value", [b"Bearer \xff\xfe", b"Bearer \xed\xa0\x80", b"\xff\xfe", b"Bearer k\xc3\xa9y"])
async def test_a_key_that_is_not_utf8_is_a_401(fake_space: FakeSpace, value: bytes) -> None:
    async with serving(fake_space.url, api_key="s3cret") as base:
        status, body = await raw_request(base, b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: " + value)
    assert status == 401
    assert json.loads(body)["error"]["code"] == "invalid_api_key"


async def test_a_key_given_as_bytes_that_are_not_utf8_still_matches(fake_space: FakeSpace) -> None:
    # A key from a non-UTF-8 command line arrives as surrogate escapes, as aiohttp decodes header bytes.
    async with serving(fake_space.url, api_key="k\udcff\udcfey-0") as base:
        status, _ = await raw_request(base, b"GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\xff\xfey-0")
    assert status == 200


# Item 8: text with a lone surrogate (valid JSON: an escape) never cuts the stream.

SURROGATE_MARK = "SURROGATE-HERE"


def with_lone_surrogate(messages: list[bytes]) -> list[bytes]:
    return [m.replace(SURROGATE_MARK.encode(), b"\\ud800") for m in messages]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_reply_with_a_lone_surrogate_arrives_whole(fake_space: FakeSpace, stream: bool) -> None:
    fake_space.stream = script(*with_lone_surrogate(chat_body("hi", ["Hel", SURROGATE_MARK, "lo"])))
    async with serving(fake_space.url) as base:
        if not stream:
            whole = await create(base, model="127.0.0.1", messages=HELLO)
            assert whole.choices[0].message.content == "Hel\ud800lo"
            return
        status, raw = await raw_sse(base, {"model": "127.0.0.1", "messages": HELLO, "stream": True})
    assert status == 200
    events = raw.decode().split("\n\n")
    assert events[-2:] == ["data: [DONE]", ""]
    deltas = [json.loads(e.removeprefix("data: "))["choices"][0]["delta"].get("content", "") for e in events[:-2]]
    assert "".join(deltas) == "Hel\ud800lo"


async def test_an_app_error_with_a_lone_surrogate_is_an_error_event(fake_space: FakeSpace) -> None:
    fake_space.stream = script(
        *with_lone_surrogate([*chat_body("hi", ["Hel", "lo"])[:4], app_error(f"bad {SURROGATE_MARK}"), CLOSE_STREAM])
    )
    async with serving(fake_space.url) as base:
        status, raw = await raw_sse(base, {"model": "127.0.0.1", "messages": HELLO, "stream": True})
    assert status == 200
    error = raw.decode().split("\n\n")[-2]
    assert error.startswith("event: error\ndata: ")
    message = json.loads(error.partition("data: ")[2])["error"]["message"]
    assert "error: bad \ud800 (5 characters" in message


# Item 9: OpenAI's error shape everywhere; what OpenAI accepts is accepted, what cannot be
# honoured is refused.


async def test_a_body_over_the_limit_is_an_openai_shaped_413(fake_space: FakeSpace) -> None:
    huge = b'{"model":"127.0.0.1","messages":[{"role":"user","content":"' + b"x" * (MAX_BODY + 1) + b'"}]}'
    async with serving(fake_space.url) as base:
        status, _, error = await send(base, huge)
    assert status == 413
    assert set(error["error"]) == {"message", "type", "param", "code"}
    assert error["error"]["code"] == "request_too_large"
    assert fake_space.join_bodies == []


async def test_a_conversation_at_the_prompt_limit_is_not_too_large(fake_space: FakeSpace) -> None:
    # CJK text ASCII-escaped, as json.dumps does by default: 2 MB on the wire for 1 MB of UTF-8
    # (kept under 1 MiB, past which aiohttp warns about the client's join body).
    fake_space.stream = script(*chat_body("q", ["ok"]))
    body = {"model": "127.0.0.1", "messages": [{"role": "user", "content": "汉" * 340_000}]}
    async with serving(fake_space.url) as base:
        status, _, reply = await send(base, body)
    assert status == 200, reply
    assert len(json.dumps(body)) > 2_000_000


@pytest.mark.parametrize(
    ("method", "path", "status"), [("GET", "/v1/nothing", 404), ("GET", "/v1/chat/completions", 405)]
)
async def test_unknown_routes_and_methods_are_openai_shaped(
    fake_space: FakeSpace, method: str, path: str, status: int
) -> None:
    async with serving(fake_space.url) as base:
        got, _, error = await send(base.removesuffix("/v1"), method=method, path=path)
    assert got == status
    assert set(error["error"]) == {"message", "type", "param", "code"}
    assert "POST /v1/chat/completions" in error["error"]["message"]


async def test_stream_null_means_not_streamed(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", ["ok"]))
    async with serving(fake_space.url) as base:
        status, _, reply = await send(base, {"model": "127.0.0.1", "messages": HELLO, "stream": None})
    assert status == 200
    assert reply["choices"][0]["message"]["content"] == "ok"


async def test_a_developer_message_is_the_system_prompt(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("q", ["ok"]))
    messages: list[ChatCompletionMessageParam] = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": "q"},
    ]
    async with serving(fake_space.url) as base:
        await create(base, model="127.0.0.1", messages=messages)
    assert fake_space.join_bodies[0]["data"] == ["q", [], "Be brief."]


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"n": 2}, "n"),
        ({"n": "1"}, "n"),
        ({"tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "required"}, "tool_choice"),
        (
            {
                "tools": [{"type": "function", "function": {"name": "f"}}],
                "tool_choice": {"type": "function", "function": {"name": "f"}},
            },
            "tool_choice",
        ),
        ({"functions": [{"name": "f"}], "function_call": {"name": "f"}}, "function_call"),
    ],
)
async def test_what_cannot_be_honoured_is_refused(fake_space: FakeSpace, extra: dict[str, Any], param: str) -> None:
    async with serving(fake_space.url) as base:
        status, _, error = await send(base, {"model": "127.0.0.1", "messages": HELLO, **extra})
    assert status == 400
    assert error["error"]["param"] == param
    assert error["error"]["type"] == "invalid_request_error"
    assert fake_space.join_bodies == []


async def test_what_can_be_ignored_is_answered(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", ["ok"]))
    tool: Any = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    async with serving(fake_space.url) as base, async_openai(base) as client:
        reply = await client.chat.completions.create(
            model="127.0.0.1", messages=HELLO, n=1, tools=[tool], tool_choice="auto", temperature=0.2
        )
    assert reply.choices[0].message.content == "ok"
    # Not counted: the Space reports no token counts and this server has no Qwen tokenizer.
    assert reply.usage is None


# Item 10: an app error is not retried by the OpenAI SDK (its default: two retries).


@pytest.mark.parametrize("stream", [False, True])
async def test_the_sdk_does_not_rerun_a_failed_job(fake_space: FakeSpace, stream: bool) -> None:
    fake_space.stream = script(app_error("DashScope said no"), CLOSE_STREAM)
    async with serving(fake_space.url) as base, openai.AsyncOpenAI(base_url=base, api_key="unused") as client:
        assert client.max_retries == 2
        with pytest.raises(openai.APIStatusError, match="DashScope said no") as caught:
            await client.chat.completions.create(model="127.0.0.1", messages=HELLO, stream=stream)
    assert caught.value.status_code == 502
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert len(fake_space.join_bodies) == 1


async def test_a_full_queue_is_left_to_the_sdks_retries(fake_space: FakeSpace) -> None:
    # No job ran: the SDK may ask again after the Retry-After, so no x-should-retry overrides it.
    fake_space.joins = [JoinAnswer(status=503, body=b'{"detail":"Queue is full. Max size is 2 and size is 2."}')]
    async with serving(fake_space.url, retry=RetryPolicy(attempts=1)) as base:
        status, headers, _ = await send(base, {"model": "127.0.0.1", "messages": HELLO})
    assert status == 503
    assert "x-should-retry" not in headers
    assert headers["Retry-After"] == "5"


# A bug of the server itself still ends a stream properly, and answers JSON.


@pytest.mark.parametrize("stream", [False, True])
async def test_a_bug_of_the_server_is_an_internal_error_not_a_cut_stream(
    fake_space: FakeSpace, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, stream: bool
) -> None:
    async def broken_events(self: SpaceClient, messages: object, **settings: object) -> AsyncIterator[TextDelta]:
        yield TextDelta("Hel")
        raise RuntimeError("boom-42")

    async def broken_complete(self: SpaceClient, messages: object, **settings: object) -> None:
        raise RuntimeError("boom-42")

    monkeypatch.setattr(SpaceClient, "events", broken_events)
    monkeypatch.setattr(SpaceClient, "complete", broken_complete)
    async with serving(fake_space.url) as base:
        if stream:
            status, raw = await raw_sse(base, {"model": "127.0.0.1", "messages": HELLO, "stream": True})
            body = json.loads(raw.decode().split("\n\n")[-2].removeprefix("event: error\ndata: "))
        else:
            status, _, body = await send(base, {"model": "127.0.0.1", "messages": HELLO})
    assert status == (200 if stream else 500)
    assert body["error"]["code"] == "internal_error"
    assert "boom-42" not in body["error"]["message"]  # Python's words stay in the server's log
    assert "RuntimeError: boom-42" in caplog.text


@pytest.mark.parametrize("messages", ["hi", {"role": "user", "content": "hi"}, None, 3])
async def test_messages_that_are_no_array_are_a_400(fake_space: FakeSpace, messages: object) -> None:
    # The library takes a plain string as one user message; OpenAI's API (and serve) does not.
    async with serving(fake_space.url) as base:
        status, _, error = await send(base, {"model": "127.0.0.1", "messages": messages})
    assert status == 400
    assert error["error"]["code"] == "invalid_messages"
    assert fake_space.join_bodies == []
