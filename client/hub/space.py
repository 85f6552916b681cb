"""The Space's life on the Hugging Face Hub: where it runs and whether it is up.

A Space id (``owner/name``) is looked up with ``GET {HF_ENDPOINT}/api/spaces/{id}``, the
call huggingface_hub's ``space_info`` makes: the answer's ``host`` is the Space's address
and ``runtime.stage`` says whether it can answer. The token is the one the Hub's own
clients use: ``hf_token=``, else ``$HF_TOKEN``, else the file ``huggingface-cli login``
saves; a token found that way, not given, goes only to Hugging Face hosts
(:func:`is_hugging_face_url`). Only when the Hub cannot be reached does the subdomain
rule (``owner-name.hf.space``) stand in for ``host``.

``SpaceGate`` is the check a client runs once before its first join: it waits while
the Space builds or starts, wakes a sleeping Space by requesting its host (a visit is
what restarts a free Space), and fails fast, naming the stage, when only the owner can
bring the Space back.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import os
import re
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yarl import URL

from ...protocol import QwenSpaceError
from ..core.login import same_origin
from ..core.seam import Answer
from ..core.timeouts import Timeouts
from ..core.transport import Transport
from ..errors import (
    HubError,
    RedirectRefusedError,
    ResponseTooLargeError,
    SpaceNotFoundError,
    SpaceNotRunningError,
    SpaceTimeoutError,
    UsageError,
)

__all__ = [
    "DEFAULT_HUB",
    "USER_AGENT",
    "SpaceGate",
    "SpaceInfo",
    "SpaceStarting",
    "check_space_id",
    "fetch_space_info",
    "hub_endpoint",
    "hub_transport",
    "is_hugging_face_url",
    "is_space_id",
    "saved_token",
    "space_url",
    "token_goes_to",
]

DEFAULT_HUB = "https://huggingface.co"

logger = logging.getLogger("qwen_space")

# The Hub's rule for each part of an id (huggingface_hub's validate_repo_id): ASCII
# letters, digits, '-', '_', '.', 1 to 96 of them, no '-' or '.' at either end; and
# no '--' or '..' anywhere, no '.git' at the end (checked apart).
_ID_PART = r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?"
_SPACE_ID = re.compile(rf"{_ID_PART}/{_ID_PART}")
_ID_RULES = (
    "OWNER/NAME, each part 1 to 96 letters, digits, '-', '_' or '.', neither starting nor ending "
    "with '-' or '.', without '--' or '..', not ending in '.git'"
)
#: Space info is a few KiB (a big Space's file list some hundreds): beyond this it is junk.
MAX_SPACE_INFO_SIZE = 8 * 1024 * 1024
#: The most of a Space's page read when a visit wakes it (only the visit matters).
_MAX_PAGE_SIZE = 1024 * 1024
#: The Hub's transport makes one request at a time.
_HUB_CONNECTIONS = 2
USER_AGENT = "qwen-space/0.1 (+aiohttp)"
# As gradio_client; huggingface_hub's wait_for_space and Gradio's JS client poll every 1 s.
_POLL_SECONDS = 2.0

# huggingface_hub's INTERMEDIATE_SPACE_STAGES: the Space will come up by itself.
WAITING_STAGES = frozenset({"BUILDING", "RUNNING_BUILDING", "APP_STARTING", "RUNNING_APP_STARTING"})
# A free Space sleeps when idle and a visit restarts it. Gradio's JS client treats
# "SLEEPING" as "STOPPED"; huggingface_hub's SpaceStage lists only the latter.
ASLEEP_STAGES = frozenset({"STOPPED", "SLEEPING"})
_DUPLICATE = "or run `qwen-space duplicate` to get your own copy"
# Stages only the owner can end, and what the user can do meanwhile.
BROKEN_STAGES: Mapping[str, str] = {
    "PAUSED": f"its owner paused it: wait for the owner to restart it, {_DUPLICATE}",
    "RUNTIME_ERROR": f"it crashed: wait for its owner to restart or fix it, {_DUPLICATE}",
    "BUILD_ERROR": f"its build failed: wait for its owner to fix it, {_DUPLICATE} and fix it there",
    "CONFIG_ERROR": f"its configuration is broken: wait for its owner to fix it, {_DUPLICATE} and fix it there",
    "NO_APP_FILE": "it has no app file: wait for its owner to add one",
    "DELETING": "it is being deleted: use another Space",
}
_DESCRIPTIONS = {
    "BUILDING": "building",
    "RUNNING_BUILDING": "running while a new version builds",
    "APP_STARTING": "starting",
    "RUNNING_APP_STARTING": "restarting",
    "STOPPED": "asleep: waking it up",
    "SLEEPING": "asleep: waking it up",
}


def is_space_id(text: str) -> bool:
    """Whether ``text`` is a Space id such as ``Qwen/Qwen2.5-Max-Demo`` (not a URL)."""
    return (
        _SPACE_ID.fullmatch(text) is not None
        and ".." not in text
        and "--" not in text
        and not text.lower().endswith(".git")
    )


def check_space_id(text: str) -> str:
    """``text`` if it is a well-formed Space id, else :class:`UsageError`: a malformed id
    must never become a path on the Hub (``acme/..`` would ask for its Space listing)."""
    if not is_space_id(text):
        raise UsageError(
            f"{text!r} is neither a Space id ({_ID_RULES}, such as 'Qwen/Qwen2.5-Max-Demo') "
            "nor an http(s) URL such as 'https://qwen-qwen2-5-max-demo.hf.space'"
        )
    return text


def is_hugging_face_url(url: str | URL) -> bool:
    """Whether a token found rather than given (``$HF_TOKEN``, the saved login) may go to
    ``url``: a Space (``https://*.hf.space``), the Hub (``https://huggingface.co``), or the
    Hub ``$HF_ENDPOINT`` names, on its own scheme, host and port (a mirror, or a fake Hub
    on loopback: the user chose it). A token passed explicitly goes wherever it is sent."""
    try:
        target = URL(url)
        origin = target.origin()
        endpoint = URL(hub_endpoint()).origin()
    except ValueError:
        return False
    host = (target.host or "").lower()
    if origin == endpoint:
        return True
    return target.scheme == "https" and (host == "huggingface.co" or host.endswith(".hf.space"))


def token_goes_to(url: str | URL, *, given: bool) -> bool:
    """The one rule for where the token goes, for the Space and the Hub alike: a token
    the caller gave goes wherever the caller sends the client; one found (``$HF_TOKEN``,
    the saved login) only to Hugging Face hosts (:func:`is_hugging_face_url`)."""
    return given or is_hugging_face_url(url)


def space_url(url_or_space_id: str) -> str:
    """``https://owner-name.hf.space`` for a Space id like ``Qwen/Qwen2.5-Max-Demo``; URLs unchanged.

    This is the subdomain rule: the Hub's ``host`` is the authority, this the fallback.
    """
    if is_space_id(url_or_space_id):
        host = re.sub(r"[/.]", "-", url_or_space_id.lower())
        return f"https://{host}.hf.space"
    return url_or_space_id.rstrip("/")


def hub_endpoint() -> str:
    """``$HF_ENDPOINT`` (a mirror, or a fake Hub in tests), else the public Hub."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_HUB).rstrip("/")


def saved_token() -> str | None:
    """The token the Hub's clients use when none is given: ``$HF_TOKEN``, else the file
    ``huggingface-cli login`` writes (``$HF_TOKEN_PATH``, else ``$HF_HOME/token``, with
    ``HF_HOME`` defaulting to ``$XDG_CACHE_HOME/huggingface`` or ``~/.cache/huggingface``)."""
    token = _clean(os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN"))
    if token is None:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        home = os.environ.get("HF_HOME") or os.path.join(cache, "huggingface")
        path = os.environ.get("HF_TOKEN_PATH") or os.path.join(os.path.expandvars(os.path.expanduser(home)), "token")
        try:
            token = _clean(Path(os.path.expandvars(os.path.expanduser(path))).read_text(encoding="utf-8"))
        except (OSError, UnicodeError):
            return None
    return token


def _clean(token: str | None) -> str | None:
    """As huggingface_hub reads a token: line breaks and outer blanks dropped; blank is none."""
    return None if token is None else token.replace("\r", "").replace("\n", "").strip() or None


@dataclass(frozen=True, slots=True)
class SpaceStarting:
    """The Space is not up yet and the client waits for it: ``waited`` seconds so far."""

    space_id: str
    stage: str
    waited: float

    def __str__(self) -> str:
        what = _DESCRIPTIONS.get(self.stage, self.stage.lower())
        return f"the Space {self.space_id} is {what} ({self.stage}); waited {self.waited:.0f} s"


@dataclass(frozen=True, slots=True)
class SpaceInfo:
    """What the Hub says about a Space: the fields of huggingface_hub's ``SpaceInfo``
    and ``SpaceRuntime`` this client uses. ``sdk_version`` comes from the Space's card."""

    space_id: str
    host: str | None
    private: bool | None
    stage: str | None
    hardware: str | None
    requested_hardware: str | None
    sdk: str | None
    sdk_version: str | None
    hub_message: str | None

    @classmethod
    def from_json(cls, space_id: str, data: Mapping[str, Any]) -> SpaceInfo:
        runtime = _mapping(data.get("runtime"))
        hardware = _mapping(runtime.get("hardware"))
        card = _mapping(data.get("cardData"))
        return cls(
            space_id=_text(data.get("id")) or space_id,
            host=_http_url(data.get("host")),
            private=data.get("private") if isinstance(data.get("private"), bool) else None,
            stage=_text(runtime.get("stage")),
            hardware=_text(hardware.get("current")),
            requested_hardware=_text(hardware.get("requested")),
            sdk=_text(data.get("sdk")) or _text(card.get("sdk")),
            sdk_version=_text(card.get("sdk_version")),
            hub_message=_text(runtime.get("errorMessage")),
        )


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _http_url(value: object) -> str | None:
    """An http(s) URL with a host, or ``None``: a ``host`` the client could not use is
    no host at all, and the subdomain rule stands in for it."""
    if not isinstance(value, str):
        return None
    try:
        url = URL(value)
    except ValueError:  # "http://[::1", a port past 65535
        return None
    return value.rstrip("/") if url.scheme in ("http", "https") and url.host else None


@asynccontextmanager
async def hub_transport(
    *, proxy: str | None = None, verify_ssl: bool = True, timeouts: Timeouts | None = None
) -> AsyncGenerator[Transport, None]:
    """A transport of its own for the Hub, another service than the Space: the Space's
    headers, token header and login stay off it; the Hub's ``Authorization`` goes per
    request. The same sending, redirect rule, caps and ``translate`` as the Space's."""
    hub = Transport(
        headers={"User-Agent": USER_AGENT},
        token=None,
        send_token=False,
        proxy=proxy,
        verify_ssl=verify_ssl,
        max_connections=_HUB_CONNECTIONS,
        connect_timeout=(timeouts or Timeouts()).connect,
    )
    try:
        yield hub
    finally:
        await hub.close()


async def fetch_space_info(
    hub: Transport,
    space_id: str,
    *,
    token: str | None,
    token_given: bool = False,
    endpoint: str | None = None,
    timeouts: Timeouts | None = None,
) -> SpaceInfo:
    """``GET {endpoint}/api/spaces/{space_id}`` through ``hub`` (see :func:`hub_transport`).
    Raises ``HubError`` (``SpaceNotFoundError`` for an unknown or unreadable id); only a
    network failure is one that says the Hub cannot be reached. The token goes by
    :func:`token_goes_to` (the ``$HF_ENDPOINT`` Hub is a Hugging Face host)."""
    url = f"{endpoint or hub_endpoint()}/api/spaces/{space_id}"
    limits = timeouts or Timeouts()
    headers = {"Authorization": f"Bearer {token}"} if token and token_goes_to(url, given=token_given) else {}
    try:
        answer = await _ask_hub(hub, URL(url), headers, limits.hub)
    except ResponseTooLargeError as exc:
        # No usable answer, like one that is not JSON: the subdomain rule stands in.
        raise HubError(
            f"the Hub's answer at {url} is larger than {exc.limit} bytes, far beyond any Space's description: "
            "check that $HF_ENDPOINT names a Hugging Face Hub",
            status=None,
        ) from exc
    except QwenSpaceError as failure:  # the request's network failure, translated
        raise _unreachable(url, failure) from failure
    status, body = answer.status, answer.body
    error_message = answer.headers.get("X-Error-Message")
    # As huggingface_hub's hf_raise_for_status: the Hub answers 401 for a private Space
    # without a token (and for a missing one), 404 when the token cannot read it.
    if status == 401 and error_message == "Invalid credentials in Authorization header":
        raise HubError(
            "the Hub refused the token (invalid credentials): check $HF_TOKEN, --token or hf_token=, "
            "or log in again with `huggingface-cli login`",
            status=status,
        )
    if status in (401, 404):
        raise SpaceNotFoundError(space_id, status=status, with_token=token is not None)
    if status != 200:
        detail = error_message or body[:200].decode("utf-8", "replace")
        raise HubError(f"the Hub answered HTTP {status} for {url}: {detail}", status=status)
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise HubError(f"the Hub answered {url} with something that is not a JSON object", status=None)
    return SpaceInfo.from_json(space_id, data)


async def _ask_hub(hub: Transport, url: URL, headers: Mapping[str, str], within: float | None) -> Answer:
    """The Hub's answer; one redirect to another origin is followed without the token,
    as huggingface_hub's requests do (the transport follows none by itself)."""
    ask = functools.partial(hub.send, "GET", what="the Hub lookup", phase="the Hub request", within=within)
    try:
        return await ask(url, limit=MAX_SPACE_INFO_SIZE, headers=headers)
    except RedirectRefusedError as moved:
        target = URL(moved.location) if moved.location.startswith(("http://", "https://")) else None
        if target is None or same_origin(target, url):
            raise
        return await ask(target, limit=MAX_SPACE_INFO_SIZE)


def _unreachable(url: str, failure: QwenSpaceError) -> HubError:
    return HubError(f"could not reach the Hub at {url}: {failure}", status=None)


class SpaceGate:
    """Once per client, before the first join: where the Space runs and whether it is up.

    ``ready()`` yields ``SpaceStarting`` while the Space builds, starts or wakes, and
    ends when it runs, or when the Hub cannot tell: the Space then speaks for itself.
    With ``confirm=True`` (a copy just made) only the Hub's ``RUNNING`` ends the wait.
    The token goes to the Hub; to the Space's host (a visit that wakes it) only if
    ``token_given`` (the caller passed it) or the host is a Hugging Face host.
    """

    def __init__(
        self,
        space_id: str,
        *,
        token: str | None,
        token_given: bool = False,
        proxy: str | None = None,
        verify_ssl: bool = True,
        timeouts: Timeouts | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        confirm: bool = False,
    ) -> None:
        self.space_id = space_id
        self.host = space_url(space_id)
        self.info: SpaceInfo | None = None
        self._token = token
        self._token_given = token_given
        self._proxy = proxy
        self._ssl = verify_ssl
        self._timeouts = timeouts or Timeouts()
        self._sleep = sleep
        self._confirm = confirm
        self._endpoint = hub_endpoint()
        self._checked = False
        self._lock = asyncio.Lock()

    async def read(self) -> SpaceInfo:
        """What the Hub says now: no waiting, no waking. Raises ``HubError``."""
        async with self._hub() as hub:
            return self._learn(await self._fetch(hub))

    async def ready(self, unavailable: QwenSpaceError | None = None) -> AsyncGenerator[SpaceStarting, None]:
        """Check the stage once; with ``unavailable`` (the Space served a page instead of
        its API), check again and wait if it is starting, else raise that error."""
        if self._checked and unavailable is None:
            return
        async with self._lock:
            if self._checked and unavailable is None:
                return
            async for event in self._wait(unavailable):
                yield event
            self._checked = True

    async def _wait(self, unavailable: QwenSpaceError | None) -> AsyncGenerator[SpaceStarting, None]:
        limit = self._timeouts.start
        started = time.monotonic()
        waited = False
        async with self._hub() as hub:
            while True:
                try:
                    info = self._learn(await self._fetch(hub))
                except HubError as error:
                    if not error.unreachable or self._confirm:
                        raise
                    logger.info("qwen-space: %s; using %s", error, self.host)
                    if unavailable is not None:
                        raise unavailable from error
                    return
                stage = info.stage or "UNKNOWN"
                if stage in BROKEN_STAGES:
                    raise SpaceNotRunningError(
                        self.space_id, stage, cure=BROKEN_STAGES[stage], hub_message=info.hub_message
                    )
                if stage == "RUNNING" or (not self._confirm and stage not in WAITING_STAGES | ASLEEP_STAGES):
                    # Or a stage this client does not know: the Space answers for itself.
                    if unavailable is not None and not waited:
                        raise unavailable
                    return
                elapsed = time.monotonic() - started
                if limit is not None and elapsed >= limit:
                    raise SpaceTimeoutError(
                        f"the Space {self.space_id} is still {stage} after {limit:g} s, the longest wait for it "
                        "to start (Timeouts.start); try again later, or allow a longer start",
                        phase="start",
                    )
                if stage in ASLEEP_STAGES:
                    await self._wake(hub)
                waited = True
                yield SpaceStarting(self.space_id, stage, elapsed)
                await self._sleep(_POLL_SECONDS if limit is None else min(_POLL_SECONDS, limit - elapsed))

    def _hub(self) -> AbstractAsyncContextManager[Transport]:
        return hub_transport(proxy=self._proxy, verify_ssl=self._ssl, timeouts=self._timeouts)

    async def _fetch(self, hub: Transport) -> SpaceInfo:
        return await fetch_space_info(
            hub,
            self.space_id,
            token=self._token,
            token_given=self._token_given,
            endpoint=self._endpoint,
            timeouts=self._timeouts,
        )

    def _learn(self, info: SpaceInfo) -> SpaceInfo:
        self.info = info
        if info.host:
            self.host = info.host
        if info.stage == "RUNNING":
            self._checked = True
        return info

    async def _wake(self, hub: Transport) -> None:
        """Request the Space's page, as a visitor's browser would: that restarts it.
        Whatever it answers (a page, an error, a redirect) the Hub's stage, read next,
        says whether the visit worked."""
        send_token = self._token and token_goes_to(self.host, given=self._token_given)
        headers = {"x-hf-authorization": f"Bearer {self._token}"} if send_token else {}
        try:
            answer = await hub.send(
                "GET",
                URL(self.host),
                what="the Space's page",
                phase="wake",
                within=self._timeouts.hub,
                limit=_MAX_PAGE_SIZE,
                headers=headers,
            )
        except QwenSpaceError as failure:
            logger.debug("qwen-space: waking %s failed: %s", self.host, failure)
            return
        logger.debug("qwen-space: waking %s: HTTP %d", self.host, answer.status)
