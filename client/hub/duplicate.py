"""Your own copy of a Space: ``await duplicate_space()`` (the ``hub`` extra: ``pip install ".[hub]"`` in a clone).

A public demo Space sleeps, gets paused, or breaks; a private copy under your account
runs when you need it. The copy is made with huggingface_hub (``duplicate_repo``,
``add_space_secret``: the Hub's REST calls as its own client makes them, with
``$HF_ENDPOINT`` and the saved token honoured); the wait for it to run is the one
``SpaceClient`` uses (see ``SpaceGate``). This module is not imported by
``qwen_space.client``: huggingface_hub is an optional dependency.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ...protocol import QwenSpaceError
from ..core.client import DEFAULT_SPACE_ID
from ..core.timeouts import Timeouts
from ..errors import HubError, SpaceNotFoundError
from ..extras import missing_extra
from .space import SpaceGate, SpaceStarting, hub_endpoint, saved_token

try:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError
except ImportError as exc:  # the message is for installs without the extra
    raise missing_extra("hub", "huggingface_hub>=1.6", "duplicating a Space") from exc

__all__ = ["QWEN_DEMO_SECRET", "DuplicatedSpace", "duplicate_space"]

#: The secret the Qwen demo's app reads its DashScope API key from. The Space's app.py
#: is not public: this is the name Qwen's published demo apps of the same template use.
QWEN_DEMO_SECRET = "YOUR_API_TOKEN"


@dataclass(frozen=True, slots=True)
class DuplicatedSpace:
    """The copy: its id (give it to ``SpaceClient`` or ``--url``), and whether it is new."""

    space_id: str
    created: bool


async def duplicate_space(
    from_id: str = DEFAULT_SPACE_ID,
    to_id: str | None = None,
    *,
    private: bool = True,
    hardware: str | None = None,
    secrets: Mapping[str, str] | None = None,
    hf_token: str | None = None,
    proxy: str | None = None,
    timeouts: Timeouts | None = None,
    on_progress: Callable[[SpaceStarting], object] | None = None,
) -> DuplicatedSpace:
    """Copy ``from_id`` to ``to_id`` (default: the same name in your account), or reuse
    the copy if it exists; set ``secrets`` and ``hardware`` on it; wait until it runs.

    ``on_progress`` gets a ``SpaceStarting`` every few seconds of the wait, which
    ``timeouts.start`` bounds. Raises ``HubError`` (``SpaceNotFoundError`` for an unknown
    source), ``SpaceNotRunningError`` if the copy breaks, ``SpaceTimeoutError``.
    """
    token = hf_token or saved_token()
    if token is None:
        raise HubError(
            "duplicating a Space needs a Hugging Face token with write access: pass hf_token= (or --token), "
            "set $HF_TOKEN, or run `huggingface-cli login`",
            status=None,
        )
    endpoint = hub_endpoint()
    api = HfApi(endpoint=endpoint, token=token)
    space_id, created = await asyncio.to_thread(
        _create_or_reuse, api, from_id, to_id, private=private, hardware=hardware, secrets=dict(secrets or {})
    )
    gate = SpaceGate(space_id, token=token, proxy=proxy, timeouts=timeouts, confirm=True)
    async for event in gate.ready():
        if on_progress is not None:
            on_progress(event)
    return DuplicatedSpace(space_id, created)


def _create_or_reuse(
    api: HfApi, from_id: str, to_id: str | None, *, private: bool, hardware: str | None, secrets: dict[str, str]
) -> tuple[str, bool]:
    """The copy's id, and whether it was created now. Runs in a thread: huggingface_hub blocks."""
    current = "your account"  # whoami: the copy's default owner
    try:
        name = (to_id or from_id).rsplit("/", 1)[-1]
        owner = to_id.rsplit("/", 1)[0] if to_id and "/" in to_id else api.whoami()["name"]
        space_id = f"{owner}/{name}"
        try:
            current = space_id
            info = api.space_info(space_id)
        except RepositoryNotFoundError:
            current = from_id
            api.duplicate_repo(
                from_id,
                space_id,
                repo_type="space",
                private=private,
                # Absent keys keep the original's hardware.
                space_hardware=hardware,  # type: ignore[arg-type]
                space_secrets=[{"key": key, "value": value} for key, value in secrets.items()] or None,
                # Made meanwhile by another run: the copy exists, which is all that was asked.
                exist_ok=True,
            )
            return space_id, True
        # An existing copy gets what was asked of it (setting a secret restarts it).
        for key, value in secrets.items():
            api.add_space_secret(space_id, key, value)
        if hardware is not None and (info.runtime is None or info.runtime.hardware != hardware):
            api.request_space_hardware(space_id, hardware)  # type: ignore[arg-type]
        return space_id, False
    except RepositoryNotFoundError as exc:
        raise SpaceNotFoundError(current, status=exc.response.status_code, with_token=True) from None
    except HfHubHTTPError as exc:
        raise HubError(f"the Hub refused the request for {current}: {exc}", status=exc.response.status_code) from None
    except QwenSpaceError:
        raise
    except Exception as exc:  # huggingface_hub's transport errors (httpx), OSError, ValueError
        raise HubError(
            f"could not duplicate {from_id} through the Hub at {api.endpoint} ({type(exc).__name__}: {exc})",
            status=None,
        ) from exc
