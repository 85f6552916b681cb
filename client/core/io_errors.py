""":func:`translate` is the one place where the exceptions of an I/O call (aiohttp,
asyncio's timeouts, ssl, a socket's ``OSError``) become the package's; only those
calls are inside the try-blocks that call it, and what it does not know (a bug of
ours, even a ``ValueError`` or ``OSError``) is re-raised as it is, never reported as
a network failure. Beside it, what an answer means before it is read as Gradio's: a
refused event stream, a redirect, a body over its cap, a ``Retry-After``."""

from __future__ import annotations

import email.utils
import errno
import math
import socket
import ssl
import sys
import time
from dataclasses import dataclass

import aiohttp
from yarl import URL

from ...protocol import QwenSpaceError
from ...protocol._join import error_for_response
from ...protocol.errors import SessionNotFoundError, StreamInterruptedError
from ..errors import (
    RedirectRefusedError,
    ResponseTooLargeError,
    SpaceConnectionError,
    SpaceTimeoutError,
    TransportError,
    UsageError,
    missing_from_cassette,
    total_timeout,
)
from .login import same_origin
from .seam import Deadline

__all__ = ["Where", "read_capped", "redirect_target", "retry_after", "stream_refused", "translate"]


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
        return SpaceConnectionError(f"could not connect to {url} ({exc}); check the URL and network")
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
