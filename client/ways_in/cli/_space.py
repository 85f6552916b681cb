"""The Space as the commands use it: a client from the command's flags, ``--option``
values as the types of the inputs they name, and one chat printed as it streams."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from ....protocol import (
    ChatRequestError,
    Completed,
    Failed,
    InputRole,
    RemoteProtocolError,
    coerce_option,
    derive_contract,
    find_option,
)
from ...core.client import SpaceClient
from ...core.errors import empty_reply
from ...core.timeouts import Timeouts
from ...hub.space import SpaceStarting
from ._arguments import login
from ._printer import Printer

__all__ = ["JOB", "client", "options", "stream"]


class _Job:
    """Whether a job is running on the Space: what Ctrl-C interrupted."""

    running = False


JOB = _Job()


def client(args: argparse.Namespace) -> SpaceClient:
    # Every phase within --timeout: the total bounds them all, these only shorten them.
    # The wait for a Space to start comes before the total, and gets as long.
    timeouts = Timeouts(
        config=min(30.0, args.timeout), join=min(30.0, args.timeout), total=args.timeout, start=args.timeout
    )
    return SpaceClient(
        args.url,
        proxy=args.proxy,
        hf_token=args.token,
        auth=login(args),
        timeouts=timeouts,
        endpoint=getattr(args, "endpoint", None),
    )


async def options(space: SpaceClient, args: argparse.Namespace) -> dict[str, object] | None:
    """``--option`` values as the types of the inputs they name, from the Space's
    ``/config``: a label the app lacks, one given twice or a value it would refuse is a
    usage error naming the label before the chat is sent."""
    if not args.option:
        return None
    contract = derive_contract(await space.config(), args.endpoint)
    chosen: dict[int, str] = {}  # by component id
    values: dict[str, object] = {}
    for label, text in args.option:
        spec = find_option(contract, label)
        if spec.component_id in chosen:
            raise ChatRequestError(
                f"--option {label.strip()!r} sets the same input as --option {chosen[spec.component_id]!r}: give it once",
                label=label,
            )
        if spec.role is InputRole.SYSTEM and getattr(args, "system", None) is not None:
            raise ChatRequestError(
                f"--option {label.strip()!r} is the system prompt, also given as --system: give it once", label=label
            )
        chosen[spec.component_id] = label.strip()
        # Keyed by the app's own label: the request finds exactly that input.
        values[spec.label or label] = coerce_option(spec, text)
    return values


async def stream(
    space: SpaceClient,
    messages: Sequence[Mapping[str, Any]],
    printer: Printer,
    system: str | None,
    options: Mapping[str, object] | None = None,
) -> str:
    """Print one chat; return its text, or raise its error. Cancelled (Ctrl-C), it
    cancels the job on the Space before it ends."""
    try:
        async with contextlib.aclosing(space.events(messages, system=system, options=options)) as events:
            async for event in events:
                # Chat events come only once the Space has accepted the job; Ctrl-C (a
                # cancelled task) leaves this set for main() to report the cancel.
                JOB.running = not isinstance(event, (Failed, Completed, SpaceStarting))
                printer.event(event)
                if isinstance(event, Failed):
                    raise event.error
                if isinstance(event, Completed):
                    if not event.text:
                        raise empty_reply()
                    return event.text
    finally:
        # However it ended, no queue status is left to appear later (at the next prompt).
        printer.clear_status()
    raise RemoteProtocolError("the chat ended without a completion")  # pragma: no cover
