"""``qwen-space record``: scenario conversations, or your own, recorded into vcrpy cassettes."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...recording.scenarios import SCENARIOS, record_scenarios
from ._arguments import chat_options, connection_options
from ._space import client, options

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    record = commands.add_parser("record", help="record scenarios into vcrpy cassettes")
    connection_options(record)
    chat_options(record)
    record.add_argument(
        "--prefix",
        help="name the cassettes PREFIX-SCENARIO.yaml (default: SCENARIO.yaml), e.g. the app's name, "
        "to keep recordings of several Spaces in one directory",
    )
    record.add_argument(
        "--scenario",
        action="append",
        choices=sorted(SCENARIOS),
        help="repeatable; default: every scenario the app can take (one with a system prompt needs a system "
        "input, one with earlier turns an app that takes history)",
    )
    record.add_argument("--out", type=Path, default=Path("cassettes"), help="cassette directory (default: cassettes)")
    record.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    chosen = None
    if args.option:
        async with client(args) as space:
            chosen = await options(space, args)

    def skipped(name: str, why: str) -> None:
        print(f"{name}: skipped ({why})", file=sys.stderr)

    results = await record_scenarios(
        args.url,
        args.scenario,
        args.out,
        hf_token=args.token,
        endpoint=args.endpoint,
        options=chosen,
        prefix=args.prefix,
        on_skip=skipped,
    )
    for info, failure in results:
        outcome = f"failed ({type(failure).__name__})" if failure is not None else "completed"
        print(f"{info.cassette}: {info.scenario}, {outcome}")
    return 0
