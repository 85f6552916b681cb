"""One list says which headers carry a credential (client/core/secrets.py): what a
recording keeps and what ``serve``'s callers receive are scrubbed by the same rule,
so a key only one of them knew about can no longer reach the other's output."""

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
from aiohttp import web
from qwen_space.client import SpaceClient
from qwen_space.client.core.secrets import REDACTED, Redactor, credentials_in
from qwen_space.client.recording import use_cassette

from .fake_space import CLOSE_STREAM, EVENT_ID, FakeSpace, chat_body, script, sse
from .serving import HELLO, create, serving

GATEWAY_KEY = "sk-gateway-key-0123456789"
# Gradio's auth= login sets access-token-{cookie_id} (and -unsecure-) to token_urlsafe(16).
LOGIN = "Zm9vYmFyYmF6cXV4cXV1eA"
CREDENTIALS = {
    "x-api-key": (GATEWAY_KEY, GATEWAY_KEY),
    "Cookie": (f"consent=1; access-token-unsecure-3f2a={LOGIN}", LOGIN),
}


def echoing(header: str, reply: Callable[[str], list[bytes]]) -> Any:
    """A stream that repeats the secret of the header as the Space's app would read it
    (a cookie by its name)."""

    async def run(response: web.StreamResponse, space: FakeSpace) -> None:
        received = {name.lower(): value for name, value in space.join_headers[-1].items()}[header.lower()]
        if header == "Cookie":
            pairs = dict(pair.strip().partition("=")[::2] for pair in received.split(";"))
            received = pairs["access-token-unsecure-3f2a"]
        await script(*reply(f"saw {received}!"))(response, space)

    return run


def app_error(message: str) -> list[bytes]:
    failed = {"msg": "process_completed", "event_id": EVENT_ID, "output": {"error": message}, "success": False}
    return [sse(failed), CLOSE_STREAM]


@pytest.mark.parametrize("header", list(CREDENTIALS))
async def test_a_credential_header_reaches_neither_a_cassette_nor_a_serve_error(
    fake_space: FakeSpace, tmp_path: Path, header: str
) -> None:
    value, secret = CREDENTIALS[header]
    fake_space.stream = echoing(header, lambda text: chat_body("hi", [text]))
    path = tmp_path / "session.yaml"
    with use_cassette(path, record_mode="once"):
        async with SpaceClient(fake_space.url, headers={header: value}) as space:
            completion = await space.complete([{"role": "user", "content": "hi"}])
    assert secret in completion.text, "the Space really echoed it"
    recorded = path.read_text(encoding="utf-8")
    assert secret not in recorded
    assert f"{header.lower()}:" not in recorded.lower()
    assert REDACTED in recorded

    fake_space.stream = echoing(header, app_error)
    async with serving(fake_space.url, headers={header: value}) as base:
        with pytest.raises(openai.APIStatusError) as caught:
            await create(base, model="127.0.0.1", messages=HELLO)
    assert caught.value.status_code == 502
    assert secret not in caught.value.response.text
    assert f"saw {REDACTED}!" in caught.value.message


@pytest.mark.parametrize(
    ("name", "value", "found"),
    [
        ("X-API-Key", GATEWAY_KEY, [GATEWAY_KEY]),
        ("Authorization", "Basic Y2FsbGVyOnBhc3N3b3Jk", ["Y2FsbGVyOnBhc3N3b3Jk"]),
        ("Cookie", f"consent=1; access-token-3f2a={LOGIN}", [LOGIN]),
        ("Set-Cookie", f"access-token-3f2a={LOGIN}; Path=/; HttpOnly; SameSite=lax", [LOGIN]),
        ("Content-Type", "application/json; charset=averylongvalue", []),
    ],
)
def test_what_a_header_carries(name: str, value: str, found: list[str]) -> None:
    assert credentials_in(name, value) == found


def test_a_secret_streamed_in_pieces_is_held_back_until_it_can_be_replaced() -> None:
    redactor = Redactor([GATEWAY_KEY, "short"])
    sent = [redactor.delta(piece) for piece in ("key ", GATEWAY_KEY[:5], GATEWAY_KEY[5:], " short")]
    assert "".join(sent) + redactor.rest() == f"key {REDACTED} short"
    assert sent[1] == "", "the start of the key waited for the rest"
    assert redactor.published(b"hf_abcdefgh12 and " + GATEWAY_KEY.encode()) == f"{REDACTED} and {REDACTED}".encode()
