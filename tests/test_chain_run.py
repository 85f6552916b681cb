"""The client running a chain, and checking ``run/predict`` answers, against a fake Space:
for what a real Gradio server will not produce on demand (an HTML page or an error JSON
with status 200 for a step), and to see exactly what each request carries.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from qwen_space.client import AppError, SeedRefusedError, SpaceClient, TextDelta

from .fake_space import CLOSE_STREAM, EVENT_ID, FakeSpace, completed, generating, script, sse

CONFIGS = Path(__file__).parent / "data" / "configs"


@dataclass
class PredictSpace(FakeSpace):
    #: Answers to run/predict, in order: (status, content type, body).
    predicts: list[tuple[int, str, bytes]] = field(default_factory=list)
    predict_bodies: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = super().app()
        app.router.add_post("/gradio_api/run/predict", self._predict)
        return app

    async def _predict(self, request: web.Request) -> web.Response:
        self.predict_bodies.append(json.loads(await request.read()))
        status, content_type, body = self.predicts.pop(0)
        return web.Response(status=status, body=body, headers={"Content-Type": content_type})


@pytest.fixture
async def space() -> AsyncIterator[PredictSpace]:
    fake = PredictSpace()
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    fake.server = server
    try:
        yield fake
    finally:
        await server.close()


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


HISTORY = [user("u1"), {"role": "assistant", "content": "a1"}, user("hi")]

NOT_AN_ANSWER = [
    (200, "text/html", b"<!doctype html><html><title>Loading</title></html>"),
    (200, "application/json", b'{"error": "something broke"}'),
    (200, "application/json", b""),
    (200, "text/plain", b"ok"),
]


@pytest.mark.parametrize(("status", "content_type", "body"), NOT_AN_ANSWER)
async def test_a_history_seed_not_answered_by_gradio_is_refused_before_the_join(
    space: PredictSpace, status: int, content_type: str, body: bytes
) -> None:
    space.config = (CONFIGS / "replicas" / "5.50.0" / "plain_messages.json").read_bytes()
    space.predicts = [(status, content_type, body)]
    async with SpaceClient(space.url) as client:
        with pytest.raises(SeedRefusedError, match=r"instead of Gradio's answer"):
            await client.complete(HISTORY)
    assert len(space.predict_bodies) == 1
    assert space.join_bodies == []


def canonical_config() -> bytes:
    return (CONFIGS / "replicas" / "5.50.0" / "blocks_canonical.json").read_bytes()


def bot_stream(history: list[Any], pieces: list[str]) -> list[bytes]:
    out = [sse({"msg": "process_starts", "event_id": EVENT_ID, "eta": None})]
    text = ""
    for piece in pieces:
        text += piece
        out.append(generating([[*history, {"role": "assistant", "content": text}]]))
    out.append(completed([[*history, {"role": "assistant", "content": text}]]))
    out.append(CLOSE_STREAM)
    return out


async def test_the_chain_threads_each_steps_outputs_into_the_next(space: PredictSpace) -> None:
    space.config = canonical_config()
    shown = [
        {"role": "user", "metadata": None, "content": "u1", "options": None},
        {"role": "assistant", "metadata": None, "content": "a1", "options": None},
        {"role": "user", "content": "hi"},
    ]
    space.predicts = [(200, "application/json", json.dumps({"data": ["", shown], "is_generating": False}).encode())]
    space.stream = script(*bot_stream(shown, ["Hel", "lo", "!"]))
    async with SpaceClient(space.url) as client:
        events = [e async for e in client.events(HISTORY)]
    (user_step,) = space.predict_bodies
    assert user_step["fn_index"] == 0
    assert user_step["data"][0] == "hi"
    assert len(user_step["data"][1]) == 2
    assert user_step["trigger_id"] == 2
    (bot_join,) = space.join_bodies
    assert bot_join["fn_index"] == 1
    assert bot_join["data"] == [shown]
    assert bot_join["session_hash"] == user_step["session_hash"]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello!"


async def test_a_failing_direct_step_is_the_apps_error(space: PredictSpace) -> None:
    space.config = canonical_config()
    space.predicts = [(500, "application/json", b'{"error": "The input is too long."}')]
    async with SpaceClient(space.url) as client:
        with pytest.raises(AppError, match="too long"):
            await client.complete([user("hi")])
    assert space.join_bodies == []
