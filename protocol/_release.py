"""What a Gradio release does, read once from its ``/config``: the one place that
turns a version and a protocol into behaviour.

* the queue protocol and whether it is supported (sse_v1 to sse_v3: Gradio 4.9 to 6.x);
* whether generator outputs after the first arrive as diffs (sse_v2 on) or whole
  (sse_v1), and whether the stream ends with ``close_stream`` (sse_v3);
* how a Chatbot lays out its value (before 4.38 a chatbot has no ``type`` prop and only
  does tuples; 6.x normalises messages into content parts);
* how a message a request sends is written (4.x refuses ``"metadata": null``; 6.x wants
  content parts);
* where each route is (``/gradio_api`` on 5.x and 6.x, nothing on 4.x).

"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias

from ._chatbot import ChatbotFormat
from ._json import JSONValue
from .errors import ContractMismatchError

__all__ = ["SUPPORTED_PROTOCOLS", "Release", "Route", "release_of"]

#: Every protocol with ``queue/join`` + one ``queue/data`` stream per session.
SUPPORTED_PROTOCOLS = ("sse_v1", "sse_v2", "sse_v2.1", "sse_v3")

Route: TypeAlias = Literal["config", "login", "join", "data", "predict", "cancel", "upload", "file"]

_ROUTES: Mapping[str, str] = {
    "config": "/config",
    "login": "/login",
    "join": "/queue/join",
    "data": "/queue/data",
    "predict": "/run/predict",
    "cancel": "/cancel",
    "upload": "/upload",
    "file": "/file=",
}
# Read before the config (and so the prefix) is known, or served at the root by every release.
_AT_ROOT = frozenset({"config", "login"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """One Gradio server's release, as its ``/config`` declares it."""

    protocol: str
    #: The major Gradio version, 0 if the server did not say.
    gradio_major: int
    #: ``""`` (4.x) or ``"/gradio_api"`` (5.x, 6.x), without a trailing slash.
    api_prefix: str

    @property
    def sends_diffs(self) -> bool:
        """Whether generator outputs after the first arrive as diffs (sse_v2 on);
        sse_v1 sends every value whole."""
        return self.protocol != "sse_v1"

    @property
    def closes_stream(self) -> bool:
        """Whether the server ends a session's stream with ``close_stream`` (sse_v3);
        sse_v1 to sse_v2.1 just end it, which a client reads the same way once nothing
        of its own is pending."""
        return self.protocol == "sse_v3"

    def chatbot_format(self, component_type: str, props: Mapping[str, JSONValue]) -> ChatbotFormat:
        """The value format of a component (see :mod:`._chatbot`): TEXT for anything but a chatbot."""
        if component_type != "chatbot":
            return ChatbotFormat.TEXT
        if self.gradio_major >= 6:
            return ChatbotFormat.NORMALISED
        # Before 4.38 a chatbot has no ``type`` prop: it only does tuples.
        return ChatbotFormat.MESSAGES if props.get("type") == "messages" else ChatbotFormat.TUPLES

    def message(self, role: str, content: JSONValue, chatbot_format: ChatbotFormat) -> JSONValue:
        """One message of a messages-format Chatbot value a request sends: ``content`` is
        the text, or a file entry ``{"file": FileData, "alt_text": ...}``."""
        if chatbot_format is ChatbotFormat.NORMALISED:
            # 6.x validates history against its model: string content is refused there,
            # and a file is a part of its own.
            part: JSONValue = (
                {"type": "text", "text": content}
                if isinstance(content, str)
                else {"type": "file", **content}
                if isinstance(content, dict)
                else {"type": "file", "file": content}
            )
            return {"role": role, "metadata": None, "content": [part], "options": None}
        if self.gradio_major < 5:
            # 4.44's Metadata is not optional: "metadata": null fails validation; absent is fine.
            return {"role": role, "content": content}
        return {"role": role, "metadata": None, "content": content, "options": None}

    def route(self, name: Route) -> str:
        """The path of route ``name`` below the Space's root (``"join"`` is
        ``/gradio_api/queue/join`` on 5.x; ``"file"`` ends with ``=``, the file's path follows)."""
        return _ROUTES[name] if name in _AT_ROOT else self.api_prefix + _ROUTES[name]


def release_of(version: str | None, protocol: str, api_prefix: str) -> Release:
    """The release a ``/config`` declares; :class:`ContractMismatchError` for a protocol
    this client does not speak."""
    if protocol not in SUPPORTED_PROTOCOLS:
        raise ContractMismatchError(
            f"the Space speaks the Gradio queue protocol {protocol!r}; qwen-space supports "
            f"{', '.join(SUPPORTED_PROTOCOLS)} (Gradio 4.9 to 6.x). Use a client for older Gradio versions."
        )
    head = (version or "").split(".", 1)[0]
    # Bounded: a version string is the Space's, and int() of thousands of digits raises.
    major = int(head) if head.isascii() and head.isdigit() and len(head) < 6 else 0
    return Release(protocol=protocol, gradio_major=major, api_prefix=api_prefix)
