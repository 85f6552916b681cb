"""The one exception hierarchy of qwen-space.

Everything the package raises derives from :class:`QwenSpaceError`, so callers can
catch the root and never see a ``KeyError``, a JSON error or an aiohttp exception.
The shape follows h11: an abstract :class:`ProtocolError` split into
:class:`LocalProtocolError` (we were asked to build something the protocol forbids)
and :class:`RemoteProtocolError` (the server sent something the protocol forbids).
Every "your input is wrong" error, :class:`LocalProtocolError` included, is a
:class:`UsageError`.

Outcomes that the Space reports on purpose (a full queue, an app exception, a
cancellation) are *not* protocol errors: they are valid messages and get their own
classes, each with a message saying what happened and what to do about it.

Every error carries ``partial_text``: the reply text streamed before the failure,
so an error never turns into a silently empty (or silently truncated) answer.

An error's fields are given when it is made. Code that learns more later (the text
streamed before it, a hint, that a retry could run the job twice) makes a changed
copy (:meth:`QwenSpaceError.with_partial` and its siblings) instead of editing an
error another holder may already have seen or raised.
"""

from __future__ import annotations

from typing import Any, Self, TypeVar

__all__ = [
    "AmbiguousChatError",
    "AppError",
    "AuthenticationError",
    "ChatRequestError",
    "ContractMismatchError",
    "FileTooLargeError",
    "GPUQuotaError",
    "HistoryUnreachableError",
    "InvalidDataURLError",
    "JobCancelledError",
    "LocalProtocolError",
    "ProtocolError",
    "QueueFullError",
    "QwenSpaceError",
    "RateLimitedError",
    "RemoteProtocolError",
    "RequestRejectedError",
    "SeedRefusedError",
    "ServerError",
    "SessionNotFoundError",
    "SpaceHTTPError",
    "SpaceUnavailableError",
    "StreamError",
    "StreamInterruptedError",
    "UsageError",
]


class _Sealed(type):
    """Seals each error once the outermost ``__init__`` has run (subclasses set their
    own fields after calling ``super().__init__``)."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        error = super().__call__(*args, **kwargs)
        object.__setattr__(error, "_sealed", True)
        return error


class QwenSpaceError(Exception, metaclass=_Sealed):
    """Root of every error raised by qwen-space.

    ``partial_text`` is the part of the reply received before the error ("" if none);
    ``retryable`` overrides the class's answer to "may the same request succeed later?".
    """

    #: Whether repeating the same request later may succeed.
    retryable: bool = False

    def __init__(self, message: str, *, partial_text: str = "", retryable: bool | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.partial_text = partial_text
        if retryable is not None:
            self.retryable = retryable

    def __setattr__(self, name: str, value: object) -> None:
        # Dunders stay Python's: raise sets __traceback__/__context__, add_note() __notes__.
        if self.__dict__.get("_sealed") and not name.startswith("__"):
            raise AttributeError(
                f"{type(self).__name__} cannot change after it is made: use with_partial(), with_hint(), "
                "not_retryable() or with_retry_after(), which return a copy"
            )
        super().__setattr__(name, value)

    def __delattr__(self, name: str) -> None:
        if self.__dict__.get("_sealed") and not name.startswith("__"):
            raise AttributeError(f"{type(self).__name__} cannot change after it is made")
        super().__delattr__(name)

    def __reduce__(self) -> tuple[object, ...]:
        # Exception pickles as cls(*args), which keyword-only arguments refuse: rebuild
        # without __init__ instead, from the args and every attribute.
        return (_rebuilt, (type(self), self.args, self.__dict__))

    def with_partial(self, text: str) -> Self:
        """A copy that says ``text`` of the reply arrived before it."""
        return self._copy(partial_text=text)

    def with_hint(self, hint: str) -> Self:
        """A copy whose message ends with ``hint`` (what to do), as a sentence of its own."""
        message = f"{self.message}. {hint[:1].upper()}{hint[1:]}"
        return self._copy(message=message, args=(message,))

    def not_retryable(self) -> Self:
        """A copy that says sending the request again may not be safe or useful (the
        Space may already run it)."""
        return self._copy(retryable=False)

    def _copy(self, *, args: tuple[object, ...] | None = None, **fields: object) -> Self:
        # The same error with fields changed: its cause, context and traceback too, so that
        # raising the copy (``raise copy from error.__cause__`` inside the original's
        # handler) shows where the original came from and what caused it.
        copy = _rebuilt(type(self), self.args if args is None else args, {**self.__dict__, **fields})
        copy.__cause__ = self.__cause__
        copy.__context__ = self.__context__
        copy.__suppress_context__ = self.__suppress_context__
        copy.__traceback__ = self.__traceback__
        return copy

    def __str__(self) -> str:
        if self.partial_text:
            return f"{self.message} ({len(self.partial_text)} characters of the reply arrived before this)"
        return self.message


_E = TypeVar("_E", bound="QwenSpaceError")


def _rebuilt(cls: type[_E], args: tuple[object, ...], state: dict[str, object]) -> _E:
    error = cls.__new__(cls, *args)
    error.args = args
    error.__dict__.update(state)
    return error


class UsageError(QwenSpaceError, ValueError):
    """The caller asked for something that cannot be done as asked: a bad argument,
    flag, URL, file name or request. Raised before anything is sent; the message names
    the argument and what to pass instead."""


class ProtocolError(QwenSpaceError):
    """A violation of the Gradio queue protocol. Abstract: raise a subclass."""

    def __init__(self, message: str, *, partial_text: str = "", retryable: bool | None = None) -> None:
        if type(self) is ProtocolError:
            raise TypeError("ProtocolError is abstract: raise LocalProtocolError or RemoteProtocolError")
        super().__init__(message, partial_text=partial_text, retryable=retryable)


class LocalProtocolError(ProtocolError, UsageError):
    """We were asked to send something the protocol cannot carry (a bug in the caller).

    The caller's input is wrong, so it is a :class:`UsageError` too: one class, and on
    the command line one exit code (2), for every "your input is wrong"."""


class RemoteProtocolError(ProtocolError):
    """The server sent bytes or messages the protocol does not allow.

    This usually means the Space runs a Gradio version whose wire format changed, or a
    proxy mangled the stream: the error names what broke the protocol; report it.
    """


class SpaceHTTPError(QwenSpaceError):
    """The Space refused a request with an HTTP error status (``/config``, ``queue/join``
    or opening ``queue/data``): no job was started, so retrying is safe.

    ``status`` is the HTTP status; ``detail`` the reason the Space gave, if any;
    ``retry_after`` the seconds the Space asked the client to wait (``Retry-After``), if it said.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int,
        detail: str | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message, retryable=retryable)
        self.status = status
        self.detail = detail
        self.retry_after = retry_after

    def with_retry_after(self, seconds: float | None) -> Self:
        """A copy that says how long the Space asked the client to wait."""
        return self._copy(retry_after=seconds)


class QueueFullError(SpaceHTTPError):
    """The Space's queue is full (HTTP 503 ``Queue is full``)."""

    retryable = True


class RateLimitedError(SpaceHTTPError):
    """The Spaces proxy is rate limiting this client (HTTP 429)."""

    retryable = True


class SpaceUnavailableError(SpaceHTTPError):
    """The Space is not serving: asleep, building, stopped, or behind a proxy error page."""

    retryable = True


class RequestRejectedError(SpaceHTTPError):
    """The Space rejected the request itself (HTTP 400/422 and similar): retrying will not help."""


class AuthenticationError(RequestRejectedError):
    """The Space needs credentials this client did not send or that it refused (401/403)."""


class ServerError(SpaceHTTPError):
    """The Space crashed while accepting the join (HTTP 500, usually plain text)."""


class StreamError(QwenSpaceError):
    """The message stream of a session failed (``unexpected_error`` from the server)."""


class SessionNotFoundError(StreamError):
    """The server no longer knows the session (evicted, cancelled, or never joined)."""


class StreamInterruptedError(StreamError):
    """The stream ended before the job did (EOF without ``close_stream``).

    Gradio cancels a session's jobs when its stream drops and has no resume, so the
    reply is lost beyond ``partial_text``. Send the request again to get a new answer.
    """

    retryable = True


class AppError(QwenSpaceError):
    """The Space's function raised: ``process_completed`` with ``success: false``.

    ``space_message`` is the text the Space sent (``None`` when the app hides errors,
    as an app running with ``show_error=False`` does); ``title`` is its title if any.
    """

    def __init__(
        self,
        message: str,
        *,
        space_message: str | None,
        title: str | None = None,
        partial_text: str = "",
    ) -> None:
        super().__init__(message, partial_text=partial_text)
        self.space_message = space_message
        self.title = title


class JobCancelledError(QwenSpaceError):
    """The job was cancelled (by this client or on the server) before it completed."""


class ContractMismatchError(QwenSpaceError):
    """The Space's ``/config`` no longer matches the contract this client was written for."""

    def __init__(self, message: str, *, drifts: tuple[object, ...] = ()) -> None:
        super().__init__(message)
        self.drifts = drifts


class AmbiguousChatError(ContractMismatchError):
    """The app has several chats (several message boxes with chains: tabs, panes) and none
    was chosen. ``choices`` lists each one as a caller may name it (``endpoint=``)."""

    def __init__(self, message: str, *, choices: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.choices = choices


class SeedRefusedError(RemoteProtocolError):
    """A non-queued step (``run/predict``: a ChatInterface's history seed, a chain's
    step) was answered by something other than Gradio's answer (``{"data": [...]}``): an
    HTML page, an error, an empty or text body. Nothing was joined."""


class ChatRequestError(UsageError):
    """A chat request the Space's declared contract cannot take, found before anything
    is sent: an option label it lacks, a value its input would refuse, a system prompt
    or history it has no way to receive, files for a text-only app. A usage error:
    the message names the input (``label``, when it is an option) and what to pass.
    """

    def __init__(self, message: str, *, label: str | None = None) -> None:
        super().__init__(message)
        self.label = label


class GPUQuotaError(AppError):
    """A ZeroGPU Space refused the job: the caller's GPU quota is used up.

    ``retry_after`` is the wait in seconds the Space named, if it named one;
    ``requested`` and ``left`` the GPU seconds it asked for and had left, if said.
    ``token_sent`` says whose quota it was: a token's account (``True``), the anonymous
    one of the caller's address (``False``), or unknown (``None``).
    """

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        space_message: str | None,
        title: str | None = None,
        retry_after: float | None = None,
        requested: float | None = None,
        left: float | None = None,
        token_sent: bool | None = None,
        partial_text: str = "",
    ) -> None:
        super().__init__(message, space_message=space_message, title=title, partial_text=partial_text)
        self.retry_after = retry_after
        self.requested = requested
        self.left = left
        self.token_sent = token_sent


class HistoryUnreachableError(ChatRequestError):
    """Earlier turns were given for an app whose model reads its history from server-side
    state (a ``gr.State`` only its chat chain writes) that a stateless request cannot set.
    Hold the chat in one session instead: ``space.conversation()``."""


class FileTooLargeError(UsageError):
    """A file is larger than the cap the caller set for it, found before anything was
    sent or decoded. ``size`` is its size in bytes (at least), ``limit`` the cap, and
    ``argument`` the argument or flag that raises the cap."""

    def __init__(self, what: str, *, size: int, limit: int, argument: str) -> None:
        mib = f" ({limit / (1024 * 1024):g} MiB)" if limit >= 1024 * 1024 else ""
        super().__init__(
            f"{what} is {size:,} bytes, over the {limit:,}-byte cap{mib}; nothing was sent. "
            f"Raise the cap with {argument} if the Space really takes files that large"
        )
        self.size = size
        self.limit = limit
        self.argument = argument


class InvalidDataURLError(UsageError):
    """A ``data:`` URL that is not one: no comma, bad base64, a bad media type."""
