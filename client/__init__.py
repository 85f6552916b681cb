"""qwen_space.client: chat with a Gradio chat Space over aiohttp, streaming and typed.

Built on :mod:`qwen_space.protocol`, which reads and writes the wire format without
I/O; this package does the I/O. This namespace is the client's whole surface:
:class:`SpaceClient` and :class:`SyncSpaceClient`, the events ``events()`` yields and
the types its methods return, :func:`create_openai_app` (the OpenAI-compatible server's
app, to mount in an aiohttp app), and every error a caller can meet, all rooted in
:class:`QwenSpaceError`. The rest lives where it belongs: cassettes in
:mod:`qwen_space.client.recording`, the gpt4free provider in :mod:`qwen_space.client.g4f`,
copying a Space in :mod:`qwen_space.client.duplicate`, a Space scripted in memory for
your tests in :mod:`qwen_space.client.testing`. ``Qwen_Qwen_2_5_Max`` and
``Messages`` keep the original provider's idiom working.

The code is grouped by concern: ``core/`` (the client, one chat's run, the transport,
errors, timeouts), ``hub/`` (Space ids, tokens, stages, copies), ``recording/``
(cassettes) and ``ways_in/`` (CLI, OpenAI server, sync facade, original provider and gpt4free shims).
"""

from typing import TYPE_CHECKING, Any

from ..protocol import (
    AmbiguousChatError,
    AppError,
    AuthenticationError,
    ChatEvent,
    ChatRequestError,
    Completed,
    ContractMismatchError,
    Correction,
    Drift,
    DriftKind,
    Failed,
    FileReply,
    FileTooLargeError,
    GPUQuotaError,
    HistoryUnreachableError,
    InvalidDataURLError,
    JobCancelledError,
    LocalProtocolError,
    LogMessage,
    ProgressUpdate,
    ProtocolError,
    QueueFullError,
    QueuePosition,
    QwenSpaceError,
    RateLimitedError,
    ReasoningDelta,
    RemoteProtocolError,
    ReplyFile,
    RequestRejectedError,
    SeedRefusedError,
    ServerError,
    SessionNotFoundError,
    SpaceConfig,
    SpaceContract,
    SpaceHTTPError,
    SpaceUnavailableError,
    Started,
    StreamError,
    StreamInterruptedError,
    TextDelta,
)
from .core.client import DEFAULT_SPACE_ID, DEFAULT_URL, ChatCompletion, SpaceClient, space_url
from .core.conversation import Conversation
from .core.errors import (
    CassetteError,
    ClientClosedError,
    EmptyReplyError,
    FileElsewhereError,
    HubError,
    InvalidMessagesError,
    RedirectRefusedError,
    ReplyRewrittenError,
    ResponseTooLargeError,
    SpaceConnectionError,
    SpaceNotFoundError,
    SpaceNotRunningError,
    SpaceTimeoutError,
    TransportError,
    UsageError,
)
from .core.files import DEFAULT_MAX_DOWNLOAD_SIZE, DEFAULT_MAX_UPLOAD_SIZE, LocalFile
from .core.qwen import QWEN_CONTRACT
from .core.request import DEFAULT_SYSTEM
from .core.timeouts import RetryPolicy, Timeouts
from .core.transport import SpaceTransport
from .hub.space import SpaceInfo, SpaceStarting
from .ways_in.original import Messages, Qwen_Qwen_2_5_Max
from .ways_in.sync import SyncConversation, SyncSpaceClient

if TYPE_CHECKING:
    from .ways_in.serve import create_openai_app


def __getattr__(name: str) -> Any:
    # The server's app is imported when asked for: a client alone never loads aiohttp.web.
    if name == "create_openai_app":
        from .ways_in.serve import create_openai_app

        return create_openai_app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_MAX_DOWNLOAD_SIZE",
    "DEFAULT_MAX_UPLOAD_SIZE",
    "DEFAULT_SPACE_ID",
    "DEFAULT_SYSTEM",
    "DEFAULT_URL",
    "QWEN_CONTRACT",
    "AmbiguousChatError",
    "AppError",
    "AuthenticationError",
    "CassetteError",
    "ChatCompletion",
    "ChatEvent",
    "ChatRequestError",
    "ClientClosedError",
    "Completed",
    "ContractMismatchError",
    "Conversation",
    "Correction",
    "Drift",
    "DriftKind",
    "EmptyReplyError",
    "Failed",
    "FileElsewhereError",
    "FileReply",
    "FileTooLargeError",
    "GPUQuotaError",
    "HistoryUnreachableError",
    "HubError",
    "InvalidDataURLError",
    "InvalidMessagesError",
    "JobCancelledError",
    "LocalFile",
    "LocalProtocolError",
    "LogMessage",
    "Messages",
    "ProgressUpdate",
    "ProtocolError",
    "QueueFullError",
    "QueuePosition",
    "QwenSpaceError",
    "Qwen_Qwen_2_5_Max",
    "RateLimitedError",
    "ReasoningDelta",
    "RedirectRefusedError",
    "RemoteProtocolError",
    "ReplyFile",
    "ReplyRewrittenError",
    "RequestRejectedError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "SeedRefusedError",
    "ServerError",
    "SessionNotFoundError",
    "SpaceClient",
    "SpaceConfig",
    "SpaceConnectionError",
    "SpaceContract",
    "SpaceHTTPError",
    "SpaceInfo",
    "SpaceNotFoundError",
    "SpaceNotRunningError",
    "SpaceStarting",
    "SpaceTimeoutError",
    "SpaceTransport",
    "SpaceUnavailableError",
    "Started",
    "StreamError",
    "StreamInterruptedError",
    "SyncConversation",
    "SyncSpaceClient",
    "TextDelta",
    "Timeouts",
    "TransportError",
    "UsageError",
    "create_openai_app",
    "space_url",
]

# Last, once everything above is imported: public classes name this package.
from ..protocol._public import publish  # noqa: E402

publish(globals(), __name__)
del publish
