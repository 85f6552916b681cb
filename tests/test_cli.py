import json
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from qwen_space.client.errors import InvalidMessagesError, ReplyRewrittenError, SpaceConnectionError, SpaceTimeoutError
from qwen_space.client.ways_in.cli import EXIT_CODES, exit_code
from qwen_space.protocol.errors import (
    AppError,
    ContractMismatchError,
    LocalProtocolError,
    QueueFullError,
    RemoteProtocolError,
    ServerError,
    SessionNotFoundError,
    StreamInterruptedError,
)

from .cli import run_cli
from .fake_space import CONFIG, FakeSpace, chat_body, script
from .support import PATIENCE

BUNDLED_REPLY = (
    "Hello! I am Qwen, a large language model created by Alibaba Cloud. Strictly speaking, I am a stand-in: "
    "this reply comes from a copy of the Qwen2.5-Max Space with a scripted model, so that qwen-space can be "
    "tried without the network. I still stream my answer word by word, just like the real Space. "
    "What would you like to talk about? \n"
)


@pytest.mark.installed
async def test_replay_of_the_bundled_cassette() -> None:
    result = await run_cli("replay")
    assert result.code == 0, result.err
    assert result.out == BUNDLED_REPLY
    assert "recorded from" in result.err


@pytest.mark.installed
def test_the_installed_script_runs() -> None:
    # The one test of the command as a user starts it: the script pip installed, in a
    # process of its own (the rest call main() in this one).
    script = Path(sys.executable).parent / "qwen-space"
    done = subprocess.run(
        [script, "replay"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=PATIENCE, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == BUNDLED_REPLY


@pytest.mark.installed
async def test_version() -> None:
    result = await run_cli("--version")
    assert result.code == 0, result.err
    assert result.out.strip() == f"qwen-space {version('qwen-space')}"


@pytest.mark.installed
async def test_replay_json() -> None:
    result = await run_cli("replay", "--json", "gradio-6.31.0/history.yaml")
    assert result.code == 0, result.err
    events = [json.loads(line) for line in result.out.splitlines()]
    assert events[-1]["type"] == "completed"
    assert "".join(e["text"] for e in events if e["type"] == "delta") == events[-1]["text"]


@pytest.mark.installed
async def test_replay_of_a_failed_session() -> None:
    result = await run_cli("replay", "gradio-4.44.1/error.yaml")
    assert result.code == 0, result.err
    assert "as its scenario expects" in result.err


@pytest.mark.installed
async def test_unknown_cassette() -> None:
    result = await run_cli("replay", "nope.yaml")
    assert result.code == 12
    assert "no bundled cassette" in result.err


async def test_empty_prompt_is_refused_before_the_network() -> None:
    result = await run_cli("chat", "   ", "--url", "http://127.0.0.1:9")
    assert result.code == 2
    assert "empty" in result.err


async def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = await run_cli("chat", "hi", "--url", f"http://127.0.0.1:{port}")
    assert result.code == 7
    assert result.err.count("\n") == 1, "one line per error"


async def test_chat_streams_to_stdout_with_status_on_stderr(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", ["Hel", "lo"]))
    result = await run_cli("chat", "hi", "--url", fake_space.url, "--system", "Be brief.")
    assert result.code == 0, result.err
    assert result.out == "Hello\n"
    # At the head of the queue the job starts at once: no wait to report.
    assert "waiting in the queue" not in result.err
    assert fake_space.join_bodies[0]["data"] == ["hi", [], "Be brief."]


async def test_token_from_the_environment(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", ["ok"]))
    # A token found in the environment goes only to Hugging Face hosts: the Hub the user
    # named with $HF_ENDPOINT is one, any other URL is not (--token sends it anywhere).
    env = {"HF_TOKEN": "hf_abcdefghijkl", "HF_ENDPOINT": fake_space.url}
    result = await run_cli("chat", "hi", "--url", fake_space.url, env=env)
    assert result.code == 0, result.err
    assert fake_space.join_headers[0]["x-hf-authorization"] == "Bearer hf_abcdefghijkl"
    fake_space.stream = script(*chat_body("hi", ["ok"]))
    result = await run_cli("chat", "hi", "--url", fake_space.url, env={"HF_TOKEN": "hf_abcdefghijkl"})
    assert result.code == 0, result.err
    assert "x-hf-authorization" not in {name.lower() for name in fake_space.join_headers[1]}


async def test_info(fake_space: FakeSpace) -> None:
    result = await run_cli("info", "--url", fake_space.url)
    assert result.code == 0, result.err
    assert "gradio:    5.50.0" in result.out
    assert "/model_chat = fn 0, trigger 11, chatbot format tuples" in result.out


async def test_contract_check_passes_then_reports_drift(fake_space: FakeSpace) -> None:
    assert (await run_cli("contract", "check", "--url", fake_space.url)).code == 0
    fake_space.config = CONFIG.replace(b'"api_name": "model_chat"', b'"api_name": "chat"')
    result = await run_cli("contract", "check", "--url", fake_space.url)
    assert result.code == 11
    assert "endpoint missing" in result.out


def test_every_error_class_has_its_exit_code() -> None:
    cases = {
        InvalidMessagesError("x"): 2,
        LocalProtocolError("x"): 2,
        AppError("x", space_message=None): 4,
        QueueFullError("x", status=503): 5,
        ServerError("x", status=500): 20,
        SpaceConnectionError("x"): 7,
        SpaceTimeoutError("x", phase="idle"): 8,
        SessionNotFoundError("x"): 9,
        StreamInterruptedError("x"): 9,
        RemoteProtocolError("x"): 10,
        ContractMismatchError("x"): 11,
        ReplyRewrittenError("x", final_text="", partial_text=""): 13,
    }
    for error, code in cases.items():
        assert exit_code(error) == code, type(error).__name__
    assert len({code for _, code in EXIT_CODES}) >= 11


@pytest.mark.parametrize("args", [["--help"], ["chat", "--help"], ["contract", "check", "--help"]])
async def test_help(args: list[str]) -> None:
    result = await run_cli(*args)
    assert result.code == 0
    assert "usage: qwen-space" in result.out


CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"


async def test_cassette_diff_same_recording() -> None:
    path = str(CASSETTES / "gradio-5.50.0" / "hello.yaml")
    result = await run_cli("cassette", "diff", path, path)
    assert result.code == 0, result.err
    assert "no semantic difference" in result.out


async def test_cassette_diff_across_gradio_versions() -> None:
    old = str(CASSETTES / "gradio-4.44.1" / "hello.yaml")
    new = str(CASSETTES / "gradio-6.31.0" / "history.yaml")
    result = await run_cli("cassette", "diff", old, new)
    assert result.code == 11
    assert "gradio version: 4.44.1 -> 6.31.0" in result.out
    assert "api prefix: (none) -> /gradio_api" in result.out
    assert "chatbot tuples" in result.out
    assert "chatbot normalised" in result.out


async def test_cassette_diff_reply_and_outcome() -> None:
    old = str(CASSETTES / "gradio-5.50.0" / "hello.yaml")
    new = str(CASSETTES / "gradio-5.50.0" / "error.yaml")
    result = await run_cli("cassette", "diff", old, new)
    assert result.code == 11
    assert "outcome: completed -> AppError" in result.out
    assert "ProcessGenerating messages: 61 -> 0" in result.out
