"""qwen_space.client: stream Qwen2.5-Max answers over aiohttp.

Built on :mod:`qwen_space.protocol`; it adds I/O and nothing else. Every error a
caller can meet is exported here, all rooted in :class:`QwenSpaceError`. Recording
cassettes lives in :mod:`qwen_space.client.recording`.
"""

from ..protocol import (
    AppError,
    AuthenticationError,
    ContractMismatchError,
    JobCancelledError,
    LocalProtocolError,
    ProtocolError,
    QueueFullError,
    QwenSpaceError,
    RateLimitedError,
    RemoteProtocolError,
    RequestRejectedError,
    ServerError,
    SessionNotFoundError,
    SpaceHTTPError,
    SpaceUnavailableError,
    StreamError,
    StreamInterruptedError,
)
from ._cassette import CassetteInfo, bundled_cassette, cassette_vcr, load_manifest, use_cassette
from ._client import DEFAULT_SPACE_ID, DEFAULT_URL, ChatCompletion, SpaceClient, space_url
from ._errors import (
    CassetteError,
    ClientClosedError,
    EmptyReplyError,
    InvalidMessagesError,
    RedirectRefusedError,
    ReplyRewrittenError,
    ResponseTooLargeError,
    SpaceConnectionError,
    SpaceTimeoutError,
    TransportError,
    UsageError,
)
from ._hub import HubError, SpaceInfo, SpaceNotFoundError, SpaceNotRunningError, SpaceStarting
from ._options import RetryPolicy, Timeouts
from ._prompt import DEFAULT_SYSTEM
from ._provider import AsyncResult, Messages, Qwen_Qwen_2_5_Max, format_prompt, generate_session_hash
from ._sync import SyncSpaceClient

__all__ = [
    "DEFAULT_SPACE_ID",
    "DEFAULT_SYSTEM",
    "DEFAULT_URL",
    "AppError",
    "AsyncResult",
    "AuthenticationError",
    "CassetteError",
    "CassetteInfo",
    "ChatCompletion",
    "ClientClosedError",
    "ContractMismatchError",
    "EmptyReplyError",
    "HubError",
    "InvalidMessagesError",
    "JobCancelledError",
    "LocalProtocolError",
    "Messages",
    "ProtocolError",
    "QueueFullError",
    "QwenSpaceError",
    "Qwen_Qwen_2_5_Max",
    "RateLimitedError",
    "RedirectRefusedError",
    "RemoteProtocolError",
    "ReplyRewrittenError",
    "RequestRejectedError",
    "ResponseTooLargeError",
    "RetryPolicy",
    "ServerError",
    "SessionNotFoundError",
    "SpaceClient",
    "SpaceConnectionError",
    "SpaceHTTPError",
    "SpaceInfo",
    "SpaceNotFoundError",
    "SpaceNotRunningError",
    "SpaceStarting",
    "SpaceTimeoutError",
    "SpaceUnavailableError",
    "StreamError",
    "StreamInterruptedError",
    "SyncSpaceClient",
    "Timeouts",
    "TransportError",
    "UsageError",
    "bundled_cassette",
    "cassette_vcr",
    "format_prompt",
    "generate_session_hash",
    "load_manifest",
    "space_url",
    "use_cassette",
]
