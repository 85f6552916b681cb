"""The transport: every HTTP exchange a :class:`SpaceClient` has with its Space.

One :class:`Transport` owns the aiohttp sessions (one for chats, one of its own for
``/cancel``, so that a pool full of streams never holds a cancel up), the headers,
the proxy, TLS, the token, which goes only where the client's rule lets it, and the
login cookie of an ``auth=`` app, which goes only to that app's origin. It sends
small requests read whole up to a limit, following redirects itself (only a GET,
only on the Space's origin), opens the event stream, and posts cancels.

Its exceptions become the package's in :func:`~.io_errors.translate`; the seam it
implements is in seam.py. A :class:`Deadline` is started once per chat and
bounds each await, because aiohttp's own limits do not add up to one (``sock_read``
restarts at every byte; a pool wait counts against ``total``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping

import aiohttp
from yarl import URL

from ...protocol import QwenSpaceError
from ...protocol._join import media_type
from ...protocol.errors import RemoteProtocolError
from ..errors import (
    ClientClosedError,
    RedirectRefusedError,
    UsageError,
)
from .io_errors import Where, read_capped, redirect_target, stream_refused
from .login import FORM, login_body, login_cookie, login_url, no_login, same_origin
from .seam import MAX_ANSWER_SIZE, Answer, Deadline, StreamBody, StreamedBody

__all__ = ["MAX_ANSWER_SIZE", "Transport"]

logger = logging.getLogger("qwen_space")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_MAX_REDIRECTS = 5
_CANCEL_CONNECTIONS = 4
#: The most one read of the event stream returns: whatever has arrived, up to this, so
#: that a slow consumer does not make the next read (and the copies made of it) bigger.
_READ_SIZE = 64 * 1024
# After the job's end the stream is read this much further, for this long at most,
# hoping to reuse its connection (see StreamBody.aclose).
_DRAIN_BYTES = 64 * 1024
_DRAIN_SECONDS = 0.1


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

        ``idle`` bounds the Space's silence: aiohttp's ``sock_read`` until the headers
        come, then the stream's one timer (with the chat's ``deadline``), not one per read."""
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
            return _ResponseStream(response, reading, deadline, idle)
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
    """aiohttp's event stream as a :class:`StreamBody`.

    One timer bounds the whole stream: the chat's deadline, and the idle bound counted
    from the start of a read still waiting (only the Space's silence counts, not a slow
    reader). aiohttp's ``sock_read`` would do the latter by cancelling and scheduling a
    timer at every network read, which a paced stream (a token per read) pays for."""

    __slots__ = ("_content", "_deadline", "_idle", "_response", "_since", "_timer", "_where")

    def __init__(self, response: aiohttp.ClientResponse, where: Where, deadline: Deadline, idle: float | None) -> None:
        self._response: aiohttp.ClientResponse | None = response
        self._content = response.content
        self._where = where
        self._deadline = deadline
        self._idle = idle
        # When the read still waiting began; None while no read waits.
        self._since: float | None = None
        if response.connection is not None:
            # sock_read bounded the wait for the headers; our timer takes over from here.
            response.connection.protocol.read_timeout = None  # type: ignore[union-attr]
        self._timer: asyncio.TimerHandle | None = None
        self._arm(time.monotonic())

    def _arm(self, now: float) -> None:
        at = self._deadline.at
        if self._idle is not None:
            idle_at = (now if self._since is None else self._since) + self._idle
            at = idle_at if at is None else min(at, idle_at)
        if at is not None:
            self._timer = asyncio.get_running_loop().call_later(max(0.0, at - now), self._ring)

    def _ring(self) -> None:
        """Past the deadline, or silent for the idle bound during a read: that read wakes
        with a timeout, which translate() tells apart by whether the deadline passed (a
        trickle past the total is caught by the caller's check after each read)."""
        now = time.monotonic()
        since = self._since
        if self._deadline.expired or (since is not None and self._idle is not None and now - since >= self._idle):
            self._timer = None
            self._content.set_exception(TimeoutError())
            return
        self._arm(now)

    async def read(self) -> bytes:
        self._since = time.monotonic()
        try:
            return await self._content.read(_READ_SIZE)
        except Exception as exc:
            raise self._where.translate(exc, "the reply") from exc
        finally:
            self._since = None

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
