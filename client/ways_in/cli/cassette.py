"""``qwen-space cassette diff``: what changed between two recordings."""

from __future__ import annotations

import argparse

from ...recording.cassette import locate_cassette
from ...recording.diff import semantic_diff
from ._terminal import EXIT_DRIFT, one_line

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cassette = commands.add_parser("cassette", help="work with recorded sessions")
    cassette_commands = cassette.add_subparsers(dest="cassette_command", required=True)
    diff = cassette_commands.add_parser(
        "diff", help="what changed between two recordings, the requests first; exit 11 if anything"
    )
    diff.add_argument("old", help="a cassette file, or a bundled name like gradio-5.50.0/hello.yaml")
    diff.add_argument("new", help="a cassette file, or a bundled name")
    diff.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    old, new = locate_cassette(args.old), locate_cassette(args.new)
    differences = semantic_diff(old, new)
    if not differences:
        print(f"{old} and {new}: no semantic difference")
        return 0
    print(f"{old} -> {new}:")
    for line in differences:
        print(f"  - {one_line(line)}")
    return EXIT_DRIFT
