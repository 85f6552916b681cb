"""``serve``'s aiohttp app: its routes, the API key, one Space client per served Space,
the relay of a reply as OpenAI's answer or chunks, secrets scrubbed from everything a
caller receives, and one log line per request."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hmac
import logging
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

from aiohttp import web

from ....protocol import QwenSpaceError
from ...core.client import SpaceClient
from ...core.conversation import Conversation
from ...core.secrets import Redactor, proxy_password
from ...errors import UsageError
from ...hub.space import saved_token
from ..routing import Piece, file_markdown, reply_pieces
from .sessions import Sessions, history_unreachable, session_key
from .settings import check_api_key, check_spaces
from .spaces import Route, ServedSpace, known_models, learn_dropdowns, may_be_stale, route, unknown_model
from .turns import HeldTurn, fold_system, held_turn
from .wire import (
    MAX_BODY,
    Asked,
    ChunkFormat,
    Refusal,
    internal_error,
    parse_request,
    refusal_for,
    too_large,
)

__all__ = ["IN_FLIGHT", "SPACES", "InFlight", "create_openai_app"]

logger = logging.getLogger("qwen_space.serve")

_CONTROLS = dict.fromkeys([*range(32), *range(127, 160)], " ")
_EVENT_STREAM = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
_ROUTES = "this server answers GET /v1/models, GET /v1/models/{model} and POST /v1/chat/completions"


class _Exchange:
    """One request as the log line reports it, and the scrubber for what it answers."""

    __slots__ = ("code", "model", "scrub", "stream")

    def __init__(self, scrub: Redactor) -> None:
        self.scrub = scrub
        self.model: str | None = None
        self.stream = False
        self.code: str | None = None


# Set by the middleware for the request its task is handling.
_EXCHANGE: contextvars.ContextVar[_Exchange] = contextvars.ContextVar("qwen_space_serve_exchange")


class InFlight:
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


SPACES: web.AppKey[tuple[ServedSpace, ...]] = web.AppKey("spaces", tuple)
IN_FLIGHT: web.AppKey[InFlight] = web.AppKey("in_flight", InFlight)
_API_KEY: web.AppKey[bytes | None] = web.AppKey("api_key", bytes)
_SECRETS: web.AppKey[Redactor] = web.AppKey("secrets", Redactor)
#: Each Space's live sessions, for apps that keep their model's history on the server.
_SESSIONS: web.AppKey[dict[ServedSpace, Sessions]] = web.AppKey("sessions", dict)


def create_openai_app(
    url: str | None = None,
    *,
    api_key: str | None = None,
    spaces: Mapping[str, str] | None = None,
    endpoints: Mapping[str, str | int] | None = None,
    presets: Mapping[str, Mapping[str, object]] | None = None,
    **options: Any,
) -> web.Application:
    """The OpenAI-compatible app for the Space at ``url`` (a :class:`SpaceClient` URL or
    Space id), or for each Space of ``spaces`` (alias: Space id or URL), as
    ``qwen-space serve`` runs it: ``GET /v1/models``, ``GET /v1/models/{model}`` and
    ``POST /v1/chat/completions``.

    The Qwen Space answers to the model ids :data:`MODEL_IDS`, another Space of ``url``
    to its id (or host) and each choice of its model dropdown; a Space of ``spaces`` to
    its alias, and ``ALIAS/CHOICE`` for each choice. ``endpoints`` and ``presets`` (by
    alias) choose a Space's chat event and set its inputs by label, as ``endpoint=`` and
    ``options=`` (which go to the one Space of ``url`` with the other ``options``) do.
    ``api_key``, when set, is required as ``Authorization: Bearer <key>``. ``options``
    go to each :class:`SpaceClient`, which the app opens at its startup and closes at its
    cleanup (cancelling the chats still running). To serve it beside your own routes,
    mount it: ``root.add_subapp("/openai", create_openai_app(...))`` answers on
    ``/openai/v1/...``. Run it with ``web.AppRunner(..., handler_cancellation=True)``
    so that a caller who goes away has its Space job cancelled at once.
    """
    if api_key is not None:
        check_api_key(api_key)
    targets = _targets(url, spaces, endpoints, presets)
    app = web.Application(middlewares=[_answer_and_log])
    app[_API_KEY] = _key_bytes(api_key) if api_key else None
    app[_SECRETS] = _secrets_of(api_key, options)
    app[IN_FLIGHT] = InFlight()
    app[_SESSIONS] = {}

    def client_for(alias: str | None) -> Callable[[str | None], SpaceClient]:
        settings = dict(options)
        if alias is not None:
            settings["endpoint"] = (endpoints or {}).get(alias)
            settings["options"] = {**settings.get("options", {}), **(presets or {}).get(alias, {})}
        # A streaming chat holds a connection, hence the high limit.
        return lambda target: SpaceClient(target, **{"max_connections": 512, **settings})

    async def client_context(app: web.Application) -> AsyncIterator[None]:
        # One client per Space for all requests: connections and the Space's /config are
        # shared; every chat still gets its own session, so each is cancelled on its own.
        app[SPACES] = tuple(ServedSpace(alias, target, client_for(alias)) for alias, target in targets)
        try:
            yield
        finally:
            await close_spaces(app)

    app.cleanup_ctx.append(client_context)
    app.router.add_get("/v1/models", _models)
    app.router.add_get("/v1/models/{model:.+}", _model)
    app.router.add_post("/v1/chat/completions", _chat_completions)
    return app


def _targets(
    url: str | None,
    spaces: Mapping[str, str] | None,
    endpoints: Mapping[str, object] | None,
    presets: Mapping[str, object] | None,
) -> list[tuple[str | None, str | None]]:
    if spaces is None:
        if endpoints or presets:
            raise UsageError("endpoints= and presets= are by alias, for spaces=: for url, give endpoint= and options=")
        return [(None, url)]
    if url is not None:
        raise UsageError("give the Space as url or among spaces, not both")
    checked = check_spaces(spaces.items())
    for name, given in (("endpoints", endpoints), ("presets", presets)):
        unknown = sorted(set(given or {}) - set(checked))
        if unknown:
            raise UsageError(f"{name}= names {', '.join(map(repr, unknown))}, which spaces= does not serve")
    return list(checked.items())


async def close_spaces(app: web.Application) -> None:
    """Close every Space's clients, cancelling the chats still running."""
    for space in app.get(SPACES, ()):
        await space.close()


def _key_bytes(key: str) -> bytes:
    # aiohttp decodes header bytes that are not UTF-8 to lone surrogates, as Python
    # decodes a command line: surrogatepass encodes any str, so the two compare alike.
    return key.encode("utf-8", "surrogatepass")


def _secrets_of(api_key: str | None, options: Mapping[str, Any]) -> Redactor:
    """What the server holds that no caller may receive: the key, the Hugging Face token
    (given, or the one the client may find itself), credentials in headers, the proxy URL's
    password and the app login's password (``auth=``: the Space could echo it)."""
    login = options.get("auth")
    values = [api_key, options.get("hf_token"), saved_token(), proxy_password(options.get("proxy"))]
    if login:
        values.append(login[1])
    return Redactor(values, options.get("headers"))


def _caller_key(request: web.Request) -> str:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    return given.strip() if scheme.lower() == "bearer" else ""


def _authorize(request: web.Request) -> None:
    expected = request.app[_API_KEY]
    if expected is None:
        return
    given = _caller_key(request)
    if not given or not hmac.compare_digest(_key_bytes(given), expected):
        raise Refusal(
            401,
            "missing or wrong API key: send the key this server was started with as a Bearer token",
            "invalid_request_error",
            "invalid_api_key",
        )


def _respond(refusal: Refusal, exchange: _Exchange) -> web.Response:
    exchange.code = refusal.code
    # aiohttp's json_response escapes non-ASCII, so no text can fail to encode.
    return web.json_response(refusal.body(exchange.scrub.text), status=refusal.status, headers=refusal.headers)


@web.middleware
async def _answer_and_log(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Every answer in OpenAI's error shape and scrubbed of secrets; one log line each."""
    # The caller's own credentials too (its key, whichever header carries it).
    exchange = _Exchange(request.app[_SECRETS].fresh(request.headers))
    reset = _EXCHANGE.set(exchange)
    in_flight = request.app[IN_FLIGHT]
    in_flight.enter()
    started = time.monotonic()
    status: int | None = None
    try:
        try:
            response = await handler(request)
        except Refusal as refusal:
            response = _respond(refusal, exchange)
        except web.HTTPException as exc:
            said = f"{request.method} {request.rel_url.raw_path}: {exc.reason}; {_ROUTES}"
            allow = {"Allow": exc.headers["Allow"]} if "Allow" in exc.headers else None
            code = exc.reason.lower().replace(" ", "_")
            response = _respond(Refusal(exc.status, said, "invalid_request_error", code, allow), exchange)
        except Exception:
            # A bug of this server: its traceback goes to the log, the caller gets JSON.
            logger.exception("failed on %s %s", request.method, request.rel_url.raw_path)
            response = _respond(internal_error(), exchange)
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


def _model_object(model: str, space: ServedSpace) -> dict[str, Any]:
    return {"id": model, "object": "model", "created": 0, "owned_by": space.owner}


async def _models(request: web.Request) -> web.Response:
    _authorize(request)
    spaces = request.app[SPACES]
    await learn_dropdowns(spaces)
    models = [_model_object(model, space) for model, space in known_models(spaces)]
    return web.json_response({"object": "list", "data": models})


async def _model(request: web.Request) -> web.Response:
    """One model, as OpenAI's ``GET /v1/models/{model}`` answers: 404 ``model_not_found``
    for an id not served here."""
    _authorize(request)
    wanted = request.match_info["model"]
    spaces = request.app[SPACES]
    found = dict(known_models(spaces))
    if wanted not in found:
        await learn_dropdowns(spaces)
        found = dict(known_models(spaces))
    if wanted not in found:
        raise unknown_model(wanted, spaces)
    return web.json_response(_model_object(wanted, found[wanted]))


async def _read_body(request: web.Request) -> bytes:
    try:
        # This app's limit, also when it is mounted in an app with another (aiohttp
        # applies the outermost app's to every request).
        return await request.clone(client_max_size=MAX_BODY).read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large() from None


async def _chat_completions(request: web.Request) -> web.StreamResponse:
    _authorize(request)
    exchange = _EXCHANGE.get()
    asked = parse_request(await _read_body(request))
    chunks = ChunkFormat(f"chatcmpl-{secrets.token_hex(12)}", int(time.time()), asked.model)
    for last_try in (False, True):
        found = client = None
        try:
            found = await route(request.app[SPACES], asked)
            # Logged once known: a model id served here is one line of plain text.
            exchange.model, exchange.stream = asked.model, asked.stream
            async with found.space.using() as client:
                return await _answer(request, client, found, asked, chunks, exchange)
        except QwenSpaceError as error:
            if last_try or found is None or client is None or not may_be_stale(error):
                raise _refused(error, found.params if found is not None else None) from None
            # Nothing ran on the Space: read its /config again, once (it may have
            # restarted with another app), unless that was done moments ago.
            if not await found.space.reread(client):
                raise _refused(error, found.params) from None
            # Its sessions ran on the app that has gone: their continuations are refused.
            request.app[_SESSIONS].pop(found.space, None)
            logger.info("%s: %s; its /config is read again", found.space.name or "the Space", error)
    raise AssertionError("unreachable")  # pragma: no cover


def _refused(error: QwenSpaceError, params: Mapping[str, str] | None) -> Refusal:
    """The caller's answer for ``error``; the whole error, advice included, goes to the log."""
    # Without control characters: the log is a terminal's, the text partly the Space's.
    logger.info("the Space's error: %s", str(error).translate(_CONTROLS))
    return refusal_for(error, params)


async def _answer(
    request: web.Request, client: SpaceClient, found: Route, asked: Asked, chunks: ChunkFormat, exchange: _Exchange
) -> web.StreamResponse:
    """The reply, streamed or whole; raises the package error for a failure before any of it."""
    contract = await client.contract()
    messages = fold_system(contract, asked.messages)
    if messages is not None:
        logger.info("%s has no system prompt input: the system message is folded into the first user turn", asked.model)
    sent = messages if messages is not None else asked.messages
    held = held_turn(contract, asked.messages, sent, repr(asked.model))
    if held is not None:
        return await _answer_held(request, client, found, asked, held, chunks, exchange)
    if asked.stream:
        return await _stream(request, reply_pieces(client, sent, found.options), found, chunks, exchange)
    # The client's one terminal policy (core/reply.py): a reply of thoughts or files alone is an answer.
    completion = await client.complete(sent, options=found.options)
    files = completion.files
    reasoning = exchange.scrub.fresh().text(completion.reasoning)
    text = completion.text + "".join(
        file_markdown(file, bool(completion.text) or n > 0) for n, file in enumerate(files)
    )
    return web.json_response(chunks.completion(exchange.scrub.text(text), reasoning))


async def _answer_held(
    request: web.Request,
    client: SpaceClient,
    found: Route,
    asked: Asked,
    held: HeldTurn,
    chunks: ChunkFormat,
    exchange: _Exchange,
) -> web.StreamResponse:
    """A turn of a conversation held in one session on the Space (docs/ways-in.md):
    continued if its earlier messages are those of one answered here, else refused."""
    sessions = request.app[_SESSIONS].setdefault(found.space, Sessions())
    claimed = None
    if held.prefix is None:
        conversation = client.conversation(system=held.system, options=found.options)
    else:
        claimed = session_key(asked.model, found.options, held.prefix)
        found_conversation = sessions.claim(claimed)
        if found_conversation is None:
            raise history_unreachable(repr(asked.model))
        conversation = found_conversation

    def keep(content: str) -> None:
        answered = [*asked.messages, {"role": "assistant", "content": content}]
        sessions.keep(session_key(asked.model, found.options, answered), conversation)

    try:
        if asked.stream:
            return await _stream(request, _answer_pieces(conversation, held.query), found, chunks, exchange, keep)
        content = exchange.scrub.text(await conversation.send(held.query))
        keep(content)
        return web.json_response(chunks.completion(content, ""))
    finally:
        sessions.release(claimed)


async def _answer_pieces(conversation: Conversation, query: str) -> AsyncGenerator[Piece, None]:
    async with contextlib.aclosing(conversation.stream(query)) as texts:
        async for text in texts:
            yield False, text


async def _stream(
    request: web.Request,
    pieces: AsyncGenerator[Piece, None],
    found: Route,
    chunks: ChunkFormat,
    exchange: _Exchange,
    keep: Callable[[str], None] | None = None,
) -> web.StreamResponse:
    async with contextlib.aclosing(pieces):
        # The status line waits for the first piece, so that a failure before any text
        # (a full queue, a sleeping Space, a refused option) still gets its own status
        # code, and a stale /config can be read again. The pieces' source ends the chat
        # by the client's one terminal policy (core/reply.py), which raises for an empty
        # reply: pieces that end without one are an answer with empty content.
        first = await anext(pieces, (False, ""))
        response = web.StreamResponse(headers=_EVENT_STREAM)
        await response.prepare(request)
        try:
            content = await _relay(response, first, pieces, chunks, exchange, found.params)
        except ConnectionError:
            # The caller went away (the handler's cancellation follows): nothing can reach it.
            exchange.code = "client_went_away"
        else:
            if content is not None and keep is not None:
                keep(content)
        return response


async def _relay(
    response: web.StreamResponse,
    first: Piece,
    pieces: AsyncIterator[Piece],
    chunks: ChunkFormat,
    exchange: _Exchange,
    params: Mapping[str, str],
) -> str | None:
    """The rest of a streamed answer; it ends with ``[DONE]`` or an error event, always.
    Returns the answer's content as sent, ``None`` if it ended with an error event.
    A file of the reply is a content chunk of Markdown linking it, sent as it arrives."""
    # One scrubber per field: a secret split across deltas is held back within its own text.
    scrubs = {False: exchange.scrub, True: exchange.scrub.fresh()}
    content: list[str] = []
    answered = False
    failure: Refusal | None = None

    def chunk(piece: Piece, first: bool = False) -> bytes | None:
        """The event of ``piece`` (None while a secret's start is held back)."""
        nonlocal answered
        if isinstance(piece, tuple):
            reasoning, delta = piece
        else:
            reasoning, delta = False, file_markdown(piece, any(content))
        text = scrubs[reasoning].delta(delta)
        if not (text or first):
            return None
        answered = answered or not reasoning
        if not reasoning:
            content.append(text)
        return chunks.delta(text, first=first, reasoning=reasoning)

    try:
        await response.write(chunk(first, first=True) or b"")
        async for piece in pieces:
            if event := chunk(piece):
                await response.write(event)
    except QwenSpaceError as error:
        failure = _refused(error, params)
    except ConnectionError:
        raise
    except Exception:
        # A bug of this server: still end the stream with an error event, never cut it.
        logger.exception("failed while streaming an answer")
        failure = internal_error()
    for reasoning, scrub in scrubs.items():
        if rest := scrub.rest():
            if not reasoning:
                content.append(rest)
            await response.write(chunks.delta(rest, reasoning=reasoning))
    if failure is None:
        if not answered:
            await response.write(chunks.delta(""))  # a reply of thoughts alone: its answer is empty
        await response.write(chunks.stop())
    else:
        exchange.code = failure.code
        await response.write(failure.event(exchange.scrub.text))
    await response.write_eof()
    return "".join(content) if failure is None else None
