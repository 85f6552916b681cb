"""What is a secret and how it is redacted, for everything that lets text out: the
credential headers (``Cookie`` as sent, ``Set-Cookie`` as answered), the value each
carries, the password of a proxy URL, the shape of a Hugging Face token, and the
:class:`Redactor` that replaces them. ``serve`` uses it for what its callers receive,
the recorder for what a cassette keeps: one list, so a header one of them hides the
other cannot leak."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping

from yarl import URL

__all__ = [
    "CREDENTIAL_HEADERS",
    "MIN_SECRET",
    "REDACTED",
    "Redactor",
    "credentials_in",
    "is_credential_header",
    "proxy_password",
]

REDACTED = "[REDACTED]"
#: The request headers whose value is a credential (lower case). ``x-api-key`` is how
#: some gateways and OpenAI-style servers take a key; ``cookie`` carries Gradio's
#: ``access-token-*`` login (``auth=``) and the Hub's ``spaces-jwt``.
CREDENTIAL_HEADERS = frozenset({"authorization", "x-hf-authorization", "proxy-authorization", "cookie", "x-api-key"})
#: The answer's header that hands out a credential.
_SET_COOKIE = "set-cookie"
#: Shorter values are not secrets: a flag cookie (``consent=1``) or the OpenAI examples'
#: key (``unused``) would rewrite ordinary words wherever they stand; no real token is
#: that short (the Hub's are 37 characters, Gradio's login cookie 22).
MIN_SECRET = 8
#: A Hugging Face token, replaced in what is published even when nobody gave it to us.
_TOKEN_SHAPE = re.compile(rb"hf_[A-Za-z0-9]{8,}")


def is_credential_header(name: str) -> bool:
    """Whether the header ``name`` (either direction) carries a credential."""
    return name.lower() in CREDENTIAL_HEADERS or name.lower() == _SET_COOKIE


def credentials_in(name: str, value: str) -> list[str]:
    """The secrets the header ``name: value`` carries: each cookie's value (a
    ``Set-Cookie``'s first pair; its attributes are not secret), else the credential
    after the scheme (``Bearer <token>``), else the whole value; none for other headers."""
    lower = name.lower()
    if lower in ("cookie", _SET_COOKIE):
        pairs = value.split(";") if lower == "cookie" else value.split(";")[:1]
        found = [pair.partition("=")[2].strip() for pair in pairs]
    elif lower in CREDENTIAL_HEADERS:
        found = value.split()[-1:]
    else:
        found = []
    return [secret for secret in found if len(secret) >= MIN_SECRET]


def proxy_password(proxy: str | URL | None) -> str | None:
    """The password of a proxy URL (``http://user:password@host``), if it has one."""
    with contextlib.suppress(ValueError, TypeError):
        return URL(proxy or "").password
    return None


class Redactor:
    """Replaces known secrets with :data:`REDACTED`, also when a Space streams one across
    several deltas (the end of a delta that could begin one is held back)."""

    __slots__ = ("_held", "_secrets")

    def __init__(self, values: Iterable[str | None] = (), headers: Mapping[str, str] | None = None) -> None:
        known = {value for value in values if value and len(value) >= MIN_SECRET}
        for name, value in (headers or {}).items():
            known.update(credentials_in(name, value))
        self._secrets: tuple[str, ...] = ()
        self._held = ""
        self._learn(known)

    def _learn(self, values: Iterable[str]) -> None:
        # Longest first: a secret containing another is replaced whole.
        self._secrets = tuple(sorted({*self._secrets, *values}, key=len, reverse=True))

    def learn(self, name: str, value: str) -> None:
        """Adds the credentials the header ``name: value`` carries."""
        if found := credentials_in(name, value):
            self._learn(found)

    def text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def published(self, data: bytes) -> bytes:
        """``data`` fit to publish (a cassette): the known secrets replaced and anything
        shaped like a Hugging Face token too, since a file outlives what we knew."""
        for secret in self._secrets:
            data = data.replace(secret.encode("utf-8", "surrogatepass"), REDACTED.encode())
        return _TOKEN_SHAPE.sub(REDACTED.encode(), data)

    def delta(self, delta: str) -> str:
        """What of the text so far can be sent now."""
        if not self._secrets:
            return delta
        text = self.text(self._held + delta)
        cut = len(text) - max(_overlap(text, secret) for secret in self._secrets)
        self._held = text[cut:]
        return text[:cut]

    def fresh(self, headers: Mapping[str, str] | None = None) -> Redactor:
        """A redactor of the same secrets (and those ``headers`` carry) for another text
        (a request's answer, a reply's thoughts)."""
        return Redactor(self._secrets, headers)

    def rest(self) -> str:
        """The text held back, once the reply has ended."""
        rest, self._held = self._held, ""
        return rest


def _overlap(text: str, secret: str) -> int:
    """The length of the longest end of ``text`` that begins ``secret`` (but is not all of it)."""
    start = max(0, len(text) - len(secret) + 1)
    while (start := text.find(secret[0], start)) != -1:
        if secret.startswith(text[start:]):
            return len(text) - start
        start += 1
    return 0
