"""``qwen-space serve``: chat Spaces behind an OpenAI-compatible endpoint.

Any OpenAI client, SDK or tool can then talk to Qwen2.5-Max (or the one Space at
``url``), or to several Spaces by alias (``spaces``): ``GET /v1/models`` and
``POST /v1/chat/completions`` (``stream`` true or false) in OpenAI's wire format.
Messages go to :meth:`SpaceClient.events` unchanged (``developer`` messages become
system messages), so they map exactly as there; ``temperature``, ``top_p`` and
``max_tokens`` go to the inputs whose labels say so, a model id ``ALIAS/CHOICE`` to the
Space's model dropdown, and the Space's thoughts come back as ``reasoning_content``,
apart from the answer. Failures use OpenAI's error JSON with
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
import re
import secrets
import signal
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

from aiohttp import web
from yarl import URL

from ...protocol import (
    AppError,
    ChatContract,
    ChatInput,
    ChatRequestError,
    Completed,
    Correction,
    Failed,
    OptionKind,
    QueueFullError,
    QwenSpaceError,
    RateLimitedError,
    ReasoningDelta,
    SpaceUnavailableError,
    TextDelta,
)
from ..core.client import SpaceClient
from ..core.errors import (
    ClientClosedError,
    InvalidMessagesError,
    ReplyRewrittenError,
    SpaceTimeoutError,
    UsageError,
    empty_reply,
)
from ..core.request import prepare_request
from ..hub.space import saved_token
from .seed import Qwen_Qwen_2_5_Max

__all__ = [
    "MODEL_IDS",
    "check_api_key",
    "check_spaces",
    "create_openai_app",
    "make_runner",
    "reply_pieces",
    "sampling_options",
    "sampling_value",
    "serve",
]

#: The model ids the provider accepts; any of them selects Qwen2.5-Max.
MODEL_IDS: tuple[str, ...] = (Qwen_Qwen_2_5_Max.default_model, *Qwen_Qwen_2_5_Max.models)

logger = logging.getLogger("qwen_space.serve")

_EVENT_STREAM = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
_ROUTES = "this server answers GET /v1/models and POST /v1/chat/completions"

# A conversation at the client's prompt limit (400,000 characters) is up to 2.4 MB once
# a client escapes non-ASCII text as \uXXXX; aiohttp's default limit is 1 MiB.
_MAX_BODY = 4 << 20

# Seconds GET /v1/models waits for a Space's /config (for its dropdown's choices).
_MODELS_WAIT = 10.0

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

    def fresh(self) -> _Scrubber:
        """A scrubber of the same secrets for another text (a reply's thoughts)."""
        return _Scrubber(self._secrets)

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


class _Space:
    """One Space this server answers for: its client, and the model ids that select it."""

    __slots__ = ("alias", "client", "contract")

    def __init__(self, alias: str | None, client: SpaceClient) -> None:
        #: ``None`` for the one Space of ``url``, served under :data:`MODEL_IDS`.
        self.alias = alias
        self.client = client
        self.contract: ChatContract | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        return MODEL_IDS if self.alias is None else (self.alias,)

    async def chat_contract(self) -> ChatContract:
        if self.contract is None:
            self.contract = await self.client.contract()
        return self.contract

    def dropdown(self) -> ChatInput | None:
        """The model dropdown whose choices are served as ``ALIAS/CHOICE`` (known once
        the contract is), if the Space has one."""
        if self.alias is None or self.contract is None:
            return None
        slot = self.contract.option_for(OptionKind.MODEL)
        return slot if slot is not None and slot.choices and not slot.multiselect else None

    def choice_ids(self) -> list[str]:
        slot = self.dropdown()
        return [f"{self.alias}/{choice}" for choice in slot.choices or ()] if slot is not None else []


_SPACES: web.AppKey[tuple[_Space, ...]] = web.AppKey("spaces", tuple)
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


_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_spaces(spaces: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``(alias, Space id or URL)`` pairs as a mapping; :class:`UsageError` for an alias
    that cannot be a model id (letters, digits, ``.``, ``_``, ``-``; no ``/``, which
    separates a dropdown choice), one given twice, or an empty Space."""
    checked: dict[str, str] = {}
    for alias, target in spaces:
        if not _ALIAS.fullmatch(alias):
            raise UsageError(
                f"{alias!r} cannot be a model alias: use letters, digits, '.', '_' and '-' (no '/'), "
                "like --space qwen3=Qwen/Qwen3-Demo"
            )
        if alias in checked:
            raise UsageError(f"the alias {alias!r} is given twice: give each Space its own alias")
        if not target.strip():
            raise UsageError(f"no Space given for the alias {alias!r}: write ALIAS=OWNER/NAME or ALIAS=URL")
        checked[alias] = target
    if not checked:
        raise UsageError("no Space to serve: give at least one ALIAS=OWNER/NAME")
    return checked


def create_openai_app(
    url: str | None = None,
    *,
    api_key: str | None = None,
    spaces: Mapping[str, str] | None = None,
    **options: Any,
) -> web.Application:
    """The OpenAI-compatible app for the Space at ``url`` (a :class:`SpaceClient` URL or
    Space id), or for each Space of ``spaces`` (alias: Space id or URL), as
    ``qwen-space serve`` runs it: ``GET /v1/models`` and ``POST /v1/chat/completions``.

    The one Space of ``url`` answers to the model ids :data:`MODEL_IDS`; a Space of
    ``spaces`` to its alias, and ``ALIAS/CHOICE`` for each choice of its model dropdown.
    ``api_key``, when set, is required as ``Authorization: Bearer <key>``. ``options``
    go to each :class:`SpaceClient`, which the app opens at its startup and closes at its
    cleanup (cancelling the chats still running). To serve it beside your own routes,
    mount it: ``root.add_subapp("/openai", create_openai_app(...))`` answers on
    ``/openai/v1/...``. Run it with ``web.AppRunner(..., handler_cancellation=True)``
    so that a caller who goes away has its Space job cancelled at once.
    """
    if api_key is not None:
        check_api_key(api_key)
    if spaces is not None:
        if url is not None:
            raise UsageError("give the Space as url or among spaces, not both")
        targets: list[tuple[str | None, str | None]] = list(check_spaces(spaces.items()).items())
    else:
        targets = [(None, url)]
    app = web.Application(middlewares=[_answer_and_log])
    app[_API_KEY] = _key_bytes(api_key) if api_key else None
    app[_SECRETS] = _secrets(api_key, options)
    app[_IN_FLIGHT] = _InFlight()

    async def client_context(app: web.Application) -> AsyncIterator[None]:
        # One client for all requests: connections and the Space's /config are shared;
        # every chat still gets its own session, so each is cancelled on its own. A
        # streaming chat holds a connection, hence the high limit.
        app[_SPACES] = tuple(
            _Space(alias, SpaceClient(target, **{"max_connections": 512, **options})) for alias, target in targets
        )
        try:
            yield
        finally:
            await _close(app)

    app.cleanup_ctx.append(client_context)
    app.router.add_get("/v1/models", _models)
    app.router.add_post("/v1/chat/completions", _chat_completions)
    return app


async def _close(app: web.Application) -> None:
    """Close every Space's client, cancelling the chats still running."""
    await asyncio.gather(*(space.client.aclose() for space in app.get(_SPACES, ())))


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
    spaces = request.app[_SPACES]
    await _learn_dropdowns(spaces)
    models = [
        {"id": model, "object": "model", "created": 0, "owned_by": "qwen" if space.alias is None else space.alias}
        for space in spaces
        for model in (*space.ids, *space.choice_ids())
    ]
    return web.json_response({"object": "list", "data": models})


async def _learn_dropdowns(spaces: Iterable[_Space]) -> None:
    """Read the contracts of the aliased Spaces not yet known, for their dropdown
    choices; a Space that cannot say within :data:`_MODELS_WAIT` seconds (asleep, down)
    is listed by its alias alone, and its choices are asked again next time."""

    async def learn(space: _Space) -> None:
        try:
            async with asyncio.timeout(_MODELS_WAIT):
                await space.chat_contract()
        except (QwenSpaceError, TimeoutError) as error:
            logger.info("%s: its model choices are not known yet (%s)", space.alias, error or "no answer in time")

    await asyncio.gather(*(learn(space) for space in spaces if space.alias is not None and space.contract is None))


class _Asked:
    """What a chat request asks for, checked before anything is sent to the Space."""

    __slots__ = ("messages", "model", "sampling", "stream")

    def __init__(
        self, model: str, messages: list[Any], stream: bool, sampling: dict[OptionKind, tuple[str, float]]
    ) -> None:
        self.model, self.messages, self.stream = model, messages, stream
        #: OpenAI's sampling and length parameters given, by the input kind they go to: (param, value).
        self.sampling = sampling


class _Route:
    """The Space a request goes to and the inputs its parameters set (label: (param, value))."""

    __slots__ = ("options", "params", "space")

    def __init__(self, space: _Space) -> None:
        self.space = space
        self.options: dict[str, object] = {}
        #: Which OpenAI parameter set each label, to name it in a refusal.
        self.params: dict[str, str] = {}

    def set(self, slot: ChatInput, param: str, value: object) -> None:
        assert slot.label is not None  # options are labelled inputs
        self.options[slot.label] = value
        self.params[slot.label] = param


async def _chat_completions(request: web.Request) -> web.StreamResponse:
    _authorize(request)
    exchange = _EXCHANGE.get()
    asked = await _read_request(request)
    try:
        route = await _route(request.app[_SPACES], asked)
    except QwenSpaceError as error:
        raise _refusal_for(error) from None
    # Logged once known: a model id served here is one line of plain text.
    exchange.model, exchange.stream = asked.model, asked.stream
    chunks = _ChunkFormat(f"chatcmpl-{secrets.token_hex(12)}", int(time.time()), asked.model)
    if asked.stream:
        return await _stream(request, route, asked.messages, chunks, exchange)
    try:
        completion = await route.space.client.complete(asked.messages, options=route.options)
    except QwenSpaceError as error:
        raise _refusal_for(error, route.params) from None
    message = {"role": "assistant", "content": exchange.scrub.text(completion.text)}
    if completion.reasoning:
        message["reasoning_content"] = exchange.scrub.fresh().text(completion.reasoning)
    # usage stays null: the Space reports no token counts and counting them needs
    # Qwen's tokenizer, which this package does not ship (docs/ways-in.md).
    choice = {"index": 0, "message": message, "finish_reason": "stop"}
    return web.json_response({**chunks.head("chat.completion"), "choices": [choice], "usage": None})


async def _route(spaces: tuple[_Space, ...], asked: _Asked) -> _Route:
    """The Space ``asked.model`` names (and its dropdown's choice), with OpenAI's
    sampling parameters mapped to the inputs whose labels say so (docs/ways-in.md)."""
    model = asked.model
    space = next((space for space in spaces if model in space.ids), None)
    choice: tuple[ChatInput, object] | None = None
    if space is None:
        alias, _, wanted = model.partition("/")
        space = next((space for space in spaces if space.alias is not None and space.alias == alias), None)
        if space is None or not wanted:
            raise _unknown_model(model, spaces)
        await space.chat_contract()
        slot = space.dropdown()
        found = next((c for c in slot.choices or () if str(c) == wanted), None) if slot is not None else None
        if slot is None or found is None:
            raise _unknown_model(model, spaces)
        choice = (slot, found)
    route = _Route(space)
    if choice is not None:
        route.set(choice[0], "model", choice[1])
    if asked.sampling:
        contract = await space.chat_contract()
        for kind, (param, value) in asked.sampling.items():
            slot = contract.option_for(kind)
            if slot is not None:
                route.set(slot, param, sampling_value(slot, value))
    return route


def sampling_options(contract: ChatContract, values: Mapping[OptionKind, object]) -> dict[str, object]:
    """OpenAI-style sampling settings (by the :class:`OptionKind` they are) as the
    Space's options by label; a setting the Space has no input for is left out
    (ignored, as OpenAI-compatible servers do with what a model does not take)."""
    options: dict[str, object] = {}
    for kind, value in values.items():
        slot = contract.option_for(kind)
        if slot is not None and slot.label is not None and value is not None:
            options[slot.label] = sampling_value(slot, value)
    return options


def sampling_value(slot: ChatInput, value: object) -> object:
    """``value`` for the input ``slot``: a token limit above the input's maximum
    becomes that maximum ("at most N tokens" is kept by any smaller limit)."""
    if (
        slot.kind is OptionKind.MAX_TOKENS
        and slot.maximum is not None
        and isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value > slot.maximum
    ):
        return int(slot.maximum) if float(slot.maximum).is_integer() else slot.maximum
    return value


def _unknown_model(model: str, spaces: Iterable[_Space]) -> _Refusal:
    known = [model for space in spaces for model in (*space.ids, *space.choice_ids())]
    hint = ""
    if any(space.alias is not None and space.contract is None for space in spaces):
        hint = " (GET /v1/models also lists the choices of each Space's model dropdown)"
    return _Refusal(
        404,
        f"the model {model!r} does not exist here; this server serves " + ", ".join(known) + hint,
        "invalid_request_error",
        "model_not_found",
        param="model",
    )


async def _read_request(request: web.Request) -> _Asked:
    """The model, messages, stream flag and sampling parameters of a chat request,
    checked before anything is sent to the Space."""
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
            "'model' is required: GET /v1/models lists the models this server serves",
            "invalid_request_error",
            "invalid_request",
            param="model",
        )
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _Refusal(
            400, "'stream' must be true or false", "invalid_request_error", "invalid_request", param="stream"
        )
    _refuse_what_cannot_be_honoured(body)
    sampling = _sampling(body)
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
    return _Asked(model, messages, bool(stream), sampling)


def _sampling(body: Mapping[str, Any]) -> dict[OptionKind, tuple[str, float]]:
    """OpenAI's ``temperature``, ``top_p`` and token limit given (``null`` is not given),
    checked as OpenAI checks their types; ``max_completion_tokens`` (OpenAI's newer
    name) wins over ``max_tokens``."""
    found: dict[OptionKind, tuple[str, float]] = {}
    for kind, param, whole in (
        (OptionKind.TEMPERATURE, "temperature", False),
        (OptionKind.TOP_P, "top_p", False),
        (OptionKind.MAX_TOKENS, "max_tokens", True),
        (OptionKind.MAX_TOKENS, "max_completion_tokens", True),
    ):
        value = body.get(param)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) or value != value:
            raise _Refusal(
                400,
                f"{param!r} must be {'a whole number' if whole else 'a number'}, got {json.dumps(value)[:100]}",
                "invalid_request_error",
                "invalid_request",
                param=param,
            )
        found[kind] = (param, value)
    return found


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

    def delta(self, text: str, *, first: bool = False, reasoning: bool = False) -> bytes:
        # reasoning_content: the field OpenAI-compatible reasoning APIs stream thoughts in.
        field = b'"reasoning_content":' if reasoning else b'"content":'
        role = b'{"role":"assistant",' if first else b"{"
        return self._prefix + role + field + _json(text) + b'},"finish_reason":null}]}\n\n'

    def stop(self) -> bytes:
        return self._prefix + b'{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'

    @staticmethod
    def error(refusal: _Refusal, scrub: _Scrubber) -> bytes:
        return b"event: error\ndata: " + _json(refusal.body(scrub)) + b"\n\n"


async def reply_pieces(
    space: SpaceClient, messages: Sequence[Mapping[str, Any]], options: Mapping[str, object]
) -> AsyncGenerator[tuple[bool, str], None]:
    """The answer as :meth:`SpaceClient.chat` streams it, with the thoughts beside it
    (for ``serve`` and the gpt4free providers):
    ``(True, text)`` for reasoning, ``(False, text)`` for the answer. Raises the package
    error as ``chat()`` does (a rewritten answer, an empty one)."""
    shown: str | None = None  # set at the first rewrite: the answer sent by then
    sent: list[str] = []
    async with contextlib.aclosing(space.events(messages, options=options)) as events:
        async for event in events:
            if type(event) is TextDelta:
                if shown is None:
                    sent.append(event.text)
                    yield False, event.text
            elif isinstance(event, ReasoningDelta):
                yield True, event.text
            elif isinstance(event, Correction):
                if shown is None:
                    shown = "".join(sent)
            elif isinstance(event, Failed):
                raise event.error
            elif isinstance(event, Completed):
                if not event.text:
                    raise empty_reply()
                if shown is not None:
                    raise ReplyRewrittenError(
                        "the Space rewrote part of the reply after it was streamed",
                        final_text=event.text,
                        partial_text=shown,
                    )


async def _stream(
    request: web.Request, route: _Route, messages: list[Any], chunks: _ChunkFormat, exchange: _Exchange
) -> web.StreamResponse:
    async with contextlib.aclosing(reply_pieces(route.space.client, messages, route.options)) as pieces:
        # The status line waits for the first piece, so that a failure before any text
        # (a full queue, a sleeping Space, a refused option) still gets its own status
        # code. A reply yields text before it ends or raises (an empty one is EmptyReplyError).
        try:
            first = await anext(pieces)
        except QwenSpaceError as error:
            raise _refusal_for(error, route.params) from None
        response = web.StreamResponse(headers=_EVENT_STREAM)
        await response.prepare(request)
        try:
            await _relay(response, first, pieces, chunks, exchange, route.params)
        except ConnectionError:
            # The caller went away (the handler's cancellation follows): nothing can reach it.
            exchange.code = "client_went_away"
        return response


async def _relay(
    response: web.StreamResponse,
    first: tuple[bool, str],
    pieces: AsyncIterator[tuple[bool, str]],
    chunks: _ChunkFormat,
    exchange: _Exchange,
    params: Mapping[str, str],
) -> None:
    """The rest of a streamed answer; it ends with ``[DONE]`` or an error event, always."""
    # One scrubber per field: a secret split across deltas is held back within its own text.
    scrubs = {False: exchange.scrub, True: exchange.scrub.fresh()}
    reasoning, text = first
    await response.write(chunks.delta(scrubs[reasoning].delta(text), first=True, reasoning=reasoning))
    failure: _Refusal | None = None
    try:
        async for reasoning, delta in pieces:
            if text := scrubs[reasoning].delta(delta):
                await response.write(chunks.delta(text, reasoning=reasoning))
    except QwenSpaceError as error:
        failure = _refusal_for(error, params)
    except ConnectionError:
        raise
    except Exception:
        # A bug of this server: still end the stream with an error event, never cut it.
        logger.exception("failed while streaming an answer")
        failure = _internal_error()
    for reasoning, scrub in scrubs.items():
        if rest := scrub.rest():
            await response.write(chunks.delta(rest, reasoning=reasoning))
    if failure is None:
        await response.write(chunks.stop())
    else:
        exchange.code = failure.code
        await response.write(chunks.error(failure, exchange.scrub))
    await response.write_eof()


def _json(value: object) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:
        # A lone surrogate (valid in JSON text from the Space, not in UTF-8): JSON's
        # \u escapes carry it unchanged.
        return json.dumps(value, separators=(",", ":")).encode()


def _refusal_for(error: QwenSpaceError, params: Mapping[str, str] | None = None) -> _Refusal:
    """The OpenAI-style answer for a failure of the Space. What the client's own retries
    judged not worth repeating says so to the OpenAI SDK (``x-should-retry``), which
    otherwise retries any 5xx twice: a failed job would run three times. A request the
    Space's inputs cannot take is the caller's to change: a 400 naming the parameter
    (``params``: which one set each input label)."""
    message = str(error)
    if isinstance(error, ChatRequestError):
        param = (params or {}).get(error.label or "")
        if param is not None:
            message = f"{param!r} goes to the Space's input {error.label!r}: {message}"
        return _Refusal(400, message, "invalid_request_error", "unsupported_parameter", param=param or "messages")
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
    spaces: Mapping[str, str] | None = None,
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
    app = create_openai_app(url, api_key=api_key, spaces=spaces, **options)
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
        served = ", ".join(
            space.client.url if space.alias is None else f"{space.alias}={space.client.url}" for space in app[_SPACES]
        )
        print(f"serving {served} as an OpenAI-compatible API at {bound} (Ctrl-C stops)", file=sys.stderr)
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
    await _close(app)


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
