"""qwen_space.client: stream Qwen2.5-Max answers over aiohttp.

Built on :mod:`qwen_space.protocol`; it adds I/O and nothing else. Every error it
raises derives from :class:`qwen_space.protocol.QwenSpaceError`.
"""

from ._cassette import CassetteError, CassetteInfo, bundled_cassette, cassette_vcr, load_manifest, use_cassette
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
from ._provider import AsyncResult, Messages, Qwen_Qwen_2_5_Max, format_prompt, generate_session_hash
from ._record import SCENARIOS, Scenario, record_scenarios, recorded_messages

__all__ = [
    "DEFAULT_SYSTEM",
    "DEFAULT_URL",
    "SCENARIOS",
    "AsyncResult",
    "CassetteError",
    "CassetteInfo",
    "ChatCompletion",
    "ChatRequest",
    "InvalidMessagesError",
    "Messages",
    "Qwen_Qwen_2_5_Max",
    "ReplyRewrittenError",
    "RetryPolicy",
    "Scenario",
    "SpaceClient",
    "SpaceConnectionError",
    "SpaceTimeoutError",
    "Timeouts",
    "TransportError",
    "bundled_cassette",
    "cassette_vcr",
    "format_prompt",
    "generate_session_hash",
    "load_manifest",
    "prepare_request",
    "record_scenarios",
    "recorded_messages",
    "space_url",
    "use_cassette",
]
