"""Logging in to an app launched with ``auth=``: what Gradio's ``/login`` takes and gives.

Gradio 4.44, 5.50 and 6.31 answer the same way (``gradio/routes.py``, ``login``): a
form ``POST`` of ``username`` and ``password`` to ``/login`` at the app's root (not
under ``/gradio_api``) sets two cookies holding one session token,
``access-token-<id>`` (``Secure``) and ``access-token-unsecure-<id>`` (for plain
HTTP), where ``<id>`` is random per server; wrong credentials are HTTP 400
"Incorrect credentials."; an app launched without ``auth=`` redirects to its root.

The transport sends the cookies itself, on the login's origin only (scheme, host and
port): aiohttp's cookie jar ignores ports, so it would hand them to any other app on
the same host, and it keeps a ``Secure`` cookie off plain HTTP, where a loopback or
LAN app runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from http.cookies import CookieError, SimpleCookie
from urllib.parse import urlencode

from yarl import URL

from ...protocol._join import error_for_response
from ...protocol.errors import AuthenticationError, RemoteProtocolError, SpaceHTTPError
from ..errors import UsageError

__all__ = ["FORM", "login_body", "login_cookie", "login_url", "no_login", "same_origin"]

FORM = "application/x-www-form-urlencoded"


def login_url(base: URL) -> URL:
    return base.with_path(base.path.rstrip("/") + "/login").with_query(None)


def login_body(user: str, password: str) -> bytes:
    return urlencode({"username": user, "password": password}).encode()


def same_origin(url: URL, origin: URL | None) -> bool:
    """Same scheme, host and port (a default port written or not)."""
    return origin is not None and (url.scheme, url.host, url.port) == (origin.scheme, origin.host, origin.port)


def login_cookie(
    status: int, content_type: str | None, body: bytes, set_cookies: Iterable[str], *, url: URL
) -> tuple[str, frozenset[str]]:
    """The ``Cookie`` header value of an accepted login, and the cookies' names; a
    refusal raises :class:`AuthenticationError` (or the class of its status)."""
    if status != 200:
        raise login_refused(status, content_type, body, url=url)
    jar: SimpleCookie = SimpleCookie()
    for header in set_cookies:
        try:
            jar.load(header)
        except CookieError:
            continue
    if not jar:
        raise RemoteProtocolError(
            f"{url} accepted the login but set no session cookie: this is not the login of a Gradio app launched "
            "with auth=; check the URL"
        )
    return "; ".join(f"{name}={morsel.value}" for name, morsel in jar.items()), frozenset(jar)


def login_refused(status: int, content_type: str | None, body: bytes, *, url: URL) -> SpaceHTTPError:
    error = error_for_response(status, content_type, body)
    if status in (400, 401, 403):
        said = f": {error.detail[:200]}" if error.detail else ""
        return AuthenticationError(
            f"the app refused the login at {url} (HTTP {status}{said}); check the user name and password "
            "given as auth=",
            status=status,
            detail=error.detail,
        )
    return type(error)(f"the login at {url} failed: {error.message}", status=status, detail=error.detail)


def no_login(url: URL) -> UsageError:
    return UsageError(
        f"{url} redirected the login away: the app was launched without auth= (Gradio does that), so it needs no "
        "login; leave auth= out"
    )
