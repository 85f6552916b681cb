"""What a cassette keeps of a request and how a replayed request finds its recording.

Requests match on method, path, query and body, with the random session hash
normalised to ``SESSION`` (in the ``queue/data`` query and in JSON bodies) and an
upload's random multipart boundary to one placeholder, so a replay with fresh ones
finds its interaction. :class:`Scrubber` removes the credential headers (the list of
``qwen_space.client.core.secrets``, which ``serve`` scrubs by too) and redacts the
credentials they carried, the tokens given and anything shaped like a Hugging Face
token from every URL, header, status line and body; an ``auth=`` login is kept with
``[REDACTED]`` user name, password and cookie values, so that any login matches it.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from ..core.login import FORM
from ..core.secrets import REDACTED, Redactor, is_credential_header

if TYPE_CHECKING:
    # vcrpy is imported when a cassette is used, not with the package: it is most of
    # the import time of qwen_space.client, and most users never touch a cassette.
    from vcr.request import Request


__all__ = ["BOUNDARY_PLACEHOLDER", "SESSION_PLACEHOLDER", "Scrubber", "body_matcher", "multipart_boundary"]

SESSION_PLACEHOLDER = "SESSION"
_SESSION_IN_BODY = re.compile(rb'("session_hash"\s*:\s*")[^"]*(")')
# A multipart body's first line: ``--`` and its boundary (RFC 2046's characters, no space).
_MULTIPART_START = re.compile(rb"--([0-9A-Za-z'()+_,\-./:=?]{1,70})\r\n")
#: The boundary a cassette holds for every multipart body (an upload's is random each time).
BOUNDARY_PLACEHOLDER = "qwen-space-BOUNDARY"
# Besides the credential headers (client/core/secrets.py), which are never written.
_DROP_RESPONSE_HEADERS = {"date", "server", "x-request-id", "x-proxied-host", "link"}


class Scrubber:
    """Removes credentials from what vcrpy is about to write.

    The credentials a request carries are learnt from its headers before they are
    dropped, so a Space that echoes them, in a header or a body, an hour later,
    has them redacted too: tokens can be any string, not only ``hf_...``.
    """

    def __init__(self, known: Iterable[str | None] = ()) -> None:
        self._redactor = Redactor(known)
        self._login = False

    def _redact_headers(self, headers: Mapping[str, Any], drop: Container[str]) -> dict[str, Any]:
        for name, values in headers.items():
            for value in values if isinstance(values, list) else [values]:
                self._redactor.learn(name, str(value))
        return {
            name: [self._text(str(v)) for v in values] if isinstance(values, list) else self._text(values)
            for name, values in headers.items()
            if not is_credential_header(name) and name.lower() not in drop
        }

    def _text(self, text: str) -> str:
        return self._redactor.published(text.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")

    def request(self, request: Request) -> Request:
        request.headers = self._redact_headers(request.headers, ())
        request.uri = self._text(request.uri)
        # vcrpy filters a request, then at once its response: this tells response() whose.
        self._login = _is_login(request)
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        if isinstance(body, bytes):
            request.body = self._redactor.published(_normal_body(request, body))
            boundary = multipart_boundary(body)
            if boundary is not None:  # the header names the boundary the body no longer holds
                request.headers = {
                    name: _with_placeholder(values, boundary) if name.lower() == "content-type" else values
                    for name, values in request.headers.items()
                }
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        cookies = [
            _placeholder_cookie(str(value))
            for name, values in response["headers"].items()
            if name.lower() == "set-cookie"
            for value in (values if isinstance(values, list) else [values])
        ]
        response["headers"] = self._redact_headers(response["headers"], _DROP_RESPONSE_HEADERS)
        if self._login and cookies:
            # The cookies' names without their values, so that a replayed login is accepted.
            response["headers"]["Set-Cookie"] = cookies
        status = response.get("status")
        if isinstance(status, dict) and isinstance(status.get("message"), str):
            status["message"] = self._text(status["message"])
        body = response.get("body", {}).get("string")
        if isinstance(body, str):
            body = body.encode("utf-8")
        if isinstance(body, bytes):
            response["body"]["string"] = self._redactor.published(body)
        return response


def _without_session_hash(body: bytes) -> bytes:
    return _SESSION_IN_BODY.sub(rb"\g<1>" + SESSION_PLACEHOLDER.encode() + rb"\g<2>", body)


def multipart_boundary(body: bytes) -> bytes | None:
    """The boundary of a whole multipart body (its first line names it, its last line
    closes it), else ``None``."""
    match = _MULTIPART_START.match(body)
    if match is None or not body.endswith(b"--" + match.group(1) + b"--\r\n"):
        return None
    return match.group(1)


def _without_boundary(body: bytes) -> bytes:
    """A multipart body with its boundary replaced by the placeholder: an upload draws a
    new random one each time, so a replay would never match the recording otherwise.
    The boundary occurs nowhere in the parts (that is what makes it a boundary)."""
    boundary = multipart_boundary(body)
    if boundary is None:
        return body
    return body.replace(b"--" + boundary, b"--" + BOUNDARY_PLACEHOLDER.encode())


def _with_placeholder(values: Any, boundary: bytes) -> Any:
    placeholder, text = BOUNDARY_PLACEHOLDER, boundary.decode("ascii")
    if isinstance(values, list):
        return [str(v).replace(text, placeholder) for v in values]
    return str(values).replace(text, placeholder)


def _is_login(request: Request) -> bool:
    # Gradio's form login (client/core/login.py), at the app's root under any root path;
    # the form, since an app's own endpoint may be named "login" (and posts JSON).
    return (
        request.method == "POST"
        and urlsplit(request.uri).path.endswith("/login")
        and str(request.headers.get("Content-Type", "")).startswith(FORM)
    )


def _normal_body(request: Request, body: bytes) -> bytes:
    """``body`` as a cassette holds it: the session hash replaced, and a login form's
    user name and password. A published cassette names no account, and a replay
    with any credentials (or none: then there is no login) finds the recorded login."""
    if not _is_login(request):
        return _without_session_hash(_without_boundary(body))
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return urlencode([(k, REDACTED if k in ("username", "password") else v) for k, v in pairs]).encode()


def _placeholder_cookie(header: str) -> str:
    """A ``Set-Cookie`` with its value (the session token) replaced, its name and attributes kept."""
    pair, semicolon, attributes = header.partition(";")
    return f"{pair.partition('=')[0].strip()}={REDACTED}{semicolon}{attributes}"


def body_matcher(r1: Request, r2: Request) -> None:
    def normal(request: Request) -> bytes:
        body = request.body
        if body is None:
            return b""
        return _normal_body(request, body.encode("utf-8") if isinstance(body, str) else bytes(body))

    if normal(r1) != normal(r2):
        raise AssertionError(f"bodies differ: {normal(r1)[:200]!r} != {normal(r2)[:200]!r}")
