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
from qwen_space.client import AppError, Completed, Correction, Failed, QwenSpaceError, SpaceClient, TextDelta
from qwen_space.client.errors import SeedRefusedError

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


async def test_a_quoted_error_of_a_direct_step_is_unquoted(space: PredictSpace) -> None:
    """Gradio 4.44 answers a gr.Error in run/predict with ``repr()`` of its message; the
    browser shows it unquoted, and so does the error."""
    space.config = canonical_config()
    space.predicts = [(500, "application/json", b'{"error": "\'The input is too long (9 > 4).\'"}')]
    async with SpaceClient(space.url) as client:
        with pytest.raises(AppError) as raised:
            await client.complete([user("hi")])
    assert raised.value.space_message == "The input is too long (9 > 4)."
    assert "'" not in str(raised.value)


async def test_a_failing_direct_step_is_the_apps_error(space: PredictSpace) -> None:
    space.config = canonical_config()
    space.predicts = [(500, "application/json", b'{"error": "The input is too long."}')]
    async with SpaceClient(space.url) as client:
        with pytest.raises(AppError, match="too long"):
            await client.complete([user("hi")])
    assert space.join_bodies == []


def canonical_with(kind: str) -> bytes:
    """The canonical chatbot with one more non-queued step after ``bot`` (``.then`` or
    ``.success``) that rewrites the Chatbot, as a "save and tidy up" step does."""
    config = json.loads(canonical_config())
    (bot,) = [d for d in config["dependencies"] if d["id"] == 1]
    config["dependencies"].append(
        {
            **bot,
            "id": 3,
            "targets": [[None, kind]],
            "queue": False,
            "api_name": "tidy",
            "trigger_after": 1,
            "trigger_only_on_success": kind == "success",
        }
    )
    return json.dumps(config).encode()


def shown_history() -> list[dict[str, Any]]:
    return [{"role": "user", "content": "hi"}]


def user_step_answer() -> tuple[int, str, bytes]:
    return (200, "application/json", json.dumps({"data": ["", shown_history()], "is_generating": False}).encode())


FAILED_STEP = [
    ((500, "application/json", b'{"error": "Could not save the chat."}'), AppError, "Could not save the chat"),
    ((200, "application/json", b'{"error": "Could not save the chat."}'), SeedRefusedError, "instead of Gradio"),
]


@pytest.mark.parametrize(("answer", "error_type", "said"), FAILED_STEP)
async def test_a_then_step_failing_after_the_text_ends_the_chat_with_its_error(
    space: PredictSpace, answer: tuple[int, str, bytes], error_type: type[QwenSpaceError], said: str
) -> None:
    space.config = canonical_with("then")
    space.predicts = [user_step_answer(), answer] * 2
    space.stream = script(*bot_stream(shown_history(), ["Hel", "lo", "!"]))
    async with SpaceClient(space.url) as client:
        events = [e async for e in client.events([user("hi")])]
        with pytest.raises(error_type, match=said) as raised:
            await client.complete([user("hi")])
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello!"
    assert not any(isinstance(e, Completed) for e in events)
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert isinstance(failed.error, error_type)
    assert failed.error.partial_text == "Hello!"
    assert raised.value.partial_text == "Hello!"
    assert [body["fn_index"] for body in space.predict_bodies] == [0, 3, 0, 3]
    assert space.cancels == []  # the failed step ran nothing on the Space that could be cancelled


def bot_failure(message: str) -> bytes:
    return sse({"msg": "process_completed", "event_id": EVENT_ID, "output": {"error": message}, "success": False})


async def test_a_queued_step_failing_skips_the_success_step_before_any_text(space: PredictSpace) -> None:
    space.config = canonical_with("success")
    space.predicts = [user_step_answer()]
    process_starts = sse({"msg": "process_starts", "event_id": EVENT_ID, "eta": None})
    space.stream = script(process_starts, bot_failure("The model is overloaded."), CLOSE_STREAM)
    async with SpaceClient(space.url) as client:
        with pytest.raises(AppError, match="overloaded") as raised:
            await client.complete([user("hi")])
    assert raised.value.space_message == "The model is overloaded."
    assert [body["fn_index"] for body in space.predict_bodies] == [0]  # never the .success step
    assert [body["fn_index"] for body in space.join_bodies] == [1]


async def test_a_queued_step_failing_after_its_text_skips_the_success_step(space: PredictSpace) -> None:
    space.config = canonical_with("success")
    space.predicts = [user_step_answer()]
    # Its text (one update: this config's later updates would be diffs), then the failure.
    streamed = bot_stream(shown_history(), ["Hello"])[:-2]
    space.stream = script(*streamed, bot_failure("The model is overloaded."), CLOSE_STREAM)
    async with SpaceClient(space.url) as client:
        events = [e async for e in client.events([user("hi")])]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello"
    assert not any(isinstance(e, Completed) for e in events)
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert isinstance(failed.error, AppError)
    assert failed.error.space_message == "The model is overloaded."
    assert [body["fn_index"] for body in space.predict_bodies] == [0]


async def test_a_then_step_runs_after_a_success(space: PredictSpace) -> None:
    """The counterpart: with no failure the chain goes on, and its last step's Chatbot is the reply."""
    space.config = canonical_with("success")
    tidied = [*shown_history(), {"role": "assistant", "content": "Hello! (saved)"}]
    space.predicts = [user_step_answer(), (200, "application/json", json.dumps({"data": [tidied]}).encode())]
    space.stream = script(*bot_stream(shown_history(), ["Hel", "lo", "!"]))
    async with SpaceClient(space.url) as client:
        completion = await client.complete([user("hi")])
    assert completion.text == "Hello! (saved)"
    assert [body["fn_index"] for body in space.predict_bodies] == [0, 3]


async def test_a_chain_steps_placeholder_never_reaches_the_reader(space: PredictSpace) -> None:
    """A chain's reply is held back one read, as a single event's is: the bot step shows
    "Thinking..." and then replaces it; the reader sees the answer only, no correction."""
    space.config = canonical_config()
    shown = [{"role": "user", "content": "hi"}]
    space.predicts = [(200, "application/json", json.dumps({"data": ["", shown], "is_generating": False}).encode())]
    values = ["Thinking...", "Hel", "Hello!"]
    space.stream = script(
        sse({"msg": "process_starts", "event_id": EVENT_ID, "eta": None}),
        *(generating([[*shown, {"role": "assistant", "content": value}]]) for value in values),
        completed([[*shown, {"role": "assistant", "content": "Hello!"}]]),
        CLOSE_STREAM,
    )
    async with SpaceClient(space.url) as client:
        events = [e async for e in client.events([user("hi")])]
    assert not [e for e in events if isinstance(e, Correction)]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello!"
