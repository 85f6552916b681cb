"""``qwen-space serve``: the Space behind an OpenAI-compatible endpoint.

Any OpenAI client, SDK or tool can then talk to Qwen2.5-Max: ``GET /v1/models`` and
``POST /v1/chat/completions`` (``stream`` true or false) in OpenAI's wire format.
Messages go to :meth:`SpaceClient.chat` unchanged, so they map exactly as there.
Failures use OpenAI's error JSON with the fitting status; once streaming has begun
the status is sent, so a failure is an ``error`` event (the OpenAI SDK raises it).
A client that goes away mid-answer gets its Space job cancelled.

Built on aiohttp's server, which the client already depends on.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import secrets
import sys
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from aiohttp import web

from ..protocol import (
    AppError,
    QueueFullError,
    QwenSpaceError,
    RateLimitedError,
    SpaceUnavailableError,
)
from ._client import SpaceClient
from ._errors import InvalidMessagesError, SpaceTimeoutError
from ._prompt import prepare_request
from ._provider import Qwen_Qwen_2_5_Max

__all__ = ["MODEL_IDS", "create_app", "make_runner", "serve"]

#: The model ids the provider accepts; any of them selects Qwen2.5-Max.
MODEL_IDS: tuple[str, ...] = (Qwen_Qwen_2_5_Max.default_model, *Qwen_Qwen_2_5_Max.models)

_SPACE: web.AppKey[SpaceClient] = web.AppKey("space", SpaceClient)
_API_KEY: web.AppKey[bytes | None] = web.AppKey("api_key", bytes)
_EVENT_STREAM = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}

# Retry-After hints (seconds): a full queue drains in seconds, a sleeping Space takes
# about a minute to wake, the Spaces proxy's rate limit resets within a minute.
_RETRY_QUEUE_FULL = 5
_RETRY_ASLEEP = 30
_RETRY_RATE_LIMITED = 20


class _Refusal(Exception):
    """An OpenAI-style error answer: status, message, type, code, extra headers."""

    def __init__(
        self, status: int, message: str, kind: str, code: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.code = code
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.kind, "param": None, "code": self.code}}

    def response(self) -> web.Response:
        return web.json_response(self.body(), status=self.status, headers=self.headers)


def create_app(
    url: str | None = None, *, api_key: str | None = None, space: SpaceClient | None = None, **options: Any
) -> web.Application:
    """The OpenAI-compatible app for the Space at ``url`` (a :class:`SpaceClient` URL).

    ``api_key``, when set, is required as ``Authorization: Bearer <key>``. ``options``
    go to the :class:`SpaceClient`; pass ``space=`` to use a client of your own (the
    app then leaves it open).
    """
    app = web.Application()
    app[_API_KEY] = api_key.encode() if api_key else None

    async def client_context(app: web.Application) -> AsyncIterator[None]:
        # One client for all requests: connections and the Space's /config are shared;
        # every chat still gets its own session, so each is cancelled on its own. A
        # streaming chat holds a connection, hence the high limit.
        app[_SPACE] = space or SpaceClient(url, **{"max_connections": 512, **options})
        try:
            yield
        finally:
            if space is None:
                await app[_SPACE].aclose()  # cancels the chats still running

    app.cleanup_ctx.append(client_context)
    app.router.add_get("/v1/models", _models)
    app.router.add_post("/v1/chat/completions", _chat_completions)
    return app


def make_runner(app: web.Application) -> web.AppRunner:
    """The runner ``qwen-space serve`` uses: a client that disconnects cancels its
    request's handler, whose clean-up cancels the job on the Space at once."""
    return web.AppRunner(app, handler_cancellation=True, access_log=None)


def _authorize(request: web.Request) -> None:
    expected = request.app[_API_KEY]
    if expected is None:
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(), expected):
        raise _Refusal(
            401,
            "missing or wrong API key: send the key given to `qwen-space serve --api-key` as a Bearer token",
            "invalid_request_error",
            "invalid_api_key",
        )


async def _models(request: web.Request) -> web.Response:
    try:
        _authorize(request)
    except _Refusal as refusal:
        return refusal.response()
    models = [{"id": model, "object": "model", "created": 0, "owned_by": "qwen"} for model in MODEL_IDS]
    return web.json_response({"object": "list", "data": models})


async def _chat_completions(request: web.Request) -> web.StreamResponse:
    try:
        _authorize(request)
        model, messages, stream = await _read_request(request)
    except _Refusal as refusal:
        return refusal.response()
    space = request.app[_SPACE]
    completion_id = f"chatcmpl-{secrets.token_hex(12)}"
    created = int(time.time())
    if not stream:
        try:
            completion = await space.complete(messages)
        except QwenSpaceError as error:
            return _refusal_for(error).response()
        choice = {"index": 0, "message": {"role": "assistant", "content": completion.text}, "finish_reason": "stop"}
        answer = {"id": completion_id, "object": "chat.completion", "created": created, "model": model}
        return web.json_response({**answer, "choices": [choice], "usage": None})
    return await _stream(request, space, messages, _ChunkFormat(completion_id, created, model))


async def _read_request(request: web.Request) -> tuple[str, list[Any], bool]:
    """The model, messages and stream flag of a chat request, checked before anything
    is sent to the Space."""
    try:
        body = json.loads(await request.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Refusal(400, f"the request body is not JSON ({exc})", "invalid_request_error", "invalid_json") from None
    if not isinstance(body, dict):
        raise _Refusal(400, "the request body must be a JSON object", "invalid_request_error", "invalid_request")
    model, messages, stream = body.get("model"), body.get("messages"), body.get("stream", False)
    if not isinstance(model, str) or not model:
        raise _Refusal(
            400, "'model' is required: use one of " + ", ".join(MODEL_IDS), "invalid_request_error", "invalid_request"
        )
    if model not in MODEL_IDS:
        raise _Refusal(
            404,
            f"the model {model!r} does not exist here; this server serves " + ", ".join(MODEL_IDS),
            "invalid_request_error",
            "model_not_found",
        )
    if not isinstance(stream, bool):
        raise _Refusal(400, "'stream' must be true or false", "invalid_request_error", "invalid_request")
    try:
        prepare_request(messages)
    except InvalidMessagesError as error:
        raise _Refusal(400, error.message, "invalid_request_error", "invalid_messages") from None
    assert isinstance(messages, list)
    return model, messages, stream


class _ChunkFormat:
    """``chat.completion.chunk`` events, with the parts that never change encoded once."""

    def __init__(self, completion_id: str, created: int, model: str) -> None:
        head = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": model}
        self._prefix = b"data: " + _json(head)[:-1] + b',"choices":[{"index":0,"delta":'

    def delta(self, text: str, *, first: bool = False) -> bytes:
        role = b'{"role":"assistant","content":' if first else b'{"content":'
        return self._prefix + role + _json(text) + b'},"finish_reason":null}]}\n\n'

    def stop(self) -> bytes:
        return self._prefix + b'{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'


async def _stream(
    request: web.Request, space: SpaceClient, messages: list[Any], chunks: _ChunkFormat
) -> web.StreamResponse:
    async with contextlib.aclosing(space.chat(messages)) as deltas:
        # The status line waits for the first delta, so that a failure before any text
        # (a full queue, a sleeping Space) still gets its own status code.
        try:
            first: str | None = await anext(deltas)
        except StopAsyncIteration:
            first = None
        except QwenSpaceError as error:
            return _refusal_for(error).response()
        response = web.StreamResponse(headers=_EVENT_STREAM)
        await response.prepare(request)
        await response.write(chunks.delta(first or "", first=True))
        try:
            if first is not None:
                async for delta in deltas:
                    await response.write(chunks.delta(delta))
        except QwenSpaceError as error:
            event = b"event: error\ndata: " + _json(_refusal_for(error).body()) + b"\n\n"
            await response.write(event)
        else:
            await response.write(chunks.stop())
        await response.write_eof()
        return response


def _json(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _refusal_for(error: QwenSpaceError) -> _Refusal:
    """The OpenAI-style answer for a failure of the Space."""
    message = str(error)
    if isinstance(error, QueueFullError):
        retry = {"Retry-After": str(_RETRY_QUEUE_FULL)}
        return _Refusal(503, message, "server_error", "space_queue_full", retry)
    if isinstance(error, RateLimitedError):
        retry = {"Retry-After": str(_RETRY_RATE_LIMITED)}
        return _Refusal(429, message, "rate_limit_error", "space_rate_limited", retry)
    if isinstance(error, SpaceUnavailableError):
        retry = {"Retry-After": str(_RETRY_ASLEEP)}
        return _Refusal(503, message, "server_error", "space_unavailable", retry)
    if isinstance(error, AppError):
        return _Refusal(502, f"the Space failed: {message}", "server_error", "space_app_error")
    if isinstance(error, SpaceTimeoutError):
        return _Refusal(504, message, "server_error", "space_timeout")
    return _Refusal(502, message, "server_error", "space_error")


async def serve(*, host: str, port: int, api_key: str | None, url: str | None = None, **options: Any) -> int:
    """Serve until cancelled (Ctrl-C); the address goes to stderr once listening."""
    if not api_key and not _is_loopback(host):
        print(
            f"qwen-space: warning: listening on {host} without --api-key: anyone who can reach this address "
            "can use the Space through it",
            file=sys.stderr,
        )
    app = create_app(url, api_key=api_key, **options)
    runner = make_runner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            print(f"qwen-space: error: cannot listen on {host}:{port} ({exc})", file=sys.stderr)
            return 1
        bound = ", ".join(_base_url(address) for address in runner.addresses)
        print(f"serving {app[_SPACE].url} as an OpenAI-compatible API at {bound} (Ctrl-C stops)", file=sys.stderr)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()
    return 0  # pragma: no cover - only cancellation ends the wait


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_url(address: Any) -> str:
    host, port = address[0], address[1]
    return f"http://[{host}]:{port}/v1" if ":" in host else f"http://{host}:{port}/v1"
