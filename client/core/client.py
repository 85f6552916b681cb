"""``SpaceClient``: the protocol layer driven over aiohttp.

It owns what its chats share: the session and its connections, the Space's
``/config`` and the Hub's word on it, the requests made before and after a stream
(``/config``, ``queue/join``, ``/cancel``). One chat is a :class:`ChatRun`
(``run.py``). Each chat gets its own session hash:
Gradio cancels per (session, fn_index), so only separate sessions can be cancelled
separately, and a session's stream then carries that chat's event alone.

Early exit (the consumer stops, or its task is cancelled) posts ``/cancel`` for the
event and closes the stream; closing the client does the same for every chat still
running, so nothing outlives ``async with SpaceClient(...)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self, Unpack

from yarl import URL

from ...protocol import (
    ChatContract,
    ChatEvent,
    Completed,
    Correction,
    Drift,
    FileReply,
    LogMessage,
    QueuePosition,
    ReplyFile,
    SpaceConfig,
    TextDelta,
    derive_contract,
    new_session_hash,
    parse_config,
)
from ...protocol._contract import require_contract
from ...protocol._join import error_for_response, is_web_page
from ...protocol._release import Route
from ...protocol._sse import DEFAULT_MAX_EVENT_SIZE as _DEFAULT_MAX_EVENT_SIZE
from ...protocol.errors import (
    RemoteProtocolError,
    RequestRejectedError,
    ServerError,
    SpaceHTTPError,
    SpaceUnavailableError,
)
from ..errors import UsageError, total_timeout
from ..hub.space import (
    USER_AGENT,
    SpaceGate,
    SpaceInfo,
    SpaceStarting,
    check_space_id,
    is_hugging_face_url,
    saved_token,
    space_url,
    token_goes_to,
)
from .chain import ChatSession
from .conversation import Conversation
from .files import DEFAULT_MAX_DOWNLOAD_SIZE, DEFAULT_MAX_UPLOAD_SIZE, download, save_bytes
from .options import ClientOptions, check_options
from .qwen import HIDDEN_ERROR_HINT, QWEN_CONTRACT
from .reply import ReplyCheck
from .request import DEFAULT_MAX_PROMPT_CHARS, ChatRequest, FileLike, prepare_request
from .run import ChatRun, ChatTarget, RunSettings
from .seam import Answer, Deadline, SpaceTransport
from .timeouts import RetryPolicy, Timeouts
from .transport import Transport

__all__ = ["DEFAULT_SPACE_ID", "DEFAULT_URL", "ChatCompletion", "SpaceClient", "default_url", "space_url"]

#: The Hugging Face Space Qwen/Qwen2.5-Max-Demo.
DEFAULT_URL = "https://qwen-qwen2-5-max-demo.hf.space"
DEFAULT_SPACE_ID = "Qwen/Qwen2.5-Max-Demo"

logger = logging.getLogger("qwen_space")

#: Real configs are tens to hundreds of KiB; the biggest Spaces' reach a few MiB.
DEFAULT_MAX_CONFIG_SIZE = 8 * 1024 * 1024
# complete() keeps at most this many log messages, each cut to this length.
_MAX_KEPT_LOGS = 100
_MAX_LOG_CHARS = 2000


def default_url() -> str:
    """``$QWEN_SPACE_URL`` if set (a mirror, or a local replica in tests), else the Qwen
    Space by its id, so that the Hub is asked where it runs and whether it is up."""
    return os.environ.get("QWEN_SPACE_URL") or DEFAULT_SPACE_ID


@dataclass(slots=True, kw_only=True)
class ChatCompletion:
    """A finished reply with what is known about how it was made."""

    text: str
    event_id: str
    session_hash: str
    #: Run time reported by the Space (sum of its per-yield durations).
    server_duration: float | None
    #: Seconds from the join to the completion, measured here.
    wall_time: float
    #: Seconds from the join to the first text, or ``None`` if the reply was empty.
    time_to_first_text: float | None
    #: The highest queue position seen (0-based), if the job waited.
    max_queue_rank: int | None = None
    #: The Space's log messages (the first 100, each cut to 2,000 characters).
    logs: list[LogMessage] = field(default_factory=list)
    corrections: int = 0
    #: Log messages left out of ``logs`` beyond the first 100.
    dropped_logs: int = 0
    #: The reply's thoughts (reasoning, tool use), apart from ``text``; empty for most apps.
    reasoning: str = ""
    #: The reply's files (see :class:`FileReply`): fetch them with ``space.download``/``save_file``.
    files: tuple[ReplyFile, ...] = ()


class SpaceClient:
    """Async client for the Qwen2.5-Max Space (or any Space honouring its contract).

    Use as ``async with SpaceClient() as space:``. The URL defaults to ``$QWEN_SPACE_URL``,
    else the Qwen2.5-Max Space. A Space id such as ``Qwen/Qwen2.5-Max-Demo`` is looked up
    on the Hub (``$HF_ENDPOINT``) before the first chat: its address, and whether it
    runs (see ``SpaceGate``). ``hf_token=`` goes wherever the client is sent; without
    it the Hub clients' token (``$HF_TOKEN``, else the saved login) is used, and sent only
    to Hugging Face hosts (``https://*.hf.space``, ``https://huggingface.co``, the
    ``$HF_ENDPOINT`` Hub). Pass ``session=`` to share an ``aiohttp.ClientSession``; the
    client then never closes it. ``auth=(user, password)`` logs in to an app launched
    with ``auth=`` before the first request; its cookie goes only to the app's origin.
    Each file sent is at most ``max_upload_size`` bytes, each reply file fetched at most
    ``max_download_size`` (100 MiB each by default). Every keyword option, typed, with its
    default: :class:`ClientOptions` (``client/core/options.py``).
    """

    def __init__(self, url: str | None = None, **options: Unpack[ClientOptions]) -> None:
        check_options(options, ClientOptions.__optional_keys__, "SpaceClient")
        target = url or default_url()
        hf_token, proxy, verify_ssl = options.get("hf_token"), options.get("proxy"), options.get("verify_ssl", True)
        sleep = options.get("sleep", asyncio.sleep)
        self._timeouts = options.get("timeouts") or Timeouts()
        self._max_upload_size = options.get("max_upload_size", DEFAULT_MAX_UPLOAD_SIZE)
        self._max_download_size = options.get("max_download_size", DEFAULT_MAX_DOWNLOAD_SIZE)
        #: The Space's id when one was given (its ``url`` is then the Hub's ``host``, once known).
        self.space_id = check_space_id(target) if "://" not in target else None
        self._token_given = bool(hf_token)
        # Read only where a found token could go: a Space id, or a Hugging Face URL.
        self._token = hf_token or (saved_token() if self.space_id or is_hugging_face_url(target) else None)
        headers = {"User-Agent": USER_AGENT, **(options.get("headers") or {})}
        self._transport = _transport_for(options, self._token, headers, self._timeouts, self.space_id)
        self._point_at(space_url(target))
        self._gate = (
            SpaceGate(
                self.space_id,
                token=self._token,
                token_given=self._token_given,
                proxy=proxy,
                verify_ssl=verify_ssl,
                timeouts=self._timeouts,
                sleep=sleep,
            )
            if self.space_id
            else None
        )
        # The chat event: as named, else the declared contract's, else derived from /config.
        endpoint, contract = options.get("endpoint"), options.get("contract")
        self._endpoint_choice: str | int | None = (
            endpoint if endpoint is not None else options.get("api_name") or (contract.api_name if contract else None)
        )
        self._declared = contract
        self._options = dict(options.get("options") or {})  # the Space's inputs by label
        self._chat_contract: ChatContract | None = None
        self._max_config_size = options.get("max_config_size", DEFAULT_MAX_CONFIG_SIZE)
        self._max_prompt_chars = options.get("max_prompt_chars", DEFAULT_MAX_PROMPT_CHARS)
        self._new_session_hash = options.get("session_hash_factory") or new_session_hash
        self._settings = RunSettings(
            timeouts=self._timeouts,
            retry=options.get("retry") or RetryPolicy(),
            max_event_size=options.get("max_event_size", _DEFAULT_MAX_EVENT_SIZE),
            sleep=sleep,
            rng=options.get("rng") or random.Random(),
            max_upload_size=self._max_upload_size,
        )
        self._config: SpaceConfig | None = None
        self._target: ChatTarget | None = None
        self._drifts: list[Drift] = []
        self._config_lock = asyncio.Lock()
        self._running: set[ChatRun] = set()
        self._closed = False

    def __repr__(self) -> str:
        # Never show headers: they carry the token.
        return f"SpaceClient(url={self.url!r}, endpoint={self._endpoint_choice!r})"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel every running chat on the Space, then close the session if it is ours.

        Chats still being read end with :class:`ClientClosedError`.
        """
        self._closed = True
        runs = list(self._running)
        if runs:
            await asyncio.gather(*(run.abort() for run in runs), return_exceptions=True)
        await self._transport.close()

    @property
    def drifts(self) -> list[Drift]:
        """Non-breaking differences from the contract found in ``/config`` (after the first chat)."""
        return list(self._drifts)

    async def config(self) -> SpaceConfig:
        """The Space's ``/config``, fetched once and checked against the contract."""
        await self._started()
        return await self._checked_config(Deadline(self._timeouts.total))

    async def _checked_config(self, deadline: Deadline) -> SpaceConfig:
        if self._config is None:
            try:
                async with asyncio.timeout(deadline.remaining()):
                    await self._config_lock.acquire()
            except TimeoutError:
                raise total_timeout(self._timeouts.total, "waiting for /config") from None
            try:
                if self._config is None:
                    config = await self._fetch_config(deadline)
                    chat = derive_contract(config, self._endpoint_choice)
                    # The drift report is against a declared contract: the caller's, or the
                    # Qwen demo's where its event is the one in use.
                    declared = self._declared or (QWEN_CONTRACT if chat.api_name == QWEN_CONTRACT.api_name else None)
                    self._drifts = require_contract(config, declared) if declared is not None else []
                    self._chat_contract = chat
                    for drift in self._drifts:
                        logger.info("qwen-space: %s", drift)
                    self._config = config
            finally:
                self._config_lock.release()
        return self._config

    async def contract(self) -> ChatContract:
        """The chat contract in use (the event named, else the one derived from
        ``/config``), fetching ``/config`` first if needed."""
        await self.config()
        assert self._chat_contract is not None  # derived with the config
        return self._chat_contract

    async def fetch_config(self) -> SpaceConfig:
        """Fetch and parse ``/config`` without the contract check (for ``info``/``contract``)."""
        await self._started()
        return await self._fetch_config(Deadline(self._timeouts.total))

    async def _started(self) -> None:
        async for event in self._starting():
            logger.info("qwen-space: %s", event)

    async def space_info(self) -> SpaceInfo | None:
        """What the Hub says about the Space now (stage, hardware, SDK), without waiting
        or waking it; ``None`` for a client made with a URL. Raises ``HubError``."""
        if self._gate is None:
            return None
        info = await self._gate.read()
        self._use_host()
        return info

    def events(
        self,
        messages: Sequence[Mapping[str, Any]] | str,
        *,
        system: str | None = None,
        options: Mapping[str, object] | None = None,
        files: Sequence[FileLike] = (),
    ) -> AsyncGenerator[ChatEvent | SpaceStarting, None]:
        """Stream the typed events of one chat. The last event is ``Completed`` or ``Failed``.

        The messages are checked before anything is sent; ``system`` and ``options`` (by
        label, over the client's) against the Space's ``/config`` before the join.
        ``SpaceStarting`` events come first while a Space given by id builds, starts or
        wakes up. Thoughts of a reasoning app come as ``ReasoningDelta``, apart from the answer,
        and the reply's files as ``FileReply``, before ``Completed``. ``files`` (paths or
        ``LocalFile``) join the last user message, as its content parts' files do.
        """
        return self._run(self._request(messages, system, files), options).events()

    def _request(self, messages: object, system: str | None, files: Sequence[FileLike]) -> ChatRequest:
        return prepare_request(
            messages,
            system=system,
            max_chars=self._max_prompt_chars,
            files=files,
            max_upload_size=self._max_upload_size,
        )

    def chat(
        self,
        messages: Sequence[Mapping[str, Any]] | str,
        *,
        system: str | None = None,
        options: Mapping[str, object] | None = None,
        allow_empty: bool = False,
        files: Sequence[FileLike] = (),
    ) -> AsyncGenerator[str, None]:
        """Stream the answer as text deltas (thoughts left out); raise the package error if
        the chat fails.

        The messages are checked before anything is sent. Errors raised after text
        was yielded carry it as ``partial_text``. An empty reply (no text, thoughts or
        files) raises :class:`EmptyReplyError` unless ``allow_empty``; a reply of files or
        thoughts alone yields no text. Reply files are left out (see ``events()`` and
        ``complete()``).
        """
        return self._chat(self._run(self._request(messages, system, files), options), allow_empty)

    async def _chat(self, run: ChatRun, allow_empty: bool) -> AsyncGenerator[str, None]:
        check = ReplyCheck(allow_empty=allow_empty, streamed=True)
        # Batches (the events of one network read) keep this the only generator the
        # per-token path crosses: each extra layer costs a resumption per token.
        async with contextlib.aclosing(run.batches()) as batches:
            async for batch in batches:
                for event in batch:
                    if type(event) is TextDelta:
                        if check.shown is None:
                            yield event.text
                    else:
                        check.see(event)

    async def complete(
        self,
        messages: Sequence[Mapping[str, Any]] | str,
        *,
        system: str | None = None,
        options: Mapping[str, object] | None = None,
        allow_empty: bool = False,
        files: Sequence[FileLike] = (),
    ) -> ChatCompletion:
        """The whole reply with its metadata and files; raises the package error on failure,
        and :class:`EmptyReplyError` for an empty reply (no text, thoughts or files) unless
        ``allow_empty``."""
        request = self._request(messages, system, files)
        reply_files: list[ReplyFile] = []
        started = time.monotonic()
        first_text: float | None = None
        ranks: list[int] = []
        logs: list[LogMessage] = []
        dropped_logs = 0
        corrections = 0
        run = self._run(request, options)
        check = ReplyCheck(allow_empty=allow_empty)
        async with contextlib.aclosing(run.events()) as events:
            async for event in events:
                check.see(event)
                if isinstance(event, (TextDelta, Correction)) and first_text is None:
                    first_text = time.monotonic() - started
                if isinstance(event, Correction):
                    corrections += 1
                elif isinstance(event, QueuePosition) and event.rank is not None:
                    ranks.append(event.rank)
                elif isinstance(event, LogMessage):
                    if len(logs) < _MAX_KEPT_LOGS:
                        logs.append(_clipped_log(event))
                    else:
                        dropped_logs += 1
                elif isinstance(event, FileReply):
                    reply_files.append(event.file)
                elif isinstance(event, Completed):
                    assert run.event_id is not None
                    return ChatCompletion(
                        text=event.text,
                        event_id=run.event_id,
                        session_hash=run.session_hash,
                        server_duration=event.server_duration,
                        wall_time=time.monotonic() - started,
                        time_to_first_text=first_text,
                        max_queue_rank=max(ranks) if ranks else None,
                        logs=logs,
                        corrections=corrections,
                        dropped_logs=dropped_logs,
                        reasoning=event.reasoning,
                        files=tuple(reply_files),
                    )
        raise RemoteProtocolError("the chat ended without a completion or a failure")  # pragma: no cover

    async def download(self, file: ReplyFile, *, max_size: int | None = None) -> bytes:
        """The bytes of a reply file, at most ``max_size`` (the client's ``max_download_size``).

        Only a file on the Space's origin is fetched, with the token and headers the Space
        gets; one elsewhere raises :class:`FileElsewhereError` with its URL."""
        return await download(
            self._transport,
            file,
            space=self._base,
            within=self._timeouts.total,
            max_size=self._max_download_size if max_size is None else max_size,
        )

    async def save_file(self, file: ReplyFile, folder: str | os.PathLike[str]) -> Path:
        """Download a reply file into ``folder`` under its sanitised name (``name (1).ext``
        if taken: never outside the folder, never over a file); returns the path."""
        return save_bytes(await self.download(file), file.name, folder)

    # --- The Hub (Space ids only) ----------------------------------------------------

    async def _starting(self, unavailable: SpaceUnavailableError | None = None) -> AsyncGenerator[SpaceStarting, None]:
        """Before the first join, and after the Space served a page instead of its API:
        ask the Hub about the Space and wait while it starts (see ``SpaceGate.ready``)."""
        if self._gate is None:
            if unavailable is not None:
                raise unavailable
            return
        async with contextlib.aclosing(self._gate.ready(unavailable)) as waiting:
            async for event in waiting:
                yield event
        self._use_host()

    def _use_host(self) -> None:
        if self._gate is not None and self._gate.host != self.url and self._config is None:
            self._point_at(self._gate.host)

    def _point_at(self, url: str) -> None:
        """Talk to the Space at ``url`` from now on, with the token if it may go there."""
        try:
            base = URL(url)
        except (ValueError, TypeError) as exc:  # "http://[::1", a port past 65535
            raise UsageError(
                f"{url!r} is not an http(s) URL ({exc}) nor a Space id such as 'Qwen/Qwen2.5-Max-Demo'"
            ) from None
        if base.scheme not in ("http", "https") or not base.host:
            raise UsageError(f"{url!r} is not an http(s) URL nor a Space id such as 'Qwen/Qwen2.5-Max-Demo'")
        self.url, self._base = url, base
        # Current Gradio clients send the token this way: the Spaces proxy reads and
        # strips it, so it never reaches the app's code (gradio#11700). A token found
        # rather than given goes only to Hugging Face hosts.
        self._transport.use_token(token_goes_to(base, given=self._token_given))

    def conversation(self, *, system: str | None = None, options: Mapping[str, object] | None = None) -> Conversation:
        """A chat held across turns: each ``send``/``stream`` adds a turn. Where the app keeps
        its model's history in server-side state (``HistoryMode.CONVERSATION``), every turn
        runs on one session, as one browser tab does; elsewhere each turn sends the turns
        so far on a fresh session."""
        return Conversation(
            self._run, self.contract, system=system, options=options, max_upload_size=self._max_upload_size
        )

    def _run(
        self, request: ChatRequest, options: Mapping[str, object] | None, chat_session: ChatSession | None = None
    ) -> ChatRun:
        # options over the client's; a conversation's turns share one session where the app needs it.
        return ChatRun(
            request,
            chat_session=chat_session,
            options={**self._options, **(options or {})},
            session_hash=chat_session.session_hash if chat_session is not None else self._new_session_hash(),
            transport=self._transport,
            settings=self._settings,
            starting=self._starting,
            resolve=self._chat_target,
            running=self._running,
            is_closed=lambda: self._closed,
        )

    def _route(self, config: SpaceConfig, name: Route) -> URL:
        return self._base.with_path(self._base.path.rstrip("/") + config.release.route(name))

    async def _chat_target(self, deadline: Deadline) -> ChatTarget:
        config = await self._checked_config(deadline)
        if self._target is None:
            # Per client: the config (and so the endpoint and its URLs) is fetched once.
            assert self._chat_contract is not None  # derived with the config
            self._target = ChatTarget(
                config=config,
                contract=self._chat_contract,
                seed_url=self._route(config, "predict"),
                join_url=self._route(config, "join"),
                hidden_error_hint=HIDDEN_ERROR_HINT if self._chat_contract.api_name == QWEN_CONTRACT.api_name else None,
                data_url=self._route(config, "data"),
                cancel_url=self._route(config, "cancel"),
                upload_url=self._route(config, "upload"),
                root=str(self._base),
            )
        return self._target

    async def _fetch_config(self, deadline: Deadline) -> SpaceConfig:
        url = self._base.with_path(self._base.path.rstrip("/") + "/config")
        await self._transport.log_in(self._base, within=deadline.bound(self._timeouts.config), deadline=deadline)
        answer = await self._transport.send(
            "GET",
            url,
            what="/config",
            phase="config",
            within=deadline.bound(self._timeouts.config),
            limit=self._max_config_size,
            deadline=deadline,
            doing="fetching /config",
        )
        if answer.status != 200 or is_web_page(answer.content_type, answer.body):
            raise _config_refused(self._base, answer)
        return parse_config(answer.body)


#: What the aiohttp transport is made from: with ``transport=`` they are that transport's business.
_TRANSPORT_OPTIONS = ("session", "proxy", "headers", "verify_ssl", "max_connections", "auth")


def _transport_for(
    options: ClientOptions, token: str | None, headers: Mapping[str, str], timeouts: Timeouts, space_id: str | None
) -> SpaceTransport:
    """The client's transport: the one given, else aiohttp's made from the options."""
    given = options.get("transport")
    if given is not None and space_id is not None:
        # The Hub has a transport of its own: a test's transport would not keep it off the network.
        raise UsageError(
            f"transport= takes the Space's URL, not the id {space_id!r}: the Hub lookup of an id does not go through it"
        )
    if given is None:
        return Transport(
            session=options.get("session"),
            proxy=options.get("proxy"),
            headers=headers,
            token=token,
            send_token=False,
            verify_ssl=options.get("verify_ssl", True),
            max_connections=options.get("max_connections", 100),
            connect_timeout=timeouts.connect,
            auth=options.get("auth"),
        )
    clash = [name for name in _TRANSPORT_OPTIONS if name in options]
    if clash:
        raise UsageError(
            f"transport= is given, so {', '.join(clash)} would not be used: leave them out "
            "(they configure the aiohttp transport the client makes when none is given)"
        )
    return given


def _config_refused(base: URL, answer: Answer) -> SpaceHTTPError:
    """The error for a refused ``/config``, the first request to a URL: a refusal there
    means a wrong URL, not a changed API, so it does not send the user to
    ``contract check`` (which reads the same ``/config``) as a refused join does."""
    error = error_for_response(answer.status, answer.content_type, answer.body)
    said = _first_line(error.detail)
    if type(error) is ServerError:
        return ServerError(
            f"the Space failed to serve its /config (HTTP {answer.status}: {said or 'no detail'}); "
            "it may be starting or broken: try again later",
            status=answer.status,
            detail=error.detail,
        )
    if answer.status != 404 and type(error) is not RequestRejectedError:
        return error
    # Many servers' 404 text is "404: Not Found": the status is shown once.
    for prefix in (f"{answer.status}:", f"{answer.status} "):
        said = said.removeprefix(prefix).strip()
    return RequestRejectedError(
        f"no Gradio app at {base}: its /config answered HTTP {answer.status}{f' ({said})' if said else ''}; "
        "check the URL: it should be the Space's root, like https://OWNER-NAME.hf.space or the id OWNER/NAME, "
        "not a page or a path under it",
        status=answer.status,
        detail=error.detail,
    )


def _first_line(text: str | None) -> str:
    """One line of an error's detail to show; for a Python traceback, its last line (the exception)."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return ""
    return (lines[-1] if lines[0].startswith("Traceback") else lines[0])[:200]


def _clipped_log(log: LogMessage) -> LogMessage:
    if len(log.message) <= _MAX_LOG_CHARS:
        return log
    return LogMessage(log.level, log.message[:_MAX_LOG_CHARS] + "…", log.title)
