"""The transport: every HTTP exchange a :class:`SpaceClient` has with its Space.

One :class:`Transport` owns the aiohttp sessions (one for chats, one of its own for
``/cancel``, so that a pool full of streams never holds a cancel up), the headers,
the proxy, TLS, the token, which goes only where the client's rule lets it, and the
login cookie of an ``auth=`` app, which goes only to that app's origin. It sends
small requests read whole up to a limit, following redirects itself (only a GET,
only on the Space's origin), opens the event stream, and posts cancels.

:func:`translate` is the one place where the exceptions of an I/O call (aiohttp,
asyncio's timeouts, ssl, a socket's ``OSError``) become the package's; only those
calls are inside the try-blocks that call it, and what it does not know (a bug of
ours, even a ``ValueError`` or ``OSError``) is re-raised as it is, never reported as
a network failure. A :class:`Deadline` is started once per chat and
bounds each await, because aiohttp's own limits do not add up to one (``sock_read``
restarts at every byte; a pool wait counts against ``total``).
"""

from __future__ import annotations

import asyncio
import email.utils
import errno
import logging
import math
import socket
import ssl
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

from ...protocol import QwenSpaceError
from ...protocol._join import error_for_response, media_type
from ...protocol.errors import RemoteProtocolError, SessionNotFoundError, StreamInterruptedError
from ..errors import (
    ClientClosedError,
    RedirectRefusedError,
    ResponseTooLargeError,
    SpaceConnectionError,
    SpaceTimeoutError,
    TransportError,
    UsageError,
    missing_from_cassette,
    total_timeout,
)
from .login import FORM, login_body, login_cookie, login_url, no_login, same_origin

__all__ = [
    "MAX_ANSWER_SIZE",
    "Answer",
    "Deadline",
    "SpaceTransport",
    "StreamBody",
    "StreamedBody",
    "Transport",
    "Where",
    "read_capped",
    "retry_after",
    "stream_refused",
    "translate",
]

logger = logging.getLogger("qwen_space")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Join, cancel and error answers are a few hundred bytes; beyond this they are junk.
MAX_ANSWER_SIZE = 8 * 1024 * 1024
_MAX_REDIRECTS = 5
_CANCEL_CONNECTIONS = 4
#: The most one read of the event stream returns: whatever has arrived, up to this, so
#: that a slow consumer does not make the next read (and the copies made of it) bigger.
_READ_SIZE = 64 * 1024
# After the job's end the stream is read this much further, for this long at most,
# hoping to reuse its connection (see StreamBody.aclose).
_DRAIN_BYTES = 64 * 1024
_DRAIN_SECONDS = 0.1


class Deadline:
    """A point in ``time.monotonic()`` time (the event loop's clock), or none."""

    __slots__ = ("at", "total")

    def __init__(self, total: float | None) -> None:
        self.total = total
        self.at = None if total is None else time.monotonic() + total

    def remaining(self) -> float | None:
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def bound(self, limit: float | None) -> float | None:
        """The smaller of ``limit`` and the time left (``None``: no bound at all)."""
        left = self.remaining()
        if left is None:
            return limit
        return left if limit is None else min(limit, left)

    @property
    def expired(self) -> bool:
        return self.at is not None and time.monotonic() >= self.at


@dataclass(frozen=True, slots=True)
class StreamedBody:
    """A request body sent as it is produced (an upload read from disk), never held
    whole: ``chunks()`` yields its bytes, ``length`` in all, sent as the Content-Length
    (a proxy may refuse a chunked upload). ``chunks`` is called once per attempt.

    Each chunk must be a new ``bytes`` object: vcrpy, recording, keeps the chunks to
    join them into the cassette's body (and so needs no whole body from us).
    """

    chunks: Callable[[], AsyncIterator[bytes]]
    length: int


@dataclass(frozen=True, slots=True)
class Answer:
    """A small answer, read whole."""

    status: int
    content_type: str | None
    headers: CIMultiDictProxy[str]
    body: bytes


class StreamBody(Protocol):
    """An open event stream (``queue/data``): its bytes as they arrive, then its end.

    ``read`` returns the next bytes (``b""`` at the end) and raises only the package's
    errors: a failed read is already translated. ``aclose(drain=True)`` after the job's
    end reads the little that is left (Gradio's ``close_stream``) so that the connection
    is reused; ``aclose()`` closes it at once and wakes a reader. Closing twice is nothing.
    """

    async def read(self) -> bytes: ...

    async def aclose(self, *, drain: bool = False) -> None: ...


class SpaceTransport(Protocol):
    """What a client needs of a transport: every exchange with the Space goes through
    these. :class:`Transport` is aiohttp's; ``qwen_space.client.testing.MemoryTransport``
    answers from memory, for tests. Each raises only the package's errors."""

    @property
    def sends_token(self) -> bool: ...

    def use_token(self, send: bool) -> None: ...

    async def log_in(self, base: URL, *, within: float | None, deadline: Deadline | None = None) -> None: ...

    async def send(
        self,
        method: str,
        url: URL,
        *,
        what: str,
        phase: str,
        within: float | None,
        read: float | None = None,
        limit: int = MAX_ANSWER_SIZE,
        body: bytes | StreamedBody | None = None,
        deadline: Deadline | None = None,
        doing: str = "",
        cancel: bool = False,
        content_type: str = "application/json",
    ) -> Answer: ...

    async def open_stream(self, url: URL, *, deadline: Deadline, idle: float | None) -> StreamBody: ...

    async def post_cancel(self, url: URL, body: bytes, *, within: float | None) -> None: ...

    async def close(self) -> None: ...


class Transport:
    """The HTTP side of one client: sessions, headers, proxy, TLS, token, limits.

    Pass ``session=`` to share an ``aiohttp.ClientSession``: it is then never closed
    here, and the headers are sent with each request instead of as its defaults.
    """

    def __init__(
        self,
        *,
        session: aiohttp.ClientSession | None = None,
        proxy: str | None = None,
        headers: Mapping[str, str],
        token: str | None,
        send_token: bool,
        verify_ssl: bool = True,
        max_connections: int = 100,
        connect_timeout: float | None = None,
        auth: tuple[str, str] | None = None,
    ) -> None:
        self._session = session
        self._own_session = session is None
        self._cancel_session: aiohttp.ClientSession | None = None
        self._proxy = proxy
        self._headers = dict(headers)
        self._token = token
        self._token_header: dict[str, str] = {}
        self.use_token(send_token)
        self._ssl = verify_ssl
        self._max_connections = max_connections
        self._connect_timeout = connect_timeout
        if auth is not None and not (
            isinstance(auth, tuple) and len(auth) == 2 and all(isinstance(part, str) for part in auth)
        ):
            raise UsageError("auth= takes a (user name, password) pair of strings, as Gradio's launch(auth=) does")
        self._auth = auth
        self._login_cookie: str | None = None
        self._login_origin: URL | None = None
        self._login_lock = asyncio.Lock()
        self.closed = False

    def __repr__(self) -> str:
        # Never the credentials or the login cookie.
        return f"<Transport logged_in={self._login_cookie is not None} closed={self.closed}>"

    @property
    def sends_token(self) -> bool:
        """Whether the token goes with the requests (a ZeroGPU quota is then the account's)."""
        return bool(self._token_header)

    async def log_in(self, base: URL, *, within: float | None, deadline: Deadline | None = None) -> None:
        """Log in to an app launched with ``auth=`` (see :mod:`.login`), once; nothing
        without ``auth``. The cookie then goes with every request to ``base``'s origin
        and nowhere else."""
        if self._auth is None:
            return
        async with self._login_lock:  # concurrent first chats log in once
            if self._login_cookie is not None:
                return
            url = login_url(base)
            try:
                answer = await self.send(
                    "POST",
                    url,
                    what="the login",
                    phase="login",
                    within=within,
                    body=login_body(*self._auth),
                    content_type=FORM,
                    deadline=deadline,
                    doing="logging in",
                )
            except RedirectRefusedError as error:
                raise no_login(url) from error
            set_cookies = answer.headers.getall("Set-Cookie", [])
            cookie, names = login_cookie(answer.status, answer.content_type, answer.body, set_cookies, url=url)
            # aiohttp's jar took them too: it would send them to any port of the host.
            for http in (self._session, self._cancel_session):
                if http is not None:
                    http.cookie_jar.clear(lambda morsel: morsel.key in names)
            self._login_cookie, self._login_origin = cookie, base

    def use_token(self, send: bool) -> None:
        """Whether the token goes with the requests from now on (the client decides
        by the Space's current address: a token found, not given, goes only to
        Hugging Face hosts). Current Gradio clients send it as ``x-hf-authorization``:
        the Spaces proxy reads and strips it, so it never reaches the app's code."""
        send = send and self._token is not None
        self._token_header = {"x-hf-authorization": f"Bearer {self._token}"} if send else {}

    async def close(self) -> None:
        """Close the sessions this transport made; requests after this raise :class:`ClientClosedError`."""
        self.closed = True
        if self._cancel_session is not None:
            await self._cancel_session.close()
            self._cancel_session = None
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    # --- sending ------------------------------------------------------------------

    async def send(
        self,
        method: str,
        url: URL,
        *,
        what: str,
        phase: str,
        within: float | None,
        read: float | None = None,
        limit: int = MAX_ANSWER_SIZE,
        body: bytes | StreamedBody | None = None,
        deadline: Deadline | None = None,
        doing: str = "",
        cancel: bool = False,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """One small request, read whole up to ``limit`` bytes, within ``within`` seconds
        (``read``: the longest silence once sent). Raises only the package's errors
        (and whatever :func:`translate` does not know). ``headers`` are this request's
        own, on top of the transport's (the Hub's ``Authorization``).

        Redirects are followed here, not by aiohttp, which would send our headers to
        any origin: only a GET may move, and only on the Space's origin.
        """
        shown = read if read is not None else within
        where = Where(phase=phase, url=str(url), timeout=shown, deadline=deadline, doing=doing)
        bound = asyncio.timeout(within)
        try:
            async with bound:
                return await self._exchange(
                    method,
                    url,
                    what=what,
                    where=where,
                    read=read,
                    limit=limit,
                    body=body,
                    cancel=cancel,
                    content_type=content_type,
                    extra=headers,
                )
        except TimeoutError as exc:
            if not bound.expired():
                raise  # not our bound's: _exchange maps the network's own, so this is a bug
            raise where.translate(exc, f"the answer to {what}") from exc

    async def _exchange(
        self,
        method: str,
        url: URL,
        *,
        what: str,
        where: Where,
        read: float | None,
        limit: int,
        body: bytes | StreamedBody | None,
        cancel: bool,
        content_type: str,
        extra: Mapping[str, str] | None,
    ) -> Answer:
        headers = self._request_headers(url)
        if extra:
            headers.update(extra)
        if body is not None:
            headers = {**headers, "Content-Type": content_type}
        if isinstance(body, StreamedBody):
            headers["Content-Length"] = str(body.length)
        http = self._cancel_http() if cancel else self._http()
        for _ in range(_MAX_REDIRECTS + 1):
            try:
                response = await http.request(
                    method,
                    url,
                    data=body.chunks() if isinstance(body, StreamedBody) else body,
                    headers=headers,
                    proxy=self._proxy,
                    timeout=self._timeout(read),
                    ssl=self._ssl,
                    allow_redirects=False,
                )
            except Exception as exc:
                raise where.translate(exc, what, sending=True) from exc
            try:
                if response.status in REDIRECT_STATUSES:
                    url = redirect_target(url, response.headers.get("Location"), follow=method == "GET", what=what)
                    where = where.moved(url)
                    continue
                content = await read_capped(response, limit, f"the answer to {what}", where=where)
                return Answer(response.status, response.headers.get("Content-Type"), response.headers, content)
            finally:
                response.release()
        raise RedirectRefusedError(f"the Space redirected {what} more than {_MAX_REDIRECTS} times", location=str(url))

    async def open_stream(self, url: URL, *, deadline: Deadline, idle: float | None) -> StreamBody:
        """``GET`` an event stream; a refusal or anything but ``text/event-stream`` is an error.

        ``idle`` is aiohttp's ``sock_read``: it restarts at every byte and pauses while
        the reader is slow, so only the Space's silence counts. The chat's ``deadline``
        is one timer for the whole stream, not one per read."""
        where = Where(phase="stream", url=str(url), timeout=idle, deadline=deadline, doing="opening the message stream")
        headers = {**self._request_headers(url), "Accept": "text/event-stream"}
        http = self._http()
        # Headers that trickle in restart sock_read at every byte: the deadline holds.
        bound = asyncio.timeout(deadline.remaining())
        try:
            async with bound:
                try:
                    response = await http.get(
                        url,
                        headers=headers,
                        proxy=self._proxy,
                        timeout=self._timeout(idle),
                        ssl=self._ssl,
                        allow_redirects=False,
                    )
                except Exception as exc:
                    raise where.translate(exc, "the message stream (queue/data)", sending=True) from exc
        except TimeoutError as exc:
            if not bound.expired():
                raise
            raise where.translate(exc, "the message stream (queue/data)") from exc
        content_type = response.headers.get("Content-Type", "")
        if response.status in REDIRECT_STATUSES:
            response.close()
            redirect_target(url, response.headers.get("Location"), follow=False, what="queue/data")
        if response.status == 200 and media_type(content_type) == "text/event-stream":
            reading = Where(
                phase="stream", url=str(url), timeout=idle, deadline=deadline, doing="waiting for the reply"
            )
            return _ResponseStream(response, reading, deadline)
        try:
            body = await self._refusal_body(response, where, deadline.bound(idle))
        finally:
            response.close()
        if response.status == 200:
            raise RemoteProtocolError(
                f"queue/data answered {content_type[:100] or 'no content type'} instead of an event stream"
            )
        raise stream_refused(response.status, content_type, body, response.headers.get("Retry-After"))

    @staticmethod
    async def _refusal_body(response: aiohttp.ClientResponse, where: Where, within: float | None) -> bytes:
        """The text of a refused stream, if it comes: the status is the error, its text a courtesy."""
        bound = asyncio.timeout(within)
        try:
            async with bound:
                return await read_capped(response, MAX_ANSWER_SIZE, "the answer to queue/data", where=where)
        except QwenSpaceError:
            return b""
        except TimeoutError:
            if not bound.expired():
                raise
            return b""

    async def post_cancel(self, url: URL, body: bytes, *, within: float | None) -> None:
        """Best effort (the closed stream cancels the job too): failures are logged, not raised."""
        try:
            answer = await self.send("POST", url, what="/cancel", phase="cancel", within=within, body=body, cancel=True)
            logger.debug("qwen-space: cancel answered %d", answer.status)
        except QwenSpaceError as error:
            logger.debug("qwen-space: cancel failed: %s", error)

    # --- sessions -----------------------------------------------------------------

    def _http(self) -> aiohttp.ClientSession:
        if self.closed:
            raise ClientClosedError("this SpaceClient is closed; create a new one")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers=self._headers,
                connector=aiohttp.TCPConnector(limit=self._max_connections, ssl=self._ssl),
                # The Space's cookies (replica stickiness) must be kept even for IP hosts.
                cookie_jar=aiohttp.CookieJar(unsafe=True),
            )
        return self._session

    def _cancel_http(self) -> aiohttp.ClientSession:
        """A session of its own for ``/cancel`` (sharing the cookies), usable while closing."""
        if self._cancel_session is None:
            jar = self._session.cookie_jar if self._session is not None else aiohttp.CookieJar(unsafe=True)
            self._cancel_session = aiohttp.ClientSession(
                headers=self._headers,
                connector=aiohttp.TCPConnector(limit=_CANCEL_CONNECTIONS, ssl=self._ssl),
                cookie_jar=jar,
            )
        return self._cancel_session

    def _request_headers(self, url: URL) -> dict[str, str]:
        # Our sessions carry the headers as defaults; a caller's session has its own.
        # The token is per request: where it may go depends on the Space's address.
        headers = dict(self._token_header) if self._own_session else {**self._headers, **self._token_header}
        if self._login_cookie is not None and same_origin(url, self._login_origin):
            headers["Cookie"] = self._login_cookie
        return headers

    def _timeout(self, read: float | None) -> aiohttp.ClientTimeout:
        # No total: a wait for a pooled connection is not the Space being slow. The
        # caller bounds the whole request with its Deadline.
        return aiohttp.ClientTimeout(total=None, sock_connect=self._connect_timeout, sock_read=read)


class _ResponseStream:
    """aiohttp's event stream as a :class:`StreamBody`."""

    __slots__ = ("_content", "_response", "_timer", "_where")

    def __init__(self, response: aiohttp.ClientResponse, where: Where, deadline: Deadline) -> None:
        self._response: aiohttp.ClientResponse | None = response
        self._content = response.content
        self._where = where
        left = deadline.remaining()
        # Silence past the total: the read wakes with a timeout that translate() knows
        # for the total (the deadline has passed). A trickle is caught by the caller's
        # check of the deadline after each read.
        self._timer = (
            None
            if left is None
            else asyncio.get_running_loop().call_later(left, self._content.set_exception, TimeoutError())
        )

    async def read(self) -> bytes:
        try:
            return await self._content.read(_READ_SIZE)
        except Exception as exc:
            raise self._where.translate(exc, "the reply") from exc

    async def aclose(self, *, drain: bool = False) -> None:
        response, self._response = self._response, None
        if self._timer is not None:
            self._timer.cancel()
        if response is None:
            return
        if not (drain and await _drained(response)):
            response.close()
            return
        response.release()


async def _drained(response: aiohttp.ClientResponse) -> bool:
    """Whether the stream ended within a little more bytes and time (the connection
    then goes back to the pool for the next chat: a new TLS connection costs round
    trips and CPU)."""
    left = _DRAIN_BYTES
    try:
        async with asyncio.timeout(_DRAIN_SECONDS):
            while left > 0 and (chunk := await response.content.readany()):
                left -= len(chunk)
    except Exception:  # only the connection's reuse is at stake: the caller closes it
        return False
    return left > 0


@dataclass(frozen=True, slots=True)
class Where:
    """What a request was doing, for the error if its I/O fails."""

    phase: str
    url: str
    timeout: float | None = None
    deadline: Deadline | None = None
    doing: str = ""

    def moved(self, url: URL) -> Where:
        return Where(self.phase, str(url), self.timeout, self.deadline, self.doing)

    def translate(self, exc: BaseException, what: str, *, sending: bool = False) -> QwenSpaceError:
        return translate(
            exc,
            phase=self.phase,
            url=self.url,
            timeout=self.timeout,
            deadline=self.deadline,
            doing=self.doing,
            what=what,
            sending=sending,
        )


#: The errno values of a network that failed under a socket (aiohttp wraps most of them).
_NETWORK_ERRNOS = frozenset(
    {errno.ENETDOWN, errno.ENETUNREACH, errno.ENETRESET, errno.EHOSTDOWN, errno.EHOSTUNREACH, errno.ETIMEDOUT}
)


def _is_network_os_error(exc: BaseException) -> bool:
    """An ``OSError`` a socket raises, not one our code (or a file) does."""
    return isinstance(exc, (ConnectionError, socket.gaierror, ssl.SSLError)) or (
        isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS
    )


def translate(
    exc: BaseException,
    *,
    phase: str,
    url: str,
    timeout: float | None = None,
    deadline: Deadline | None = None,
    doing: str = "",
    what: str = "",
    sending: bool = False,
) -> QwenSpaceError:
    """The package error for an exception of an I/O call (aiohttp, asyncio's timeout,
    ssl, a socket's ``OSError``) met during ``phase`` while reading ``what``.

    Callers wrap only the I/O call itself, so nothing of ours reaches here from
    them; and what this function does not know is re-raised as it is (httpx's rule:
    map what you know, re-raise the rest), a bug is never reported as a network
    failure. ``sending``: the exception came from building and sending the request,
    where aiohttp's ``ValueError`` means a URL or header it cannot encode.
    A timeout after the chat's ``deadline`` passed is the total timeout, met while
    ``doing`` what it says.
    """
    if isinstance(exc, QwenSpaceError):
        return exc
    if isinstance(exc, TimeoutError) and deadline is not None and deadline.expired:
        return total_timeout(deadline.total, doing or phase)
    vcr_errors = sys.modules.get("vcr.errors")  # never imported here: only a cassette in use raises these
    if vcr_errors is not None and isinstance(exc, vcr_errors.CannotOverwriteExistingCassetteException):
        return missing_from_cassette(exc)
    thing = what or phase
    if isinstance(exc, (TimeoutError, aiohttp.ServerTimeoutError)):
        return _timed_out(phase, url, thing, timeout)
    network = isinstance(exc, aiohttp.ClientError) or _is_network_os_error(exc)
    if network and phase == "stream":
        return StreamInterruptedError(
            f"the connection to the Space broke while the reply was streaming ({exc}); "
            "Gradio cannot resume a stream: send the request again"
        )
    if isinstance(exc, aiohttp.ClientPayloadError):
        return TransportError(f"the connection to the Space broke while reading {thing} during {phase} ({exc})")
    if isinstance(exc, (aiohttp.ClientConnectorCertificateError, ssl.SSLError)):
        return SpaceConnectionError(
            f"TLS verification failed for {url} ({exc}); check the URL or your CA bundle "
            "(verify_ssl=False disables verification, at your own risk)"
        )
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return SpaceConnectionError(f"could not connect through the proxy ({exc}); check the proxy URL")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return SpaceConnectionError(f"could not connect to the Space at {url} ({exc}); check the URL and network")
    if isinstance(exc, aiohttp.InvalidURL) or (sending and isinstance(exc, (ValueError, UnicodeError))):
        # aiohttp raises these while building a request from a malformed URL or a header
        # it cannot encode: the caller's input.
        return UsageError(f"the request to {url} could not be built ({exc}); check the URL and headers")
    if network:
        return TransportError(
            f"the request to {url} failed during {phase} while reading {thing} ({type(exc).__name__}: {exc})"
        )
    raise exc


def _timed_out(phase: str, url: str, thing: str, timeout: float | None) -> SpaceTimeoutError:
    limit = f" ({timeout:g} s)" if timeout is not None else ""
    if phase == "stream":
        return SpaceTimeoutError(
            f"the Space sent nothing, not even a heartbeat, for longer than the idle timeout{limit}: "
            "the connection is dead or the Space hung; send the request again",
            phase="idle",
        )
    return SpaceTimeoutError(
        f"the Space did not send {thing} ({phase} at {url}) in time{limit}; it may be overloaded or asleep: "
        "try again later or raise the timeout",
        phase=phase,
    )


def stream_refused(status: int, content_type: str, body: bytes, retry_after_header: str | None) -> QwenSpaceError:
    """The error for a ``queue/data`` answered with an HTTP error status.

    A refusal for the request itself (401, 403, 429, any 4xx) is that refusal, with
    its class, not a broken stream: sending again as it is would only be refused
    again. Gradio answers 404 when it holds nothing for the session. A 5xx is the
    Space failing under the stream: it may serve the next one.
    """
    error = error_for_response(status, content_type, body)
    if status == 404:
        return SessionNotFoundError(
            f"the Space does not know this session at queue/data (HTTP 404: {error.detail or 'no detail'}); "
            "it restarted or dropped the job: send the request again"
        )
    if 400 <= status < 500:
        return type(error)(
            f"queue/data: {error.message}",
            status=status,
            detail=error.detail,
            retry_after=retry_after(retry_after_header),
        )
    return StreamInterruptedError(f"the Space refused the message stream: {error}")


def redirect_target(url: URL, location: str | None, *, follow: bool, what: str) -> URL:
    """Where a redirect of ``url`` leads, if this client may follow it.

    Only same-origin redirects are followed, and only where ``follow`` says Gradio
    legitimately redirects (``/config`` behind a proxy): anything else raises
    :class:`RedirectRefusedError` naming the target, so that no credential is sent there.
    """
    if not location:
        raise RedirectRefusedError(f"the Space redirected {what} without saying where to", location="")
    try:
        target = url.join(URL(location))
    except ValueError:
        raise RedirectRefusedError(
            f"the Space redirected {what} to {location[:200]!r}, which is not a URL", location=location[:200]
        ) from None
    if target.scheme not in ("http", "https") or not target.host:
        raise RedirectRefusedError(
            f"the Space redirected {what} to {location[:200]!r}, which is not a web address; qwen-space does not "
            "follow it: check the URL of the Space",
            location=location[:200],
        )
    if not same_origin(target, url):
        raise RedirectRefusedError(
            f"the Space redirected {what} to {target.origin()}, another origin than {url.origin()}; qwen-space does "
            "not follow it, so that your token and headers stay where you sent them: use that URL directly if you "
            "trust it",
            location=str(target),
        )
    if not follow:
        raise RedirectRefusedError(
            f"the Space redirected {what} to {target} (Gradio never redirects it): a proxy in front of the Space "
            "is misconfigured, or the URL is not a Gradio app",
            location=str(target),
        )
    return target


async def read_capped(response: aiohttp.ClientResponse, limit: int, what: str, *, where: Where | None = None) -> bytes:
    """The whole body, or :class:`ResponseTooLargeError` once it passes ``limit`` bytes.
    A failed read is translated for ``where`` (the phase and URL of the request)."""
    if response.content_length is not None and response.content_length > limit:
        raise _too_large(what, limit)
    body = bytearray()
    while True:
        try:
            chunk = await response.content.read(64 * 1024)
        except Exception as exc:
            place = where or Where(phase="reading", url=str(response.url))
            raise place.translate(exc, what) from exc
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > limit:
            raise _too_large(what, limit)


def _too_large(what: str, limit: int) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        f"{what} is larger than {limit} bytes; this is not a Gradio app's answer "
        "(or raise the client's limit for it if it really is)",
        limit=limit,
    )


def retry_after(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
