"""One chat of a :class:`SpaceClient`: join, stream and clean-up.

``POST queue/join`` (retried only while no job exists), then ``GET queue/data`` read
as raw chunks into the protocol's ``ChatStream``, yielding each read's events as the
bytes arrive. Early exit (the consumer stops, or its task is cancelled) posts
``/cancel`` for the event and closes the stream.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, MutableSet, Sequence
from dataclasses import dataclass
from typing import Any

from yarl import URL

from ...protocol import (
    ChatCall,
    ChatContract,
    ChatEvent,
    ChatStream,
    Completed,
    Failed,
    FileReply,
    JSONValue,
    QwenSpaceError,
    ReplyFile,
    SpaceConfig,
    build_call,
)
from ...protocol._chat_contract import InputRole
from ...protocol._chat_request import SeedCall, check_files
from ...protocol._chatbot import ChatbotFormat
from ...protocol._files import reply_files
from ...protocol._held import HeldReply
from ...protocol._job import ChatJob
from ...protocol._join import CancelRequest, JoinRequest, parse_join_response
from ...protocol._predict import parse_predict_answer
from ...protocol._quota import advise_quota
from ...protocol._stream import chat_job
from ...protocol.errors import AppError, SpaceHTTPError, SpaceUnavailableError
from ..errors import ClientClosedError, SpaceConnectionError, client_closed, total_timeout
from ..hub.space import SpaceStarting
from .chain import ChainRunner, ChatSession
from .files import DEFAULT_MAX_UPLOAD_SIZE, LocalFile, upload
from .io_errors import retry_after
from .request import ChatRequest
from .seam import Deadline, SpaceTransport, StreamBody
from .timeouts import RetryPolicy, Timeouts

__all__ = ["ChatRun", "ChatTarget", "RunSettings"]

logger = logging.getLogger("qwen_space")

# A close_stream that comes while our event is pending means the server closed the
# session's stream before it saw the join (a race in Gradio's queue); the event's
# messages wait in the session queue for the next stream. Reopening more often than
# this means the server lost the event.
_MAX_REOPENS = 3


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatTarget:
    """Where one chat goes, known once the Space's ``/config`` is."""

    config: SpaceConfig
    contract: ChatContract
    #: ``run/predict``: the non-queued events that seed a fresh session (a ChatInterface's history).
    seed_url: URL
    join_url: URL
    data_url: URL
    cancel_url: URL
    #: ``{api_prefix}/upload``, and the Space's root URL (reply files' URLs are made from it).
    upload_url: URL | None = None
    root: str = ""
    #: Added to an app error the Space hides (``show_error=False``): what it usually means there.
    hidden_error_hint: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RunSettings:
    """What every chat of a client shares besides its transport."""

    timeouts: Timeouts
    retry: RetryPolicy
    max_event_size: int
    sleep: Callable[[float], Awaitable[None]]
    rng: random.Random
    max_upload_size: int = DEFAULT_MAX_UPLOAD_SIZE


#: Before the first join, and after the Space served a page instead of its API: the
#: Hub's word on the Space and the wait while it starts (re-raises the page's error
#: when there is no Hub to ask).
Starting = Callable[[SpaceUnavailableError | None], AsyncGenerator[SpaceStarting, None]]
#: The chat's target from ``/config`` (fetched once per client), within the deadline.
Resolve = Callable[[Deadline], Awaitable[ChatTarget]]


class ChatRun:
    """One chat: join, stream, and clean-up. In ``running`` while it runs, so that
    closing the client can abort it; ``is_closed`` says whether the client closed."""

    def __init__(
        self,
        request: ChatRequest,
        *,
        options: Mapping[str, object],
        session_hash: str,
        transport: SpaceTransport,
        settings: RunSettings,
        starting: Starting,
        resolve: Resolve,
        running: MutableSet[ChatRun],
        is_closed: Callable[[], bool],
        chat_session: ChatSession | None = None,
    ) -> None:
        self._request = request
        #: A conversation's: its component values and session, kept across turns.
        self._chat_session = chat_session
        self._options = options
        self.session_hash = session_hash
        self._transport = transport
        self._settings = settings
        self._starting = starting
        self._resolve = resolve
        self._running = running
        self._is_closed = is_closed
        self.event_id: str | None = None
        # The event a cancel names: the chat's, or the chain step running now.
        self._cancel_fn: int | None = None
        self._target: ChatTarget | None = None
        self._body: StreamBody | None = None
        self._finished = False
        self._aborted = False
        # The request's files once uploaded (a retry after a starting Space does not upload again).
        self._uploaded: _Uploaded | None = None

    async def events(self) -> AsyncGenerator[ChatEvent | SpaceStarting, None]:
        async with contextlib.aclosing(self.batches()) as batches:
            async for batch in batches:
                for event in batch:
                    yield event

    async def batches(self) -> AsyncGenerator[Sequence[ChatEvent | SpaceStarting], None]:
        """The chat's events, one list per network read; clean-up on any exit."""
        self._running.add(self)
        try:
            unavailable: SpaceUnavailableError | None = None
            while True:
                async with contextlib.aclosing(self._starting(unavailable)) as starting:
                    async for event in starting:
                        yield [event]
                # The total timeout runs from here: config, join, queue wait and stream.
                deadline = Deadline(self._settings.timeouts.total)
                try:
                    target, call = await self._start(deadline)
                    break
                except SpaceUnavailableError as error:
                    # A page instead of the API: the Hub may say the Space is starting (once).
                    if unavailable is not None or self._is_closed():
                        raise
                    unavailable = error
                except QwenSpaceError as error:
                    if self._is_closed() and not isinstance(error, ClientClosedError):
                        raise client_closed() from error
                    raise
            contract = target.contract
            # Apps show placeholders and status lines they later replace (in one event or
            # a later step of a chain): the reply is held back one read (HeldReply) so
            # that they never reach the reader. Done here on each read's batch, not by
            # generators of their own: each layer costs every read a resumption.
            held = HeldReply()
            if contract.steps:
                runner = ChainRunner(
                    self, target.config, contract, call, self._chat_session, deadline, root=target.root
                )
                source: AsyncGenerator[Sequence[ChatEvent], None] = runner.run()
                finish: Callable[[Sequence[ChatEvent]], Sequence[ChatEvent]] = held.batch
            else:
                self._cancel_fn = contract.fn_index
                job = chat_job(target.config, contract, self.event_id)
                source = self._stream(target, job, deadline)
                finish = _ReplyEnd(target, job, call, held).batch
            # Nested async generators are not closed by their consumer's exit: close
            # explicitly, so an early exit reaches the clean-up below at once.
            async with contextlib.aclosing(source) as batches:
                async for batch in batches:
                    if out := finish(batch):  # a read that releases nothing is left out
                        yield out
        finally:
            if not self._finished:
                await self.abort()
            await self._close_body()  # the consumer left before the stream's end was read
            self._running.discard(self)

    async def _start(self, deadline: Deadline) -> tuple[ChatTarget, ChatCall]:
        """Resolve, upload, seed and join (a chain joins its steps itself)."""
        target = await self._resolve(deadline)
        contract = target.contract
        request = self._request
        # Checked against /config before anything is sent for this chat.
        uploaded = await self._upload(target, deadline)
        call = build_call(
            contract,
            request.query,
            request.history,
            request.system,
            uploaded.options,
            files=uploaded.files,
            history_files=uploaded.history_files,
            history_reply_files=request.history_reply_files,
        )
        self._target = target
        if contract.steps:
            return target, call
        for seed in call.seeds:
            await self._seed(target.seed_url, seed, deadline)
        join = JoinRequest(
            data=call.data, fn_index=contract.fn_index, trigger_id=contract.trigger_id, session_hash=self.session_hash
        )
        self.event_id = await self._join(target.join_url, join.to_bytes(), deadline)
        return target, call

    async def _upload(self, target: ChatTarget, deadline: Deadline) -> _Uploaded:
        """Upload the request's files (and files given as options) in one request, once,
        after checking the chat can take them: nothing is sent for a text-only chat."""
        if self._uploaded is not None:
            return self._uploaded
        request = self._request
        file_options = {k: v for k, v in self._options.items() if isinstance(v, LocalFile)}
        check_files(target.contract, len(request.files), self._options)
        every = [*request.files, *(f for turn in request.history_files for f in turn), *file_options.values()]
        if not every:
            self._uploaded = _Uploaded((), (), self._options)
            return self._uploaded
        if target.upload_url is None:  # pragma: no cover - every target built by the client has one
            raise RuntimeError("the chat target has no upload URL")
        values: list[dict[str, JSONValue]] = await upload(
            self._transport,
            target.upload_url,
            every,
            within=deadline.bound(self._settings.timeouts.join),
            deadline=deadline,
            max_size=self._settings.max_upload_size,
        )
        rest = iter(values[len(request.files) :])
        history = tuple(tuple(next(rest) for _ in turn) for turn in request.history_files)
        options = {**self._options, **{label: next(rest) for label in file_options}}
        self._uploaded = _Uploaded(tuple(values[: len(request.files)]), history, options)
        return self._uploaded

    async def _seed(self, url: URL, seed: SeedCall, deadline: Deadline) -> None:
        """Run a non-queued event on this chat's fresh session (a ChatInterface's history
        goes into its session State this way, as the browser's own event puts it there)."""
        await self.predict(url, seed.to_bytes(self.session_hash), deadline, what="the history seed")

    async def predict(self, url: URL, body: bytes, deadline: Deadline, *, what: str) -> list[Any]:
        """``run/predict`` on this chat's session: the step's outputs, or the typed error
        (anything but Gradio's ``{"data": [...]}`` is one, raised before any join)."""
        answer = await self._transport.send(
            "POST",
            url,
            what="run/predict",
            phase="join",
            within=deadline.remaining(),
            read=self._settings.timeouts.join,
            body=body,
            deadline=deadline,
            doing=f"running {what}",
        )
        return parse_predict_answer(answer.status, answer.content_type, answer.body, what=what)

    async def predict_step(self, body: bytes, deadline: Deadline, *, what: str) -> list[Any]:
        """A chain's non-queued step (see ``StepHost``)."""
        assert self._target is not None  # set before a chain runs
        return await self.predict(self._target.seed_url, body, deadline, what=what)

    async def join_step(self, join: JoinRequest, deadline: Deadline) -> str:
        """Join one queued step of a chain; from now on a cancel names it."""
        assert self._target is not None  # set before a chain runs
        self._finished = False
        self._cancel_fn = join.fn_index
        self.event_id = await self._join(self._target.join_url, join.to_bytes(), deadline)
        return self.event_id

    def stream_step(self, job: ChatJob, deadline: Deadline) -> AsyncGenerator[list[ChatEvent], None]:
        assert self._target is not None  # set before a chain runs
        return self._stream(self._target, job, deadline)

    def step_done(self) -> None:
        """A chain's step ended: nothing of this chat runs on the Space until the next join."""
        self._finished = True

    async def _join(self, url: URL, body: bytes, deadline: Deadline) -> str:
        """``queue/join``, retried while no job can exist (see ``RetryPolicy``)."""
        settings = self._settings
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._post_join(url, body, deadline)
            except QwenSpaceError as error:
                if not error.retryable or attempt >= settings.retry.attempts:
                    raise
                delay = settings.retry.delay(attempt, settings.rng)
                wait = error.retry_after if isinstance(error, SpaceHTTPError) else None
                if wait is not None:
                    # Jitter, so that clients told the same time do not all come back at once.
                    delay = max(delay, wait * settings.rng.uniform(1.0, 1.2))
                left = deadline.remaining()
                if left is not None and delay >= left:
                    raise
                logger.info("qwen-space: join failed (%s); retry %d in %.2f s", error, attempt, delay)
                await settings.sleep(delay)

    async def _post_join(self, url: URL, body: bytes, deadline: Deadline) -> str:
        try:
            # The join timeout runs from the request's sending (sock_read): a wait for
            # a pooled connection is bounded by the chat's total only.
            answer = await self._transport.send(
                "POST",
                url,
                what="queue/join",
                phase="join",
                within=deadline.remaining(),
                read=self._settings.timeouts.join,
                body=body,
                deadline=deadline,
                doing="joining the queue",
            )
        except SpaceConnectionError:
            raise  # refused before anything was sent: safe to retry
        except QwenSpaceError as error:
            # The request may have reached the Space: joining again could run the job twice.
            raise error.not_retryable() from error.__cause__
        try:
            return parse_join_response(answer.status, answer.content_type, answer.body)
        except SpaceHTTPError as error:
            raise error.with_retry_after(retry_after(answer.headers.get("Retry-After"))) from error.__cause__

    async def _stream(
        self, target: ChatTarget, job: ChatJob, deadline: Deadline
    ) -> AsyncGenerator[list[ChatEvent], None]:
        timeouts = self._settings.timeouts
        url = target.data_url.with_query(session_hash=self.session_hash)
        reopens = 0
        while True:
            failure: QwenSpaceError | None = None
            stream = ChatStream(job, max_event_size=self._settings.max_event_size)
            batch: list[ChatEvent] = []
            try:
                body = self._body = await self._transport.open_stream(url, deadline=deadline, idle=timeouts.idle)
                while chunk := await body.read():
                    batch = stream.feed(chunk)
                    if job.state.is_terminal:
                        # A job the stream broke may still run: batches() cancels it.
                        self._finished = stream.error is None
                        if not self._finished:
                            await self._close_body()
                        elif target.hidden_error_hint is not None:
                            batch = _explain_hidden_errors(batch, target.hidden_error_hint)
                        yield advise_quota(batch, token_sent=self._transport.sends_token)
                        await self._close_body(drain=True)
                        return
                    if batch:
                        yield batch
                        batch = []
                    if deadline.expired:
                        raise total_timeout(timeouts.total, "the reply was streaming")
            except QwenSpaceError as error:
                failure = error
            if self._is_closed():
                failure = client_closed()
            if stream.foreign_messages:
                logger.debug("qwen-space: ignored %d messages of other events", stream.foreign_messages)
            await self._close_body()
            if failure is None and stream.closed_by_server and reopens < _MAX_REOPENS:
                # close_stream while our event is pending: see _MAX_REOPENS.
                reopens += 1
                continue
            # The job may still run on the Space: the clean-up in batches() cancels it.
            yield batch + (job.fail(failure) if failure is not None else stream.end())
            return

    async def _close_body(self, *, drain: bool = False) -> None:
        """Close the stream (``drain``: after the job's end, read what is left of it, so
        that its connection is reused)."""
        body, self._body = self._body, None
        if body is not None:
            await body.aclose(drain=drain)

    async def abort(self) -> None:
        """Close the stream and cancel the job on the Space (if one was started), once."""
        self._finished = True
        # The stream first: its connection goes at once, and a consumer still reading
        # it wakes up (with ClientClosedError when the client is closing).
        await self._close_body()
        if self._aborted:
            return
        self._aborted = True
        target = self._target
        if self.event_id is not None and target is not None:
            fn_index = target.contract.fn_index if self._cancel_fn is None else self._cancel_fn
            body = CancelRequest(self.session_hash, fn_index, self.event_id).to_bytes()
            await self._transport.post_cancel(target.cancel_url, body, within=self._settings.timeouts.cancel)


@dataclass(frozen=True, slots=True)
class _Uploaded:
    """The FileData of a request's files, and the options with their files uploaded."""

    files: tuple[dict[str, JSONValue], ...]
    history_files: tuple[tuple[dict[str, JSONValue], ...], ...]
    options: Mapping[str, object]


class _ReplyEnd:
    """Each read's events held back (HeldReply), with the reply's files (the Chatbot's
    beyond the history, and file outputs) as ``FileReply`` events before ``Completed``:
    a reply's files come after its held text, just before its end."""

    __slots__ = ("_call", "_held", "_job", "_target")

    def __init__(self, target: ChatTarget, job: ChatJob, call: ChatCall, held: HeldReply) -> None:
        self._target, self._job, self._call, self._held = target, job, call, held

    def batch(self, batch: Sequence[ChatEvent]) -> Sequence[ChatEvent]:
        out = self._held.batch(batch)
        job = self._job
        if job.final_outputs is None or not any(type(event) is Completed for event in out):
            return out
        target = self._target
        contract = target.contract
        found = reply_files(
            job.final_outputs,
            contract.output_types,
            chatbot_slot=contract.reply_slot,
            since=_history_length(contract, self._call.data),
            root=target.root,
            api_prefix=target.config.api_prefix,
        )
        return with_files(out, found)


def with_files(batch: Sequence[ChatEvent], files: Sequence[ReplyFile]) -> list[ChatEvent]:
    """``batch`` with a :class:`FileReply` per file just before its ``Completed``."""
    out: list[ChatEvent] = []
    for event in batch:
        if type(event) is Completed:
            out += [FileReply(f) for f in files]
        out.append(event)
    return out


def _history_length(contract: ChatContract, data: Sequence[JSONValue]) -> int:
    """How many Chatbot entries the request put there (the reply's files come after them)."""
    if contract.reply_format is ChatbotFormat.TEXT:
        return 0
    for spec, value in zip(contract.inputs, data, strict=False):
        if spec.role is InputRole.HISTORY and isinstance(value, list):
            return len(value)
    return 0


def _explain_hidden_errors(events: Sequence[ChatEvent], hint: str) -> list[ChatEvent]:
    return [
        Failed(event.error.with_hint(hint))
        if isinstance(event, Failed) and isinstance(event.error, AppError) and event.error.space_message is None
        else event
        for event in events
    ]
