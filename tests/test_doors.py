"""The ways in to an app login and a ZeroGPU quota answer: ``--auth`` on the command
line and in ``serve``, and the quota as exit code 21, ``--json``'s ``retry_after`` and
serve's 429 that the official openai SDK retries only as the server tells it.

The login Space is the fake one with Gradio's login route (test_login.py); the quota
texts are those users reported (test_quota.py), sent as the failed job a ZeroGPU Space
ends with, since a real ZeroGPU cannot run on loopback.
"""

import json
import time
from pathlib import Path

import openai
import pytest
from aiohttp import web
from qwen_space.client.errors import AuthenticationError
from qwen_space.client.ways_in.serve.lifecycle import checked_app

from .cli import run_cli
from .fake_space import EVENT_ID, FakeSpace, StreamScript, chat_body, script, sse
from .login_space import PASSWORD, TOKEN, USER, LoginSpace
from .serving import HELLO, serving
from .support import PIECES
from .test_quota import SIGN_UP, TRY_AGAIN, WITH_LINK, quota_failure

SECRET_BITS = (PASSWORD, "horse battery")


def no_password(*texts: str) -> None:
    for text in texts:
        assert not any(bit in text for bit in SECRET_BITS), text


async def test_chat_logs_in_with_user_and_password(login_space: LoginSpace) -> None:
    result = await run_cli("chat", "hi", "--url", login_space.url, "--auth", f"{USER}:{PASSWORD}", "--json")
    assert result.code == 0, result.err
    assert login_space.logins == [{"username": USER, "password": PASSWORD}]
    assert "Hello there!" in "".join(
        json.loads(line).get("text", "") for line in result.out.splitlines() if '"text"' in line
    )
    no_password(result.out, result.err)


async def test_a_user_alone_takes_the_password_from_the_environment(login_space: LoginSpace) -> None:
    result = await run_cli(
        "chat", "hi", "--url", login_space.url, "--auth", USER, env={"QWEN_SPACE_PASSWORD": PASSWORD}
    )
    assert result.code == 0, result.err
    assert result.out == "Hello there!\n"
    assert login_space.logins == [{"username": USER, "password": PASSWORD}]


async def test_a_user_alone_without_a_terminal_or_variable_is_a_usage_error(login_space: LoginSpace) -> None:
    result = await run_cli("chat", "hi", "--url", login_space.url, "--auth", USER, env={"QWEN_SPACE_PASSWORD": ""})
    assert result.code == 2
    assert "--auth ada" in result.err
    assert "$QWEN_SPACE_PASSWORD" in result.err
    assert login_space.logins == []


@pytest.mark.parametrize("value", [f":{PASSWORD}", "", f" {USER}:{PASSWORD}"])
@pytest.mark.parametrize("command", ["chat", "info", "record", "serve", "contract"])
async def test_a_malformed_auth_is_exit_2_naming_the_flag(command: str, value: str) -> None:
    args = ["contract", "check"] if command == "contract" else [command]
    result = await run_cli(*args, "--url", "http://127.0.0.1:9", f"--auth={value}")
    assert result.code == 2
    assert "argument --auth" in result.err
    no_password(result.out, result.err)


async def test_a_wrong_password_names_auth_and_not_the_password(login_space: LoginSpace) -> None:
    wrong = "horse battery guess"
    for json_flag in ((), ("--json",)):
        result = await run_cli("chat", "hi", "--url", login_space.url, "--auth", f"{USER}:{wrong}", *json_flag)
        assert result.code == 6, result.err
        said = json.loads(result.out.splitlines()[-1])["message"] if json_flag else result.err
        assert "refused the login of 'ada'" in said
        assert "--auth" in said
        assert "auth=" not in said
        no_password(result.out, result.err)
        assert wrong not in result.out + result.err


async def test_without_auth_the_401_names_both_flags(login_space: LoginSpace) -> None:
    result = await run_cli("info", login_space.url)
    assert result.code == 6
    assert "--token" in result.err
    assert "--auth USER" in result.err
    assert "hf_token=" not in result.err


async def test_record_logs_in_and_its_cassettes_keep_no_credential(login_space: LoginSpace, tmp_path: Path) -> None:
    result = await run_cli(
        "record", "--url", login_space.url, "--auth", USER, "--prompt", "hi", "--out", str(tmp_path),
        env={"QWEN_SPACE_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert result.code == 0, result.err
    assert len(login_space.logins) == 2, "the probe of /config and the recording each log in"
    cassette = tmp_path / "gradio-5.50.0" / "prompt-1.yaml"
    assert result.out.startswith("gradio-5.50.0/prompt-1.yaml: asks 'hi'")
    no_password(result.out, result.err, cassette.read_text(), (tmp_path / "manifest.json").read_text())
    assert TOKEN not in cassette.read_text()
    replayed = await run_cli("replay", str(cassette))
    assert replayed.code == 0, replayed.err
    assert replayed.out == "".join(PIECES) + "\n"


async def test_serve_with_several_spaces_refuses_a_login() -> None:
    serve = await run_cli("serve", "--space", "a=http://127.0.0.1:9", "--auth", f"{USER}:{PASSWORD}")
    assert serve.code == 2
    assert "--auth" in serve.err
    assert "--space" in serve.err
    no_password(serve.err)


async def test_serve_logs_in_and_keeps_the_password_from_callers(login_space: LoginSpace) -> None:
    async with (
        serving(login_space.url, auth=(USER, PASSWORD)) as base,
        openai.AsyncOpenAI(base_url=base, api_key="unused", max_retries=0) as client,
    ):
        reply = await client.chat.completions.create(model="127.0.0.1", messages=HELLO)
    assert reply.choices[0].message.content == "Hello there!"
    # The Space echoes the password: the caller gets [REDACTED].
    login_space.stream = script(*chat_body("hi", ["your password is ", PASSWORD]))
    async with (
        serving(login_space.url, auth=(USER, PASSWORD)) as base,
        openai.AsyncOpenAI(base_url=base, api_key="unused", max_retries=0) as client,
    ):
        echoed = await client.chat.completions.create(model="127.0.0.1", messages=HELLO)
    assert echoed.choices[0].message.content == "your password is [REDACTED]"


async def test_serve_refused_by_the_login_speaks_openai(login_space: LoginSpace) -> None:
    async with (
        serving(login_space.url, auth=(USER, "horse battery guess")) as base,
        openai.AsyncOpenAI(base_url=base, api_key="unused", max_retries=2) as client,
    ):
        with pytest.raises(openai.APIStatusError) as caught:
            await client.chat.completions.create(model="127.0.0.1", messages=HELLO)
    error = caught.value
    assert error.status_code == 502
    assert error.code == "space_refused_server"
    assert "its login to the app" in error.message
    assert "auth=" not in error.message
    assert "--" not in error.message
    assert len(login_space.logins) == 1  # x-should-retry: false, so no SDK retry
    no_password(error.message)


def quota_stream(text: str) -> StreamScript:
    return script(
        sse({"msg": "estimation", "event_id": EVENT_ID, "rank": 0, "queue_size": 1, "rank_eta": None}),
        sse({"msg": "process_starts", "event_id": EVENT_ID, "eta": None}),
        quota_failure(text),
    )


async def test_the_quota_is_exit_21_with_when_to_retry(fake_space: FakeSpace) -> None:
    fake_space.stream = quota_stream(SIGN_UP)
    result = await run_cli("chat", "hi", "--url", fake_space.url)
    assert result.code == 21
    assert "retry in 9 min 48 s" in result.err
    assert "No token was sent" in result.err
    assert "--token or $HF_TOKEN" in result.err
    assert "hf_token=" not in result.err
    fake_space.stream = quota_stream(SIGN_UP)
    as_json = await run_cli("chat", "hi", "--url", fake_space.url, "--json")
    error = json.loads(as_json.out.splitlines()[-1])
    assert (error["error"], error["exit_code"], error["retry_after"]) == ("GPUQuotaError", 21, 588.0)
    fake_space.stream = quota_stream(WITH_LINK)
    unknown = await run_cli("chat", "hi", "--url", fake_space.url, "--json")
    assert json.loads(unknown.out.splitlines()[-1])["retry_after"] is None
    assert "<a" not in unknown.out


@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("text", "retry_after", "should_retry", "joins"),
    [
        (SIGN_UP, "588", "false", 1),  # longer than the SDK waits: not retried
        (WITH_LINK, None, "false", 1),  # no wait named: a retry within seconds would be refused again
        (TRY_AGAIN, None, "false", 1),  # "0:00:00" with 0 s left names no real wait
        ("You have exceeded your GPU quota (60s requested vs. 59s left). Try again in 0:00:01", "1", "true", 3),
    ],
)
async def test_serve_answers_the_quota_with_429(
    fake_space: FakeSpace, text: str, retry_after: str | None, should_retry: str, joins: int, stream: bool
) -> None:
    fake_space.stream = quota_stream(text)
    # max_retries=2 is the SDK's default policy, which the headers steer.
    async with (
        serving(fake_space.url) as base,
        openai.AsyncOpenAI(base_url=base, api_key="unused", max_retries=2) as client,
    ):
        started = time.monotonic()
        with pytest.raises(openai.RateLimitError) as caught:
            await client.chat.completions.create(model="127.0.0.1", messages=HELLO, stream=stream)
        took = time.monotonic() - started
    error = caught.value
    assert error.status_code == 429
    assert error.response.headers.get("retry-after") == retry_after
    assert error.response.headers["x-should-retry"] == should_retry
    assert error.code == "rate_limit_exceeded"
    assert isinstance(error.body, dict)
    assert error.body["type"] == "requests"
    assert "ZeroGPU" in error.message
    assert "hf_token" not in error.message
    assert "--" not in error.message
    assert "No token" not in error.message
    assert "no Hugging Face token" in error.message
    assert len(fake_space.join_bodies) == joins
    if joins > 1:
        assert took >= 2 * int(retry_after or 0) * 0.9  # each retry waited Retry-After


@pytest.mark.parametrize(
    ("command", "says"),
    [
        (["info"], "chat:      /model_chat = fn 0, trigger 11"),
        (["contract", "check"], ": matches the Qwen2.5-Max contract (Gradio 5.50.0)"),
    ],
)
async def test_info_and_contract_check_log_in(login_space: LoginSpace, command: list[str], says: str) -> None:
    # Both read /config, which the app refuses without the login's cookie.
    result = await run_cli(*command, "--url", login_space.url, "--auth", USER, env={"QWEN_SPACE_PASSWORD": PASSWORD})
    assert result.code == 0, result.err
    assert says in result.out
    assert login_space.logins == [{"username": USER, "password": PASSWORD}]
    no_password(result.out, result.err)


async def test_serve_checks_its_endpoint_flag_through_the_login(login_space: LoginSpace) -> None:
    app = await checked_app(login_space.url, None, ["/model_chat"], [], None, auth=(USER, PASSWORD))
    assert isinstance(app, web.Application)
    assert login_space.logins == [{"username": USER, "password": PASSWORD}]
    with pytest.raises(AuthenticationError):
        await checked_app(login_space.url, None, ["/model_chat"], [], None)
