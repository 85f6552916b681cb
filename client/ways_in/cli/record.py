"""``qwen-space record``: scenario conversations, or your own prompts, recorded into
vcrpy cassettes, with a line on stderr as each one starts and a summary of what each
cassette holds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ...errors import UsageError
from ...recording.scenarios import SCENARIOS, Scenario, own_scenarios, record_scenarios
from ._arguments import auth_option, chat_options, connection_options, login
from ._space import client, options
from ._terminal import one_line

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    record = commands.add_parser("record", help="record scenarios, or your own prompts, into vcrpy cassettes")
    connection_options(record)
    auth_option(record)
    chat_options(record)
    record.add_argument(
        "--prompt",
        action="append",
        metavar="TEXT",
        help="record a conversation of your own: this question, as PREFIX-prompt-N.yaml; repeatable, one "
        "cassette each (instead of --scenario)",
    )
    record.add_argument("--system", help="the system prompt of each --prompt (default: the app's own)")
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
        "input, one with earlier turns an app that takes history, 'error' the Qwen demo's layout)",
    )
    record.add_argument("--out", type=Path, default=Path("cassettes"), help="cassette directory (default: cassettes)")
    record.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    if args.prompt and args.scenario:
        raise UsageError("give --prompt (your own conversations) or --scenario, not both")
    if args.system is not None and not args.prompt:
        raise UsageError("--system is the system prompt of each --prompt: give --prompt too")
    mine = own_scenarios(args.prompt, args.system) if args.prompt else None
    chosen = None
    if args.option:
        async with client(args) as space:
            chosen = await options(space, args)
    held = {s.name: s for s in mine or SCENARIOS.values()}

    def skipped(name: str, why: str) -> None:
        print(f"{name}: skipped ({why})", file=sys.stderr)

    def started(number: int, total: int, scenario: Scenario) -> None:
        print(f"[{number}/{total}] recording {scenario.name}: {one_line(scenario.describe())}", file=sys.stderr)

    results = await record_scenarios(
        args.url,
        args.scenario,
        args.out,
        hf_token=args.token,
        auth=login(args),
        endpoint=args.endpoint,
        options=chosen,
        prefix=args.prefix,
        on_skip=skipped,
        scenarios=mine,
        on_progress=started,
    )
    settings = f", options {', '.join(f'{k}={v!r}' for k, v in chosen.items())}" if chosen else ""
    for info, failure in results:
        outcome = f"the app failed, as expected ({type(failure).__name__})" if failure is not None else "answered"
        print(f"{info.cassette}: {one_line(held[info.scenario].describe())}{settings}; {outcome}")
    return 0
