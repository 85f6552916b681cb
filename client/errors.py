"""Client-side errors, rooted in :class:`qwen_space.protocol.QwenSpaceError`.

The protocol layer owns everything the Space can say; this module adds what only a
client meets: the network, time, and the caller's own input. It knows no I/O library:
``qwen_space.client.core.transport.translate`` is where aiohttp, asyncio and OS
exceptions become these.
"""

from __future__ import annotations

# Every error a client user can meet is importable from here: the protocol's too.
from ..protocol.errors import (
    AmbiguousChatError,
    AppError,
    AuthenticationError,
    ChatRequestError,
    ContractMismatchError,
    FileTooLargeError,
    GPUQuotaError,
    HistoryUnreachableError,
    InvalidDataURLError,
    JobCancelledError,
    LocalProtocolError,
    ProtocolError,
    QueueFullError,
    QwenSpaceError,
    RateLimitedError,
    RemoteProtocolError,
    RequestRejectedError,
    SeedRefusedError,
    ServerError,
    SessionNotFoundError,
    SpaceHTTPError,
    SpaceUnavailableError,
    StreamError,
    StreamInterruptedError,
    UsageError,
)

__all__ = [
    "AmbiguousChatError",
    "AppError",
    "AuthenticationError",
    "CassetteError",
    "ChatRequestError",
    "ClientClosedError",
    "ContractMismatchError",
    "EmptyReplyError",
    "FileElsewhereError",
    "FileTooLargeError",
    "GPUQuotaError",
    "HistoryUnreachableError",
    "HubError",
    "InvalidDataURLError",
    "InvalidMessagesError",
    "JobCancelledError",
    "LocalProtocolError",
    "ProtocolError",
    "QueueFullError",
    "QwenSpaceError",
    "RateLimitedError",
    "RedirectRefusedError",
    "RemoteProtocolError",
    "ReplyRewrittenError",
    "RequestRejectedError",
    "ResponseTooLargeError",
    "SeedRefusedError",
    "ServerError",
    "SessionNotFoundError",
    "SpaceConnectionError",
    "SpaceHTTPError",
    "SpaceNotFoundError",
    "SpaceNotRunningError",
    "SpaceTimeoutError",
    "SpaceUnavailableError",
    "StreamError",
    "StreamInterruptedError",
    "TransportError",
    "UsageError",
    "client_closed",
    "empty_reply",
    "missing_from_cassette",
    "total_timeout",
]


class TransportError(QwenSpaceError):
    """The network between this client and the Space failed."""


class SpaceConnectionError(TransportError):
    """No connection to the Space (refused, DNS, proxy, TLS). Nothing was sent: retry is safe."""

    retryable = True


class SpaceTimeoutError(TransportError):
    """A deadline passed: ``phase`` says which (connect, config, join, idle, total, cancel)."""

    def __init__(self, message: str, *, phase: str, partial_text: str = "") -> None:
        super().__init__(message, partial_text=partial_text)
        self.phase = phase


class ClientClosedError(QwenSpaceError):
    """The :class:`SpaceClient` was closed (``aclose()`` or the end of its ``async with``)
    before or while this chat ran; its job was cancelled on the Space."""


class RedirectRefusedError(QwenSpaceError):
    """The Space answered with a redirect this client does not follow: to another origin
    (scheme, host or port), where the token and headers must not go, or on a request
    Gradio never redirects. ``location`` is the target it named."""

    def __init__(self, message: str, *, location: str) -> None:
        super().__init__(message)
        self.location = location


class FileElsewhereError(RedirectRefusedError):
    """A reply file is on another origin than the Space: qwen-space does not fetch it,
    so that the token and headers stay with the Space (the rule that refuses a redirect
    there). ``url`` (and ``location``) is the file's URL."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message, location=url)
        self.url = url


class ResponseTooLargeError(RemoteProtocolError):
    """An answer was longer than the client's limit for it (``limit`` bytes)."""

    def __init__(self, message: str, *, limit: int) -> None:
        super().__init__(message)
        self.limit = limit


class EmptyReplyError(QwenSpaceError):
    """The Space completed the job with an empty reply.

    An empty answer is never what the caller asked for: the model failed quietly, or
    the reply is not where this client reads it. ``allow_empty=True`` accepts it.
    """

    retryable = True


class InvalidMessagesError(UsageError):
    """The messages (or the system prompt) given to the client cannot become a chat
    request. Raised before anything is sent; fix the input."""


class CassetteError(QwenSpaceError):
    """A cassette is missing, malformed or unsafe, or a request is not in it."""


class ReplyRewrittenError(QwenSpaceError):
    """The Space rewrote text that :meth:`SpaceClient.chat` had already yielded.

    A stream of plain strings cannot take text back, so ``chat()`` reads the reply to
    its end and raises this instead of letting the caller hold a wrong answer.
    ``final_text`` is the Space's complete reply; ``partial_text`` what was yielded.
    Use :meth:`SpaceClient.events`, whose ``Correction`` events say what to replace.
    """

    def __init__(self, message: str, *, final_text: str, partial_text: str) -> None:
        super().__init__(message, partial_text=partial_text)
        self.final_text = final_text


class HubError(QwenSpaceError):
    """The Hub refused a request or could not be reached (``status`` is ``None`` then)."""

    def __init__(self, message: str, *, status: int | None) -> None:
        super().__init__(message)
        self.status = status

    @property
    def unreachable(self) -> bool:
        """No usable answer (no connection, a server error, rate limiting): fall back."""
        return self.status is None or self.status >= 500 or self.status == 429


class SpaceNotFoundError(HubError):
    """The Hub knows no Space by this id, or not for this token (private Spaces)."""

    def __init__(self, space_id: str, *, status: int, with_token: bool) -> None:
        fix = (
            "check the id, and that the token's account can read this Space"
            if with_token
            else "check the id; a private Space needs a token: pass hf_token= (or --token), "
            "set $HF_TOKEN, or run `huggingface-cli login`"
        )
        super().__init__(f"the Hub has no Space {space_id!r} (HTTP {status}): {fix}", status=status)
        self.space_id = space_id


class SpaceNotRunningError(QwenSpaceError):
    """The Space is in a stage only its owner can end (paused, broken, being deleted).

    Nothing was sent to the Space. ``stage`` is the Hub's name for it (``PAUSED``,
    ``RUNTIME_ERROR``...), ``hub_message`` the reason the Hub gives, if any; ``cure``
    what the user can do meanwhile.
    """

    def __init__(self, space_id: str, stage: str, *, cure: str, hub_message: str | None = None) -> None:
        reason = f" (the Hub says: {hub_message})" if hub_message else ""
        super().__init__(f"the Space {space_id} is {stage}{reason}: {cure}")
        self.space_id = space_id
        self.stage = stage
        self.hub_message = hub_message


def missing_from_cassette(exc: Exception, cassette: str = "the cassette") -> CassetteError:
    """The error for a request that a replayed cassette does not hold."""
    return CassetteError(
        f"a request is not in {cassette} (the client, the prompt or the Space changed since it was "
        f"recorded); re-record it with `qwen-space record` (or `pytest --qwen-space-record` for a test's "
        f"cassette).\n{exc}"
    )


def client_closed() -> ClientClosedError:
    return ClientClosedError(
        "the SpaceClient was closed while this chat was running; its job was cancelled on the Space"
    )


def total_timeout(total: float | None, doing: str) -> SpaceTimeoutError:
    return SpaceTimeoutError(
        f"the chat took longer than the total timeout ({total or 0.0:g} s) while {doing}; "
        "raise Timeouts(total=...) for very long answers",
        phase="total",
    )


def empty_reply() -> EmptyReplyError:
    """The one error for an empty completed reply, wherever a reply is read whole or streamed."""
    return EmptyReplyError(
        "the Space completed the job with an empty reply (the model behind it may have failed quietly); "
        "try again, or pass allow_empty=True to accept empty replies"
    )
