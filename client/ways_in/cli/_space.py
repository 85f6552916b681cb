"""The Space as the commands use it: a client from the command's flags, ``--option``
values as the types of the inputs they name, and one chat printed as it streams."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ....protocol import Completed, Failed, FileReply, ReplyFile, derive_contract
from ....protocol._chat_contract import ChatInput, InputRole
from ....protocol._chat_request import coerce_option, file_inputs, find_option
from ....protocol.errors import ChatRequestError, RemoteProtocolError
from ...core.client import SpaceClient
from ...core.files import DEFAULT_MAX_DOWNLOAD_SIZE, DEFAULT_MAX_UPLOAD_SIZE, LocalFile
from ...core.reply import ReplyCheck
from ...core.timeouts import Timeouts
from ...errors import ResponseTooLargeError
from ...hub.space import SpaceStarting
from ._arguments import login
from ._printer import Printer

__all__ = ["JOB", "client", "options", "save_file", "stream"]


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
        max_upload_size=getattr(args, "max_upload_size", DEFAULT_MAX_UPLOAD_SIZE),
        max_download_size=getattr(args, "max_download_size", DEFAULT_MAX_DOWNLOAD_SIZE),
    )


async def options(space: SpaceClient, args: argparse.Namespace) -> dict[str, object] | None:
    """``--option`` values as the types of the inputs they name, from the Space's
    ``/config``: a label the app lacks, one given twice or a value it would refuse is a
    usage error naming the label before the chat is sent."""
    if not args.option:
        return None
    contract = derive_contract(await space.config(), args.endpoint)
    chosen: dict[int, str] = {}  # by component id
    files = file_inputs(contract)
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
        values[spec.label or label] = _file_option(spec, text, args) if spec in files else coerce_option(spec, text)
    return values


def _file_option(spec: ChatInput, text: str, args: argparse.Namespace) -> LocalFile:
    """``--option LABEL=@PATH`` for an image/file input: the file, read and capped now."""
    if not text.startswith("@") or len(text) < 2:
        raise ChatRequestError(
            f"--option {spec.label!r} is a {spec.component} input: give a file as {spec.label}=@PATH", label=spec.label
        )
    limit = getattr(args, "max_upload_size", DEFAULT_MAX_UPLOAD_SIZE)
    return LocalFile.at(text[1:], max_size=limit, argument="--max-upload-size")


async def stream(
    space: SpaceClient,
    messages: Sequence[Mapping[str, Any]],
    printer: Printer,
    system: str | None,
    options: Mapping[str, object] | None = None,
    *,
    files: Sequence[LocalFile] = (),
    save_files: str | None = None,
) -> str:
    """Print one chat; return its text (empty for a reply of files or thoughts alone), or
    raise its error (:class:`ReplyCheck`'s rules). Cancelled (Ctrl-C), it
    cancels the job on the Space before it ends. Reply files are saved into
    ``save_files`` (each path on stderr), else their URLs go to stderr."""
    check = ReplyCheck()
    try:
        async with contextlib.aclosing(space.events(messages, system=system, options=options, files=files)) as events:
            async for event in events:
                # Chat events come only once the Space has accepted the job; Ctrl-C (a
                # cancelled task) leaves this set for main() to report the cancel.
                JOB.running = not isinstance(event, (Failed, Completed, SpaceStarting))
                if isinstance(event, FileReply):
                    saved = await save_file(space, event.file, save_files) if save_files is not None else None
                    printer.file(event.file, saved)
                else:
                    printer.event(event)
                check.see(event)
                if isinstance(event, Completed):
                    return event.text
    finally:
        # However it ended, no queue status is left to appear later (at the next prompt).
        printer.clear_status()
    raise RemoteProtocolError("the chat ended without a completion")  # pragma: no cover


async def save_file(space: SpaceClient, file: ReplyFile, folder: str) -> Path:
    """Save a reply file into ``folder`` (``--save-files``); over the download cap, the
    error names ``--max-download-size`` and the file's URL."""
    try:
        return await space.save_file(file, folder)
    except ResponseTooLargeError as exc:
        # The library's message names its argument; on the command line it is the flag.
        raise ResponseTooLargeError(
            f"the reply file {file.name!r} is larger than the download cap of {exc.limit:,} bytes; raise it with "
            f"--max-download-size to save the file, or fetch its URL yourself: {file.url}",
            limit=exc.limit,
        ) from None
