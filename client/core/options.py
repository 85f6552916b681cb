"""The keyword options of ``SpaceClient`` and ``SyncSpaceClient``, typed once.

Both clients take ``**options: Unpack[...]`` of these, so a type checker checks a
user's call (a misspelt option is an error) and the blocking twin cannot drift from
the async client: it takes the same options but ``session``, which cannot cross to its
own thread's loop. ``transport`` does cross: the aiohttp :class:`Transport` makes its
sessions on first use (so on the twin's loop) and ``MemoryTransport`` holds no loop
state; a transport is used by one client only, which closes it. Each option's default is in its comment.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from typing import TypedDict

import aiohttp

from ...protocol._contract import SpaceContract
from .seam import SpaceTransport
from .timeouts import RetryPolicy, Timeouts

__all__ = ["ClientOptions", "SyncClientOptions", "check_options"]


class SyncClientOptions(TypedDict, total=False):
    """The options both clients take (see :class:`SpaceClient`)."""

    #: An HTTP(S) proxy for every request (default none).
    proxy: str | None
    #: A Hugging Face token, sent wherever the client goes (default: the Hub clients'
    #: token, sent only to Hugging Face hosts).
    hf_token: str | None
    #: Extra headers for every request.
    headers: Mapping[str, str] | None
    #: Per-phase and total time limits (default ``Timeouts()``).
    timeouts: Timeouts | None
    #: Retries of a busy or unreachable Space (default ``RetryPolicy()``).
    retry: RetryPolicy | None
    #: The chat event, by api_name or fn_index (default: derived from ``/config``).
    endpoint: str | int | None
    #: The Space's options by label, for every chat (a chat's own ``options=`` win).
    options: Mapping[str, object] | None
    #: The chat event's api_name (``endpoint`` wins).
    api_name: str | None
    #: The contract ``/config`` is checked against (drifts reported, breaks refused).
    contract: SpaceContract | None
    #: Verify TLS certificates (default ``True``).
    verify_ssl: bool
    #: The connection pool's size (default 100).
    max_connections: int
    #: The largest SSE event read, in bytes (default 16 MiB).
    max_event_size: int
    #: The largest ``/config`` read, in bytes (default 8 MiB).
    max_config_size: int
    #: The longest prompt sent, in characters (default 400,000).
    max_prompt_chars: int
    #: Makes each chat's session hash (default random).
    session_hash_factory: Callable[[], str] | None
    #: Waits between retries (default ``asyncio.sleep``; tests pass a fake clock).
    sleep: Callable[[float], Awaitable[None]]
    #: The retries' jitter (default a fresh ``random.Random()``).
    rng: random.Random | None
    #: ``(user, password)`` for an app launched with ``auth=``.
    auth: tuple[str, str] | None
    #: The largest file sent, in bytes (default 100 MiB).
    max_upload_size: int
    #: The largest reply file fetched, in bytes (default 100 MiB).
    max_download_size: int
    #: Every exchange with the Space goes through it (default: aiohttp's ``Transport``,
    #: made from ``proxy``, ``headers``, ``verify_ssl``, ``max_connections``, ``auth`` and
    #: ``session``, which are then refused). ``qwen_space.client.testing.MemoryTransport``
    #: scripts a Space for tests. The client closes it. It takes a URL, not a Space id (the
    #: Hub lookup of an id has a transport of its own).
    transport: SpaceTransport | None


class ClientOptions(SyncClientOptions, total=False):
    """:class:`SpaceClient`'s options: both clients' and ``session``."""

    #: A session to share; the client then never closes it (default its own).
    session: aiohttp.ClientSession | None


def check_options(given: Mapping[str, object], allowed: frozenset[str], owner: str) -> None:
    """Refuse an option ``owner`` does not take, as Python refuses an unknown keyword
    (the type checker does so before; this is for untyped callers)."""
    for name in given:
        if name not in allowed:
            raise TypeError(f"{owner}() got an unexpected keyword argument {name!r}")
