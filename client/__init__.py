"""qwen_space.client: chat with a Gradio chat Space over aiohttp, streaming and typed.

Built on :mod:`qwen_space.protocol`, which reads and writes the wire format without
I/O; this package does the I/O. This namespace is the client's whole surface:
:class:`SpaceClient` and :class:`SyncSpaceClient`, the events ``events()`` yields and
the types its methods return, :func:`create_openai_app` (the OpenAI-compatible server's
app, to mount in an aiohttp app), and the roots of the errors a caller can meet (every one
is in :mod:`qwen_space.client.errors`, all rooted in :class:`QwenSpaceError`). The rest lives where it belongs: cassettes in
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
    ChatEvent,
    Completed,
    Correction,
    Drift,
    Failed,
    FileReply,
    LogMessage,
    ProgressUpdate,
    QueuePosition,
    ReasoningDelta,
    ReplyFile,
    SpaceConfig,
    Started,
    TextDelta,
)
from ..protocol._contract import SpaceContract
from .core.client import DEFAULT_SPACE_ID, DEFAULT_URL, ChatCompletion, SpaceClient
from .core.conversation import Conversation
from .core.files import DEFAULT_MAX_DOWNLOAD_SIZE, DEFAULT_MAX_UPLOAD_SIZE, LocalFile
from .core.options import ClientOptions, SyncClientOptions
from .core.qwen import QWEN_CONTRACT
from .core.seam import SpaceTransport
from .core.timeouts import RetryPolicy, Timeouts
from .errors import AppError, ProtocolError, QwenSpaceError, TransportError, UsageError
from .hub.space import SpaceInfo, SpaceStarting, space_url
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
    "DEFAULT_URL",
    "QWEN_CONTRACT",
    "AppError",
    "ChatCompletion",
    "ChatEvent",
    "ClientOptions",
    "Completed",
    "Conversation",
    "Correction",
    "Drift",
    "Failed",
    "FileReply",
    "LocalFile",
    "LogMessage",
    "Messages",
    "ProgressUpdate",
    "ProtocolError",
    "QueuePosition",
    "QwenSpaceError",
    "Qwen_Qwen_2_5_Max",
    "ReasoningDelta",
    "ReplyFile",
    "RetryPolicy",
    "SpaceClient",
    "SpaceConfig",
    "SpaceContract",
    "SpaceInfo",
    "SpaceStarting",
    "SpaceTransport",
    "Started",
    "SyncClientOptions",
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
