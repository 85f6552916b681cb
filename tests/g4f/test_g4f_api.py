"""gpt4free's own OpenAI-compatible API serving the provider, called with the openai SDK."""

import os
import sys
from collections.abc import Iterator

import openai
import pytest

from ..live.conftest import serving
from .conftest import Replica

# gpt4free's API app in a process of its own, with this provider registered under the
# original's name. Connections off this machine are refused, as in the offline tests.
SERVER = """
import socket, sys
real_connect = socket.socket.connect
def connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6) and not str(address[0]).startswith(("127.", "::1")):
        raise ConnectionRefusedError(f"network blocked in tests: {address!r}")
    real_connect(self, address)
socket.socket.connect = connect

import g4f.debug, uvicorn
g4f.debug.version_check = False
try:  # gpt4free 8 fetches its online provider registry (g4f.dev) as g4f.api is imported.
    from g4f.client.factory import AbstractClientFactory
    AbstractClientFactory._live_providers = {
        "providers": {"default": {"baseUrl": "http://127.0.0.1:9/v1"}}, "defaultModels": {}
    }
except ImportError:  # gpt4free 7 has no such registry
    pass
from qwen_space.client.g4f import register
register()
import g4f.api
uvicorn.run(g4f.api.create_app(), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""

PROVIDER = {"provider": "Qwen_Qwen_2_5_Max"}


def answer(tokens: int) -> str:
    return "".join(f"tok{j} " for j in range(tokens))


@pytest.fixture(scope="module")
def g4f_api(replica: Replica, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    home = tmp_path_factory.mktemp("g4f-home")
    # Not retargeted in code: $QWEN_SPACE_URL points the provider at the replica.
    env = {**os.environ, "QWEN_SPACE_URL": replica.url, "HOME": str(home), "NO_PROXY": "127.0.0.1"}
    server = lambda port: [sys.executable, "-c", SERVER, str(port)]  # noqa: E731
    with serving(server, "/v1/models", "gpt4free's API", within=60, env=env, cwd=home) as base:
        yield f"{base}/v1"


def client(base: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=base, api_key="unused", max_retries=0, timeout=60)


def test_whole_and_streamed(g4f_api: str) -> None:
    with client(g4f_api) as api:
        whole = api.chat.completions.create(
            model="qwen-2.5-max", messages=[{"role": "user", "content": "!tokens=5"}], extra_body=PROVIDER
        )
        stream = api.chat.completions.create(
            model="qwen-2.5-max",
            messages=[{"role": "user", "content": "!tokens=9 !delay=0.05"}],
            stream=True,
            extra_body=PROVIDER,
        )
        texts = [chunk.choices[0].delta.content for chunk in stream if chunk.choices and chunk.choices[0].delta.content]
    assert whole.choices[0].message.content == answer(5)
    assert "".join(texts) == answer(9)
    assert len(texts) >= 4


def test_the_spaces_errors_reach_the_openai_client(g4f_api: str) -> None:
    with client(g4f_api) as api:
        # gpt4free 7 passes the error's text on; 8 answers "Request execution failed".
        with pytest.raises(openai.InternalServerError, match=r"hides its message|Request execution failed"):
            api.chat.completions.create(
                model="qwen-2.5-max", messages=[{"role": "user", "content": "!fail0"}], extra_body=PROVIDER
            )
        received: list[str] = []
        with pytest.raises(openai.APIError, match=r"hides its message|Request execution failed"):
            for chunk in api.chat.completions.create(
                model="qwen-2.5-max",
                messages=[{"role": "user", "content": "!fail !delay=0"}],
                stream=True,
                extra_body=PROVIDER,
            ):
                if chunk.choices and chunk.choices[0].delta.content:
                    received.append(chunk.choices[0].delta.content)
    assert "".join(received) == answer(2)
