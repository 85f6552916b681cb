"""What every request of the client shares: one deadline across phases, redirects
kept on the Space's origin, answers read up to a limit, and ``Retry-After``.

aiohttp's own limits do not add up to a deadline: ``sock_read`` restarts at every
byte (headers that trickle never trip it) and a pool wait counts against
``total``. A :class:`Deadline` is started once per chat and bounds each await with
``asyncio.timeout``, so a chat ends within its total timeout whatever the server does.
"""

from __future__ import annotations

import email.utils
import math
import time

import aiohttp
from yarl import URL

from .errors import RedirectRefusedError, ResponseTooLargeError

__all__ = ["MAX_ANSWER_SIZE", "REDIRECT_STATUSES", "Deadline", "read_capped", "redirect_target", "retry_after"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
#: Join, cancel and error answers are a few hundred bytes; beyond this they are junk.
MAX_ANSWER_SIZE = 8 * 1024 * 1024


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
    if target.origin() != url.origin():
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


async def read_capped(response: aiohttp.ClientResponse, limit: int, what: str) -> bytes:
    """The whole body, or :class:`ResponseTooLargeError` once it passes ``limit`` bytes."""
    if response.content_length is not None and response.content_length > limit:
        raise _too_large(what, limit)
    body = bytearray()
    while chunk := await response.content.read(64 * 1024):
        body += chunk
        if len(body) > limit:
            raise _too_large(what, limit)
    return bytes(body)


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
