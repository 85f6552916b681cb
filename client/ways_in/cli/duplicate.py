"""``qwen-space duplicate``: your own copy of a Space on the Hub, waited for until it runs."""

from __future__ import annotations

import argparse
import sys

from ...core.client import DEFAULT_SPACE_ID
from ...core.timeouts import Timeouts
from ...errors import UsageError
from ._arguments import proxy_url
from ._printer import Printer
from ._terminal import one_line

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    duplicate = commands.add_parser(
        "duplicate", help="make your own copy of the Space on the Hub and wait until it runs"
    )
    duplicate.add_argument("space", nargs="?", default=None, help="the Space to copy (default: Qwen/Qwen2.5-Max-Demo)")
    duplicate.add_argument(
        "--to", metavar="NAME", help="the copy's name, or OWNER/NAME (default: the original's name, in your account)"
    )
    visibility = duplicate.add_mutually_exclusive_group()
    visibility.add_argument(
        "--private", dest="private", action="store_true", default=True, help="a private copy (default)"
    )
    visibility.add_argument("--public", dest="private", action="store_false", help="a public copy")
    duplicate.add_argument("--hardware", help="hardware tier, e.g. cpu-basic, cpu-upgrade (default: the original's)")
    duplicate.add_argument(
        "--secret",
        type=_secret,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a secret of the copy; repeatable",
    )
    duplicate.add_argument("--proxy", type=proxy_url, help="http(s) proxy URL for the wait")
    duplicate.add_argument(
        "--token", default=None, help="Hugging Face token with write access (default: $HF_TOKEN, else the saved login)"
    )
    duplicate.add_argument(
        "--timeout", type=float, default=900.0, help="seconds to wait for the copy to run (default 900)"
    )
    duplicate.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    try:
        from ...hub.duplicate import QWEN_DEMO_SECRET, duplicate_space  # the optional hub extra
    except ImportError as exc:  # the hub extra is not installed: its message says how to install it
        raise UsageError(str(exc)) from None
    secrets = dict(args.secret)
    source = args.space or DEFAULT_SPACE_ID
    if source == DEFAULT_SPACE_ID and QWEN_DEMO_SECRET not in secrets:
        print(
            f"note: the Qwen demo reads its DashScope key from the secret {QWEN_DEMO_SECRET}; a copy without it "
            f"fails every chat: add --secret {QWEN_DEMO_SECRET}=<your DashScope API key>",
            file=sys.stderr,
        )
    printer = Printer(as_json=False)
    copy = await duplicate_space(
        source,
        args.to,
        private=args.private,
        hardware=args.hardware,
        secrets=secrets or None,
        hf_token=args.token,
        proxy=args.proxy,
        timeouts=Timeouts(start=args.timeout),
        on_progress=printer.event,
    )
    printer.clear_status()
    space_id = one_line(copy.space_id)  # its owner is the name the Hub gave the token's account
    print(f"{'created' if copy.created else 'reusing'} {space_id}: it runs", file=sys.stderr)
    print(space_id)
    print(f"chat with it: qwen-space chat --url {space_id}", file=sys.stderr)
    return 0


def _secret(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        # Not the text itself: it may be the secret's value, given without its name.
        raise argparse.ArgumentTypeError("a secret is KEY=VALUE, like --secret YOUR_API_TOKEN=sk-...")
    return key, value
