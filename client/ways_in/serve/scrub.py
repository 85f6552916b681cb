"""Secrets kept from callers: whatever the Space sends, the text a caller of ``serve``
receives never holds the server's key, its Hugging Face token, a credential of its
headers or proxy, or the caller's own key."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

from yarl import URL

from ...hub.space import saved_token

__all__ = ["Scrubber", "secrets_of"]

_REDACTED = "[REDACTED]"
# Shorter values are not replaced in what callers receive: they would match ordinary
# words (the OpenAI examples' key is "unused"), and no real token is that short.
_MIN_SECRET = 12
_CREDENTIAL_HEADERS = frozenset({"authorization", "x-hf-authorization", "proxy-authorization", "cookie", "x-api-key"})


class Scrubber:
    """Replaces secrets in the text a caller receives, also when the Space streams a
    secret across several deltas (the end of a delta that could begin one is held back)."""

    __slots__ = ("_held", "_secrets")

    def __init__(self, values: Iterable[str]) -> None:
        # Longest first: a secret containing another is replaced whole.
        self._secrets = tuple(sorted({v for v in values if len(v) >= _MIN_SECRET}, key=len, reverse=True))
        self._held = ""

    def text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, _REDACTED)
        return text

    def delta(self, delta: str) -> str:
        """What of the text so far can be sent now."""
        if not self._secrets:
            return delta
        text = self.text(self._held + delta)
        cut = len(text) - max(_overlap(text, secret) for secret in self._secrets)
        self._held = text[cut:]
        return text[:cut]

    def fresh(self) -> Scrubber:
        """A scrubber of the same secrets for another text (a reply's thoughts)."""
        return Scrubber(self._secrets)

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


def secrets_of(api_key: str | None, options: Mapping[str, Any]) -> tuple[str, ...]:
    """What the server holds that no caller may receive: the key, the Hugging Face token
    (given, or the one the client may find itself), credentials in headers and the proxy URL."""
    values = [api_key, options.get("hf_token"), saved_token()]
    values += [value for name, value in (options.get("headers") or {}).items() if name.lower() in _CREDENTIAL_HEADERS]
    with contextlib.suppress(ValueError, TypeError):
        values.append(URL(options.get("proxy") or "").password)
    # "Bearer <token>": the token is the secret.
    return tuple(value.split()[-1] for value in values if isinstance(value, str) and value.split())
