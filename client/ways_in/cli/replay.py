"""``qwen-space replay``: a recorded session played offline, as ``chat`` would print it."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ....protocol.errors import AppError
from ...core.client import DEFAULT_URL, SpaceClient
from ...core.timeouts import Timeouts
from ...errors import CassetteError
from ...recording.cassette import CassetteInfo, bundled_directory, load_manifest, locate_cassette, use_cassette
from ...recording.scenarios import recorded_chat
from ._printer import Printer
from ._space import stream
from ._terminal import one_line

__all__ = ["add_parser", "recorded_info", "run"]

_SPEAKERS = {"system": "system>", "user": "you>", "assistant": "space>"}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay = commands.add_parser("replay", help="play a recorded session offline, as `chat` would print it")
    replay.add_argument("cassette", nargs="?", help="a cassette file, or a bundled name like gradio-5.50.0/hello.yaml")
    replay.add_argument("--json", action="store_true", help="print one JSON event per line instead of text")
    replay.add_argument("--list", action="store_true", help="list the bundled cassettes and exit")
    replay.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    if args.list:
        for name, listed in load_manifest(bundled_directory()).items():
            print(f"{name:<28} {listed.scenario:<8} {one_line(listed.prompt)[:60]}")
        return 0
    path = locate_cassette(args.cassette)
    info = recorded_info(path)
    recorded = recorded_chat(path)
    printer = Printer(as_json=args.json)
    if not args.json:
        where = f"{info.url} (Gradio {info.gradio_version}) on {info.recorded_at}" if info else "an unknown Space"
        print(f"replaying {path.name}, recorded from {where}", file=sys.stderr)
        _conversation(recorded.messages)
    with use_cassette(path):
        async with SpaceClient(
            info.url if info else DEFAULT_URL, timeouts=Timeouts(total=60), endpoint=recorded.endpoint
        ) as space:
            try:
                await stream(space, recorded.messages, printer, None, recorded.options)
            except AppError as error:
                if info is None or info.scenario != "error":
                    raise
                print(
                    f"(the recorded session failed, as its scenario expects: {one_line(str(error))})", file=sys.stderr
                )
    return 0


def _conversation(messages: Sequence[Mapping[str, Any]]) -> None:
    """Every message the recorded chat sent, its system prompt and earlier turns too."""
    for message in messages:
        speaker = _SPEAKERS.get(str(message.get("role")), "?>")
        print(f"{speaker} {one_line(str(message.get('content')))[:200]}", file=sys.stderr)


def recorded_info(path: Path) -> CassetteInfo | None:
    """The manifest entry of ``path`` (``DIR/manifest.json`` names ``gradio-x/name.yaml``),
    if any: only what the header shows, so a missing or foreign manifest is no error."""
    try:
        manifest = load_manifest(path.parent.parent)
    except CassetteError:
        return None
    return manifest.get(f"{path.parent.name}/{path.name}")
