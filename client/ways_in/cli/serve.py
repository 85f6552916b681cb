"""``qwen-space serve``: the Space as an OpenAI-compatible API (see ``ways_in/serve.py``)."""

from __future__ import annotations

import argparse
import os

from ...core.client import default_url
from ...core.timeouts import Timeouts
from ...errors import UsageError
from ..serve import SHUTDOWN_TIMEOUT, check_api_key, check_spaces, serve
from ._arguments import auth_option, connection_options, login, seconds_or_zero

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="serve the Space as an OpenAI-compatible API (/v1/chat/completions)")
    connection_options(serve)
    auth_option(serve)
    serve.add_argument(
        "--space",
        action="append",
        type=_space,
        metavar="ALIAS=SPACE",
        help="serve the Space (OWNER/NAME or URL) as the model ALIAS, and each choice of its model dropdown as "
        "ALIAS/CHOICE; repeatable, instead of --url",
    )
    serve.add_argument(
        "--endpoint",
        action="append",
        default=[],
        metavar="[ALIAS=]NAME",
        help="the chat event of a Space: ALIAS=/name with --space, /name with --url; repeatable",
    )
    serve.add_argument(
        "--option",
        action="append",
        default=[],
        metavar="[ALIAS:]LABEL=VALUE",
        help="set a Space's input labelled LABEL: ALIAS:LABEL=VALUE with --space, LABEL=VALUE with --url; "
        "repeatable, checked against each Space's /config at start-up",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)"
    )
    serve.add_argument("--port", type=_port, default=8000, help="port to listen on (default: 8000; 0 picks a free one)")
    serve.add_argument(
        "--api-key",
        type=_api_key,
        # An empty variable is an unset one; an empty --api-key is a mistake (see _api_key).
        default=os.environ.get("QWEN_SPACE_API_KEY") or None,
        help="require this Bearer key from clients (default: $QWEN_SPACE_API_KEY; none: no key needed)",
    )
    serve.add_argument(
        "--shutdown-timeout",
        type=seconds_or_zero,
        default=SHUTDOWN_TIMEOUT,
        metavar="SECONDS",
        help=f"on Ctrl-C or SIGTERM, seconds answers in progress may take to finish before their jobs are "
        f"cancelled on the Space (default {SHUTDOWN_TIMEOUT:g}; a second signal stops at once)",
    )
    serve.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    spaces = None
    if args.space:
        if args.url != default_url():
            raise UsageError("give the Spaces either as --space ALIAS=SPACE (repeatable) or as one --url, not both")
        spaces = check_spaces(args.space)
        if args.auth is not None:
            # One login for several apps would send the password to each of them.
            raise UsageError("--auth logs in to the one app of --url: it cannot be given with --space")
    return await serve(
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        url=None if spaces else args.url,
        spaces=spaces,
        endpoint_flags=args.endpoint,
        option_flags=args.option,
        shutdown_timeout=args.shutdown_timeout,
        proxy=args.proxy,
        hf_token=args.token,
        auth=login(args),
        timeouts=Timeouts(total=args.timeout),
    )


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: give 1-65535, or 0 to pick a free one")
    return port


def _api_key(text: str) -> str:
    try:
        return check_api_key(text)
    except UsageError as error:
        raise argparse.ArgumentTypeError(error.message) from None


def _space(text: str) -> tuple[str, str]:
    alias, equals, space = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"{text!r} is not ALIAS=SPACE, like qwen3=Qwen/Qwen3-Demo")
    return alias.strip(), space.strip()
