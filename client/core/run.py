"""One chat of a :class:`SpaceClient`: join, stream and clean-up.

``POST queue/join`` (retried only while no job exists), then ``GET queue/data`` read
as raw chunks into the protocol's ``ChatStream``, yielding each read's events as the
bytes arrive. Early exit (the consumer stops, or its task is cancelled) posts
``/cancel`` for the event and closes the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Sequence
from typing import TYPE_CHECKING

import aiohttp
from yarl import URL

from ...protocol import (
    ChatbotFormat,
    ChatEvent,
    ChatJob,
    ChatStream,
    Endpoint,
    JoinRequest,
    JSONValue,
    QwenSpaceError,
    RemoteProtocolError,
    SpaceConfig,
    SpaceUnavailableError,
    StreamInterruptedError,
    build_history,
    error_for_response,
)
from ..hub.space import SpaceStarting
from .errors import ClientClosedError, client_closed, total_timeout, translate
from .request import ChatRequest
from .transport import MAX_ANSWER_SIZE, REDIRECT_STATUSES, Deadline, read_capped, redirect_target

if TYPE_CHECKING:
    from .client import SpaceClient

__all__ = ["ChatRun"]

logger = logging.getLogger("qwen_space")

# After the job's end the stream is read this much further, for this long at most,
# hoping to reuse its connection (see ChatRun._finish_response).
_DRAIN_BYTES = 64 * 1024
_DRAIN_SECONDS = 0.1
_READ_SIZE = 64 * 1024
# A close_stream that comes while our event is pending means the server closed the
# session's stream before it saw the join (a race in Gradio's queue); the event's
# messages wait in the session queue for the next stream. Reopening more often than
# this means the server lost the event.
_MAX_REOPENS = 3


class ChatRun:
    """One chat: join, stream, and clean-up. Registered with its client while running."""

    def __init__(self, client: SpaceClient, request: ChatRequest) -> None:
        self._client = client
        self._request = request
        self.session_hash = client._new_session_hash()
        self.event_id: str | None = None
        self._config: SpaceConfig | None = None
        self._endpoint: Endpoint | None = None
        self._response: aiohttp.ClientResponse | None = None
        self._finished = False
        self._aborted = False

    async def events(self) -> AsyncGenerator[ChatEvent | SpaceStarting, None]:
        async with contextlib.aclosing(self.batches()) as batches:
            async for batch in batches:
                for event in batch:
                    yield event

    async def batches(self) -> AsyncGenerator[Sequence[ChatEvent | SpaceStarting], None]:
        """The chat's events, one list per network read; clean-up on any exit."""
        client = self._client
        client._running.add(self)
        try:
            unavailable: SpaceUnavailableError | None = None
            while True:
                async with contextlib.aclosing(client._starting(unavailable)) as starting:
                    async for event in starting:
                        yield [event]
                # The total timeout runs from here: config, join, queue wait and stream.
                deadline = Deadline(client._timeouts.total)
                try:
                    config, endpoint = self._config, self._endpoint = await client._chat_endpoint(deadline)
                    if endpoint.reply_slot is None or endpoint.reply_format is None:  # pragma: no cover
                        raise RemoteProtocolError(f"{client._api_name} has no chatbot or textbox output")
                    join = JoinRequest(
                        data=_inputs(endpoint, self._request),
                        fn_index=endpoint.fn_index,
                        trigger_id=endpoint.trigger_id,
                        session_hash=self.session_hash,
                    )
                    self.event_id = await client._join(config, join, deadline)
                    break
                except SpaceUnavailableError as error:
                    # A page instead of the API: the Hub may say the Space is starting (once).
                    if unavailable is not None or client._closed:
                        raise
                    unavailable = error
                except QwenSpaceError as error:
                    if client._closed and not isinstance(error, ClientClosedError):
                        raise client_closed() from error
                    raise
            job = ChatJob(
                event_id=self.event_id,
                reply_slot=endpoint.reply_slot,
                reply_format=endpoint.reply_format,
                full_values=not config.sends_diffs,
            )
            # Nested async generators are not closed by their consumer's exit: close
            # explicitly, so an early exit reaches the clean-up below at once.
            async with contextlib.aclosing(self._stream(config, job, deadline)) as batches:
                async for batch in batches:
                    yield batch
        finally:
            if not self._finished:
                await self.abort()
            await self._close_response()  # the consumer left before the stream's end was read
            client._running.discard(self)

    async def _stream(
        self, config: SpaceConfig, job: ChatJob, deadline: Deadline
    ) -> AsyncGenerator[list[ChatEvent], None]:
        client = self._client
        timeouts = client._timeouts
        url = client._api_url(config, "/queue/data").with_query(session_hash=self.session_hash)
        reopens = 0
        while True:
            failure: QwenSpaceError | None = None
            stream = ChatStream(job, max_event_size=client._max_event_size)
            batch: list[ChatEvent] = []
            try:
                response = self._response = await self._open(url, deadline)
                content = response.content
                while True:
                    # Whatever has arrived, up to a bound: a slow consumer does not make
                    # the next read (and the copies made of it) any bigger. The bound on
                    # each read holds whatever the parser below it does.
                    async with asyncio.timeout(deadline.bound(timeouts.idle)):
                        chunk = await content.read(_READ_SIZE)
                    if not chunk:
                        break
                    batch = stream.feed(chunk)
                    if job.state.is_terminal:
                        # A job the stream broke may still run: batches() cancels it.
                        self._finished = stream.error is None
                        if not self._finished:
                            await self._close_response()
                        yield batch
                        await self._finish_response()
                        return
                    if batch:
                        yield batch
                        batch = []
                    if deadline.expired:
                        raise total_timeout(timeouts.total, "the reply was streaming")
            except QwenSpaceError as error:
                failure = error
            except Exception as exc:
                failure = translate(
                    exc,
                    phase="stream",
                    url=str(url),
                    timeout=timeouts.idle,
                    deadline=deadline,
                    doing="waiting for the reply",
                )
            if client._closed:
                failure = client_closed()
            if stream.foreign_messages:
                logger.debug("qwen-space: ignored %d messages of other events", stream.foreign_messages)
            await self._close_response()
            if failure is None and stream.closed_by_server and reopens < _MAX_REOPENS:
                # close_stream while our event is pending: see _MAX_REOPENS.
                reopens += 1
                continue
            # The job may still run on the Space: the clean-up in batches() cancels it.
            yield batch + (job.fail(failure) if failure is not None else stream.end())
            return

    async def _open(self, url: URL, deadline: Deadline) -> aiohttp.ClientResponse:
        client = self._client
        try:
            # Headers that trickle in restart sock_read at every byte: the deadline holds.
            async with asyncio.timeout(deadline.remaining()):
                response = await client._http().get(
                    url,
                    headers={**(client._request_headers() or {}), "Accept": "text/event-stream"},
                    proxy=client._proxy,
                    timeout=client._timeout(read=client._timeouts.idle),
                    ssl=client._ssl,
                    allow_redirects=False,
                )
        except QwenSpaceError:
            raise
        except Exception as exc:
            raise translate(
                exc,
                phase="stream",
                url=str(url),
                timeout=client._timeouts.idle,
                deadline=deadline,
                doing="opening the message stream",
            ) from exc
        content_type = response.headers.get("Content-Type", "")
        if response.status in REDIRECT_STATUSES:
            response.close()
            redirect_target(url, response.headers.get("Location"), follow=False, what="queue/data")
        media_type = content_type.split(";", 1)[0].strip().lower()
        if response.status != 200 or media_type != "text/event-stream":
            try:
                async with asyncio.timeout(deadline.bound(client._timeouts.idle)):
                    body = await read_capped(response, MAX_ANSWER_SIZE, "the answer to queue/data")
            except Exception:
                body = b""
            response.close()
            if response.status == 200:
                raise RemoteProtocolError(
                    f"queue/data answered {content_type[:100] or 'no content type'} instead of an event stream"
                )
            error = error_for_response(response.status, content_type, body)
            raise StreamInterruptedError(f"the Space refused the message stream: {error}") from error
        return response

    async def _finish_response(self) -> None:
        """After the job's end: read the little that is left of the stream (Gradio's
        ``close_stream``), so that the connection goes back to the pool for the next
        chat instead of being closed (a new TLS connection costs round trips and CPU)."""
        response, self._response = self._response, None
        if response is None:
            return
        ended = False
        try:
            left = _DRAIN_BYTES
            async with asyncio.timeout(_DRAIN_SECONDS):
                while left > 0 and (chunk := await response.content.readany()):
                    left -= len(chunk)
            ended = left > 0
        except Exception:  # only the connection's reuse is at stake: it is closed below
            pass
        finally:
            if ended:
                response.release()
            else:
                response.close()

    async def _close_response(self) -> None:
        response, self._response = self._response, None
        if response is not None:
            response.close()

    async def abort(self) -> None:
        """Close the stream and cancel the job on the Space (if one was started), once."""
        self._finished = True
        # The stream first: its connection goes at once, and a consumer still reading
        # it wakes up (with ClientClosedError when the client is closing).
        await self._close_response()
        if self._aborted:
            return
        self._aborted = True
        if self.event_id is not None and self._config is not None and self._endpoint is not None:
            await self._client._cancel(self._config, self.session_hash, self._endpoint.fn_index, self.event_id)


def _inputs(endpoint: Endpoint, request: ChatRequest) -> list[JSONValue]:
    """``[query, history, system]`` in the Space's chatbot format."""
    chatbot_format = endpoint.reply_format or ChatbotFormat.TUPLES
    history: JSONValue = [] if chatbot_format is ChatbotFormat.TEXT else build_history(request.history, chatbot_format)
    return [request.query, history, request.system]
