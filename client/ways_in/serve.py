"""``qwen-space serve``: the Space behind an OpenAI-compatible endpoint.

Any OpenAI client, SDK or tool can then talk to Qwen2.5-Max: ``GET /v1/models`` and
``POST /v1/chat/completions`` (``stream`` true or false) in OpenAI's wire format.
Messages go to :meth:`SpaceClient.chat` unchanged (``developer`` messages become
system messages), so they map exactly as there. Failures use OpenAI's error JSON with
the fitting status; once streaming has begun the status is sent, so a failure is an
``error`` event (the OpenAI SDK raises it). A client that goes away mid-answer gets its
Space job cancelled. Secrets (the Hugging Face token, API keys) are replaced in
everything a caller receives, whatever the Space sends.

Built on aiohttp's server, which the client already depends on.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hmac
import ipaddress
import json
import logging
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from typing import Any

from aiohttp import web
from yarl import URL

from ...protocol import (
    AppError,
    QueueFullError,
    QwenSpaceError,
    RateLimitedError,
    SpaceUnavailableError,
)
from ..core.client import SpaceClient
from ..core.errors import ClientClosedError, InvalidMessagesError, SpaceTimeoutError, UsageError
from ..core.request import prepare_request
from ..hub.space import saved_token
from .seed import Qwen_Qwen_2_5_Max

__all__ = ["MODEL_IDS", "check_api_key", "create_openai_app", "make_runner", "serve"]

#: The model ids the provider accepts; any of them selects Qwen2.5-Max.
MODEL_IDS: tuple[str, ...] = (Qwen_Qwen_2_5_Max.default_model, *Qwen_Qwen_2_5_Max.models)

logger = logging.getLogger("qwen_space.serve")

_EVENT_STREAM = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
_ROUTES = "this server answers GET /v1/models and POST /v1/chat/completions"

# A conversation at the client's prompt limit (400,000 characters) is up to 2.4 MB once
# a client escapes non-ASCII text as \uXXXX; aiohttp's default limit is 1 MiB.
_MAX_BODY = 4 << 20

# Retry-After hints (seconds): a full queue drains in seconds, a sleeping Space takes
# about a minute to wake, the Spaces proxy's rate limit resets within a minute.
_RETRY_QUEUE_FULL = 5
_RETRY_ASLEEP = 30
_RETRY_RATE_LIMITED = 20

#: Seconds answers in progress get to finish once Ctrl-C or SIGTERM asks the server to
#: stop; then their jobs are cancelled on the Space. Below the 10 s container runtimes
#: give a process between SIGTERM and SIGKILL, so the cancels still go out.
SHUTDOWN_TIMEOUT = 5.0

_REDACTED = "[REDACTED]"
# Shorter values are not replaced in what callers receive: they would match ordinary
# words (the OpenAI examples' key is "unused"), and no real token is that short.
_MIN_SECRET = 12
_CREDENTIAL_HEADERS = frozenset({"authorization", "x-hf-authorization", "proxy-authorization", "cookie", "x-api-key"})


class _Refusal(Exception):
    """An OpenAI-style error answer: status, message, type, code, param, extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str,
        code: str,
        headers: Mapping[str, str] | None = None,
        *,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.code = code
        self.param = param
        self.headers = dict(headers or {})

    def body(self, scrub: _Scrubber) -> dict[str, Any]:
        error = {"message": scrub.text(self.message), "type": self.kind, "param": self.param, "code": self.code}
        return {"error": error}

    def response(self, scrub: _Scrubber) -> web.Response:
        # aiohttp's json_response escapes non-ASCII, so no text can fail to encode.
        return web.json_response(self.body(scrub), status=self.status, headers=self.headers)


class _Scrubber:
    """Replaces secrets in the text a caller receives, also when the Space streams a
    secret across several deltas (the end of a delta that could begin one is held back)."""

    __slots__ = ("_held", "_secrets")

    def __init__(self, values: Iterable[str]) -> None:
        # Longest first: a secret containing another is replaced whole.
        self._secrets = tuple(sorted({v for v in values if len(v) >= _MIN_SECRET}, key=len, reverse=True))
        self._held = ""

    def text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _REDACTED)
        return text

    def delta(self, delta: str) -> str:
        """What of the text so far can be sent now."""
        if not self._secrets:
            return delta
        text = self.text(self._held + delta)
        cut = len(text) - max(_overlap(text, secret) for secret in self._secrets)
        self._held = text[cut:]
        return text[:cut]

    def rest(self) -> str:
        """The text held back, once the reply has ended."""
        rest, self._held = self._held, ""
        return rest


def _overlap(text: str, secret: str) -> int:
    """The length of the longest end of ``text`` that begins ``secret`` (but is not all of it)."""
    start = max(0, len(text) - len(secret) + 1)
    while (start := text.find(secret[0], start)) != -1:
        if secret.startswith(text[start:]):
            return len(text) - start
        start += 1
    return 0


class _Exchange:
    """One request as the log line reports it, and the scrubber for what it answers."""

    __slots__ = ("code", "model", "scrub", "stream")

    def __init__(self, scrub: _Scrubber) -> None:
        self.scrub = scrub
        self.model: str | None = None
        self.stream = False
        self.code: str | None = None


# Set by the middleware for the request its task is handling.
_EXCHANGE: contextvars.ContextVar[_Exchange] = contextvars.ContextVar("qwen_space_serve_exchange")


class _InFlight:
    """The requests being answered, for the drain at shutdown."""

    def __init__(self) -> None:
        self.count = 0
        self.idle = asyncio.Event()
        self.idle.set()

    def enter(self) -> None:
        self.count += 1
        self.idle.clear()

    def leave(self) -> None:
        self.count -= 1
        if not self.count:
            self.idle.set()


_SPACE: web.AppKey[SpaceClient] = web.AppKey("space", SpaceClient)
_API_KEY: web.AppKey[bytes | None] = web.AppKey("api_key", bytes)
_SECRETS: web.AppKey[tuple[str, ...]] = web.AppKey("secrets", tuple)
_IN_FLIGHT: web.AppKey[_InFlight] = web.AppKey("in_flight", _InFlight)


def check_api_key(key: str) -> str:
    """``key`` if a client can send it as ``Authorization: Bearer <key>``; else
    :class:`UsageError` (an empty key would otherwise read as "no key at all")."""
    if not key.strip():
        raise UsageError(
            "the API key is empty: give a key, or leave out --api-key (and $QWEN_SPACE_API_KEY) to need none"
        )
    if key != key.strip() or any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise UsageError(
            "the API key starts or ends with a space or holds a control character, which an Authorization "
            "header cannot carry: give the key without them"
        )
    return key


def create_openai_app(url: str | None = None, *, api_key: str | None = None, **options: Any) -> web.Application:
    """The OpenAI-compatible app for the Space at ``url`` (a :class:`SpaceClient` URL or
    Space id), as ``qwen-space serve`` runs it: ``GET /v1/models`` and
    ``POST /v1/chat/completions``.

    ``api_key``, when set, is required as ``Authorization: Bearer <key>``. ``options``
    go to the :class:`SpaceClient`, which the app opens at its startup and closes at its
    cleanup (cancelling the chats still running). To serve it beside your own routes,
    mount it: ``root.add_subapp("/openai", create_openai_app(...))`` answers on
    ``/openai/v1/...``. Run it with ``web.AppRunner(..., handler_cancellation=True)``
    so that a caller who goes away has its Space job cancelled at once.
    """
    if api_key is not None:
        check_api_key(api_key)
    app = web.Application(middlewares=[_answer_and_log])
    app[_API_KEY] = _key_bytes(api_key) if api_key else None
    app[_SECRETS] = _secrets(api_key, options)
    app[_IN_FLIGHT] = _InFlight()

    async def client_context(app: web.Application) -> AsyncIterator[None]:
        # One client for all requests: connections and the Space's /config are shared;
        # every chat still gets its own session, so each is cancelled on its own. A
        # streaming chat holds a connection, hence the high limit.
        app[_SPACE] = SpaceClient(url, **{"max_connections": 512, **options})
        try:
            yield
        finally:
            await app[_SPACE].aclose()  # cancels the chats still running

    app.cleanup_ctx.append(client_context)
    app.router.add_get("/v1/models", _models)
    app.router.add_post("/v1/chat/completions", _chat_completions)
    return app


def _secrets(api_key: str | None, options: Mapping[str, Any]) -> tuple[str, ...]:
    """What the server holds that no caller may receive: the key, the Hugging Face token
    (given, or the one the client may find itself), credentials in headers and the proxy URL."""
    values = [api_key, options.get("hf_token"), saved_token()]
    values += [value for name, value in (options.get("headers") or {}).items() if name.lower() in _CREDENTIAL_HEADERS]
    with contextlib.suppress(ValueError, TypeError):
        values.append(URL(options.get("proxy") or "").password)
    # "Bearer <token>": the token is the secret.
    return tuple(value.split()[-1] for value in values if isinstance(value, str) and value.split())


def make_runner(app: web.Application) -> web.AppRunner:
    """The runner ``qwen-space serve`` uses: a client that disconnects cancels its
    request's handler, whose clean-up cancels the job on the Space at once."""
    # At shutdown the handlers' chats are already closed (see serve): they only write
    # their last event, so a short grace suffices.
    return web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=2.0)


def _key_bytes(key: str) -> bytes:
    # aiohttp decodes header bytes that are not UTF-8 to lone surrogates, as Python
    # decodes a command line: surrogatepass encodes any str, so the two compare alike.
    return key.encode("utf-8", "surrogatepass")


def _caller_key(request: web.Request) -> str:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else ""


def _authorize(request: web.Request) -> None:
    expected = request.app[_API_KEY]
    if expected is None:
        return
    given = _caller_key(request)
    if not given or not hmac.compare_digest(_key_bytes(given), expected):
        raise _Refusal(
            401,
            "missing or wrong API key: send the key given to `qwen-space serve --api-key` as a Bearer token",
            "invalid_request_error",
            "invalid_api_key",
        )


@web.middleware
async def _answer_and_log(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every answer in OpenAI's error shape and scrubbed of secrets; one log line each."""
    exchange = _Exchange(_Scrubber((*request.app[_SECRETS], _caller_key(request))))
    reset = _EXCHANGE.set(exchange)
    in_flight = request.app[_IN_FLIGHT]
    in_flight.enter()
    started = time.monotonic()
    status: int | None = None
    try:
        try:
            response = await handler(request)
        except _Refusal as refusal:
            exchange.code = refusal.code
            response = refusal.response(exchange.scrub)
        except web.HTTPException as exc:
            exchange.code = exc.reason.lower().replace(" ", "_")
            said = f"{request.method} {request.rel_url.raw_path}: {exc.reason}; {_ROUTES}"
            allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            response = _Refusal(exc.status, said, "invalid_request_error", exchange.code, allow).response(
                exchange.scrub
            )
        except Exception:
            # A bug of this server: its traceback goes to the log, the caller gets JSON.
            logger.exception("failed on %s %s", request.method, request.rel_url.raw_path)
            exchange.code = "internal_error"
            response = _internal_error().response(exchange.scrub)
        status = response.status
        return response
    finally:
        in_flight.leave()
        _EXCHANGE.reset(reset)
        _log(request, exchange, status, time.monotonic() - started)


def _log(request: web.Request, exchange: _Exchange, status: int | None, seconds: float) -> None:
    if not logger.isEnabledFor(logging.INFO):
        return
    # 499: nginx's status for a client that went away before its answer was complete.
    words = [request.method, request.rel_url.raw_path[:200], str(status or 499)]
    words += [word for word in (exchange.model, "stream" if exchange.stream else None, exchange.code) if word]
    if status is None:
        words.append("(the client went away)")
    logger.info("%s %.2f s", " ".join(words), seconds)


def _internal_error() -> _Refusal:
    return _Refusal(
        500,
        "qwen-space serve failed on this request (a bug: please report it with the server's log)",
        "server_error",
        "internal_error",
    )


async def _models(request: web.Request) -> web.Response:
    _authorize(request)
    models = [{"id": model, "object": "model", "created": 0, "owned_by": "qwen"} for model in MODEL_IDS]
    return web.json_response({"object": "list", "data": models})


async def _chat_completions(request: web.Request) -> web.StreamResponse:
    _authorize(request)
    exchange = _EXCHANGE.get()
    exchange.model, messages, exchange.stream = await _read_request(request)
    space = request.app[_SPACE]
    chunks = _ChunkFormat(f"chatcmpl-{secrets.token_hex(12)}", int(time.time()), exchange.model)
    if exchange.stream:
        return await _stream(request, space, messages, chunks, exchange)
    try:
        completion = await space.complete(messages)
    except QwenSpaceError as error:
        raise _refusal_for(error) from None
    message = {"role": "assistant", "content": exchange.scrub.text(completion.text)}
    # usage stays null: the Space reports no token counts and counting them needs
    # Qwen's tokenizer, which this package does not ship (docs/ways-in.md).
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return web.json_response({**chunks.head("chat.completion"), "choices": [choice], "usage": None})


async def _read_request(request: web.Request) -> tuple[str, list[Any], bool]:
    """The model, messages and stream flag of a chat request, checked before anything
    is sent to the Space."""
    try:
        # This app's limit, also when it is mounted in an app with another (aiohttp
        # applies the outermost app's to every request).
        raw = await request.clone(client_max_size=_MAX_BODY).read()
    except web.HTTPRequestEntityTooLarge:
        raise _Refusal(
            413,
            f"the request body is larger than this server's limit of {_MAX_BODY >> 20} MiB; the Space takes "
            "400,000 characters at most: drop or summarise earlier turns",
            "invalid_request_error",
            "request_too_large",
        ) from None
    try:
        body = json.loads(raw)
    except RecursionError:
        raise _Refusal(
            400,
            "the request body is JSON nested too deeply to be a chat request",
            "invalid_request_error",
            "invalid_json",
        ) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _Refusal(400, f"the request body is not JSON ({exc})", "invalid_request_error", "invalid_json") from None
    if not isinstance(body, dict):
        raise _Refusal(400, "the request body must be a JSON object", "invalid_request_error", "invalid_request")
    model, messages = body.get("model"), body.get("messages")
    if not isinstance(model, str) or not model:
        raise _Refusal(
            400,
            "'model' is required: use one of " + ", ".join(MODEL_IDS),
            "invalid_request_error",
            "invalid_request",
            param="model",
        )
    if model not in MODEL_IDS:
        raise _Refusal(
            404,
            f"the model {model!r} does not exist here; this server serves " + ", ".join(MODEL_IDS),
            "invalid_request_error",
            "model_not_found",
            param="model",
        )
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _Refusal(
            400, "'stream' must be true or false", "invalid_request_error", "invalid_request", param="stream"
        )
    _refuse_what_cannot_be_honoured(body)
    if isinstance(messages, list):
        # OpenAI's newer name for system messages (sent by its newer clients and SDKs).
        messages = [
            {**message, "role": "system"}
            if isinstance(message, dict) and message.get("role") == "developer"
            else message
            for message in messages
        ]
    try:
        prepare_request(messages)
    except InvalidMessagesError as error:
        raise _Refusal(400, error.message, "invalid_request_error", "invalid_messages", param="messages") from None
    assert isinstance(messages, list)
    return model, messages, bool(stream)


def _refuse_what_cannot_be_honoured(body: Mapping[str, Any]) -> None:
    """Refuse the parameters whose answer would be wrong if ignored (sampling
    parameters, or tools the model may but need not call, are ignored: docs/ways-in.md)."""
    n = body.get("n")
    if n is not None and (type(n) is not int or n != 1):
        raise _Refusal(
            400,
            "'n' must be 1: the Space gives one answer per request; send n requests for n answers",
            "invalid_request_error",
            "unsupported_parameter",
            param="n",
        )
    for param, forced in (("tool_choice", body.get("tool_choice")), ("function_call", body.get("function_call"))):
        if forced == "required" or isinstance(forced, dict):
            raise _Refusal(
                400,
                f"{param!r} asks for a tool call, which the Space's model cannot make (it answers with text only); "
                f"leave {param!r} out or set it to 'auto' or 'none'",
                "invalid_request_error",
                "unsupported_parameter",
                param=param,
            )


class _ChunkFormat:
    """The ``chat.completion`` answer and its ``chunk`` events, with the parts that
    never change encoded once."""

    def __init__(self, completion_id: str, created: int, model: str) -> None:
        self._id, self._created, self._model = completion_id, created, model
        self._prefix = b"data: " + _json(self.head("chat.completion.chunk"))[:-1] + b',"choices":[{"index":0,"delta":'

    def head(self, kind: str) -> dict[str, Any]:
        return {"id": self._id, "object": kind, "created": self._created, "model": self._model}

    def delta(self, text: str, *, first: bool = False) -> bytes:
        role = b'{"role":"assistant","content":' if first else b'{"content":'
        return self._prefix + role + _json(text) + b'},"finish_reason":null}]}\n\n'

    def stop(self) -> bytes:
        return self._prefix + b'{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'

    @staticmethod
    def error(refusal: _Refusal, scrub: _Scrubber) -> bytes:
        return b"event: error\ndata: " + _json(refusal.body(scrub)) + b"\n\n"


async def _stream(
    request: web.Request, space: SpaceClient, messages: list[Any], chunks: _ChunkFormat, exchange: _Exchange
) -> web.StreamResponse:
    async with contextlib.aclosing(space.chat(messages)) as deltas:
        # The status line waits for the first delta, so that a failure before any text
        # (a full queue, a sleeping Space) still gets its own status code. chat() yields
        # text before it ends or raises (an empty reply is EmptyReplyError).
        try:
            first = await anext(deltas)
        except QwenSpaceError as error:
            raise _refusal_for(error) from None
        response = web.StreamResponse(headers=_EVENT_STREAM)
        await response.prepare(request)
        try:
            await _relay(response, first, deltas, chunks, exchange)
        except ConnectionError:
            # The caller went away (the handler's cancellation follows): nothing can reach it.
            exchange.code = "client_went_away"
        return response


async def _relay(
    response: web.StreamResponse,
    first: str,
    deltas: AsyncIterator[str],
    chunks: _ChunkFormat,
    exchange: _Exchange,
) -> None:
    """The rest of a streamed answer; it ends with ``[DONE]`` or an error event, always."""
    scrub = exchange.scrub
    await response.write(chunks.delta(scrub.delta(first), first=True))
    failure: _Refusal | None = None
    try:
        async for delta in deltas:
            if text := scrub.delta(delta):
                await response.write(chunks.delta(text))
    except QwenSpaceError as error:
        failure = _refusal_for(error)
    except ConnectionError:
        raise
    except Exception:
        # A bug of this server: still end the stream with an error event, never cut it.
        logger.exception("failed while streaming an answer")
        failure = _internal_error()
    if rest := scrub.rest():
        await response.write(chunks.delta(rest))
    if failure is None:
        await response.write(chunks.stop())
    else:
        exchange.code = failure.code
        await response.write(chunks.error(failure, scrub))
    await response.write_eof()


def _json(value: object) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:
        # A lone surrogate (valid in JSON text from the Space, not in UTF-8): JSON's
        # \u escapes carry it unchanged.
        return json.dumps(value, separators=(",", ":")).encode()


def _refusal_for(error: QwenSpaceError) -> _Refusal:
    """The OpenAI-style answer for a failure of the Space. What the client's own retries
    judged not worth repeating says so to the OpenAI SDK (``x-should-retry``), which
    otherwise retries any 5xx twice: a failed job would run three times."""
    message = str(error)
    headers = {} if error.retryable else {"x-should-retry": "false"}
    if isinstance(error, QueueFullError):
        headers["Retry-After"] = str(_RETRY_QUEUE_FULL)
        return _Refusal(503, message, "server_error", "space_queue_full", headers)
    if isinstance(error, RateLimitedError):
        headers["Retry-After"] = str(_RETRY_RATE_LIMITED)
        return _Refusal(429, message, "rate_limit_error", "space_rate_limited", headers)
    if isinstance(error, SpaceUnavailableError):
        headers["Retry-After"] = str(_RETRY_ASLEEP)
        return _Refusal(503, message, "server_error", "space_unavailable", headers)
    if isinstance(error, AppError):
        return _Refusal(502, f"the Space failed: {message}", "server_error", "space_app_error", headers)
    if isinstance(error, SpaceTimeoutError):
        return _Refusal(504, message, "server_error", "space_timeout", headers)
    if isinstance(error, ClientClosedError):
        message = "qwen-space serve is stopping: this answer was cut short and its job cancelled on the Space"
        return _Refusal(503, message, "server_error", "server_stopping", headers)
    return _Refusal(502, message, "server_error", "space_error", headers)


class _Stop:
    """Ctrl-C and SIGTERM: the first asks for a drain, the next for a stop at once."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self.asked = asyncio.Event()
        self.now = asyncio.Event()

    def __call__(self, signum: int) -> None:
        if self.signal is None:
            self.signal = signum
            self.asked.set()
        else:
            self.now.set()

    @property
    def again(self) -> str:
        return "Ctrl-C" if self.signal == signal.SIGINT else signal.Signals(self.signal or signal.SIGTERM).name

    def install(self) -> list[int]:
        """Handle the signals this process does not ignore; the ones handled."""
        loop = asyncio.get_running_loop()
        installed: list[int] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            # An ignored SIGINT (a background job) stays ignored, as the shell meant.
            if signal.getsignal(signum) == signal.SIG_IGN:
                continue
            try:
                loop.add_signal_handler(signum, self, signum)
            except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C raises KeyboardInterrupt instead
                continue
            installed.append(signum)
        return installed


async def serve(
    *,
    host: str,
    port: int,
    api_key: str | None,
    url: str | None = None,
    shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    **options: Any,
) -> int:
    """Serve until Ctrl-C or SIGTERM; the address goes to stderr once listening, then
    one line per request. The first signal lets answers in progress finish for up to
    ``shutdown_timeout`` seconds, a second stops at once; either way the jobs still
    running are cancelled on the Space. Returns 130 after Ctrl-C, 0 after SIGTERM."""
    if not api_key and not _is_loopback(host):
        print(
            f"qwen-space: warning: listening on {host} without --api-key: anyone who can reach this address "
            "can use the Space through it",
            file=sys.stderr,
        )
    app = create_openai_app(url, api_key=api_key, **options)
    runner = make_runner(app)
    lines = logging.StreamHandler(sys.stderr)
    lines.setFormatter(logging.Formatter("qwen-space: %(message)s"))
    logger.addHandler(lines)
    level = logger.level
    logger.setLevel(logging.INFO)
    stop = _Stop()
    loop = asyncio.get_running_loop()
    handled: list[int] = []
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            print(f"qwen-space: error: cannot listen on {host}:{port} ({exc})", file=sys.stderr)
            return 1
        handled = stop.install()
        bound = ", ".join(_base_url(address) for address in runner.addresses)
        print(f"serving {app[_SPACE].url} as an OpenAI-compatible API at {bound} (Ctrl-C stops)", file=sys.stderr)
        await stop.asked.wait()
        await _drain(runner, app, stop, shutdown_timeout)
        return 130 if stop.signal == signal.SIGINT else 0  # 130: the CLI's code for Ctrl-C
    finally:
        await runner.cleanup()  # closes the client, cancelling any job left (also after KeyboardInterrupt)
        for signum in handled:
            loop.remove_signal_handler(signum)
        logger.removeHandler(lines)
        logger.setLevel(level)


async def _drain(runner: web.AppRunner, app: web.Application, stop: _Stop, timeout: float) -> None:
    """Stop taking requests, let those in progress finish for ``timeout`` seconds (or
    until a second signal), then cancel the jobs of the rest on the Space."""
    for site in list(runner.sites):
        await site.stop()
    if runner.server is not None:
        runner.server.pre_shutdown()  # idle connections close now, busy ones after their answer
    in_flight = app[_IN_FLIGHT]
    if in_flight.count and timeout > 0:
        print(
            f"qwen-space: stopping: waiting up to {timeout:g} s for {_requests(in_flight.count)} in progress; "
            f"{stop.again} again to stop now",
            file=sys.stderr,
        )
        waits = [asyncio.ensure_future(in_flight.idle.wait()), asyncio.ensure_future(stop.now.wait())]
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
    if in_flight.count:
        print(f"qwen-space: cancelling {_requests(in_flight.count)} on the Space", file=sys.stderr)
    # The jobs are cancelled here, before aiohttp's shutdown: their handlers then end
    # their answers with an error event (or a 503) rather than being cut off.
    await app[_SPACE].aclose()


def _requests(count: int) -> str:
    return f"{count} request{'s' if count != 1 else ''}"


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
