"""qwen_space.protocol: the Gradio queue protocol as pure functions and types.

No I/O happens here and nothing here imports asyncio or aiohttp: bytes go in, typed
values come out, and the only exceptions raised are the package's own
(:class:`QwenSpaceError` and its subclasses, every one in
:mod:`qwen_space.protocol.errors`), whatever the bytes were.
"""

from ._chat_contract import ChatContract
from ._chat_request import ChatCall, build_call
from ._chatbot import Turn
from ._config import SpaceConfig, parse_config
from ._contract import Drift, check_contract
from ._derive import derive_contract
from ._events import (
    ChatEvent,
    Completed,
    Correction,
    Failed,
    FileReply,
    LogMessage,
    ProgressUpdate,
    QueuePosition,
    ReasoningDelta,
    Started,
    TextDelta,
)
from ._files import ReplyFile
from ._join import new_session_hash
from ._json import JSONValue
from ._sse import SSEDecoder, SSEEvent
from ._stream import ChatStream, ChatStreamResult, chat_stream, read_chat_stream
from .errors import ProtocolError, QwenSpaceError

__all__ = [
    "ChatCall",
    "ChatContract",
    "ChatEvent",
    "ChatStream",
    "ChatStreamResult",
    "Completed",
    "Correction",
    "Drift",
    "Failed",
    "FileReply",
    "JSONValue",
    "LogMessage",
    "ProgressUpdate",
    "ProtocolError",
    "QueuePosition",
    "QwenSpaceError",
    "ReasoningDelta",
    "ReplyFile",
    "SSEDecoder",
    "SSEEvent",
    "SpaceConfig",
    "Started",
    "TextDelta",
    "Turn",
    "build_call",
    "chat_stream",
    "check_contract",
    "derive_contract",
    "new_session_hash",
    "parse_config",
    "read_chat_stream",
]

# Last, once everything above is imported: public classes name this package.
from ._public import publish

publish(globals(), __name__)
del publish
