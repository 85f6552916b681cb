"""qwen_space.client: stream Qwen2.5-Max answers over aiohttp.

Built on :mod:`qwen_space.protocol`; it adds I/O and nothing else. Every error it
raises derives from :class:`qwen_space.protocol.QwenSpaceError`.
"""

from ._client import DEFAULT_URL, ChatCompletion, SpaceClient, space_url
from ._errors import (
    InvalidMessagesError,
    ReplyRewrittenError,
    SpaceConnectionError,
    SpaceTimeoutError,
    TransportError,
)
from ._options import RetryPolicy, Timeouts
from ._prompt import DEFAULT_SYSTEM, ChatRequest, prepare_request

__all__ = [
    "DEFAULT_SYSTEM",
    "DEFAULT_URL",
    "ChatCompletion",
    "ChatRequest",
    "InvalidMessagesError",
    "ReplyRewrittenError",
    "RetryPolicy",
    "SpaceClient",
    "SpaceConnectionError",
    "SpaceTimeoutError",
    "Timeouts",
    "TransportError",
    "prepare_request",
    "space_url",
]
