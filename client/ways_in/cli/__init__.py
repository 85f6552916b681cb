"""The ``qwen-space`` command line.

``chat`` streams an answer (interactive multi-turn on a terminal without a prompt:
``repl``), ``replay`` plays a recorded session offline (a bundled one by default),
``info`` describes a Space, ``contract check`` reports drift from the pinned contract,
``record`` writes cassettes of scenarios or of your own prompts, ``cassette diff``
compares two, ``duplicate`` makes your own copy of the Space on the Hub, and ``serve``
offers the Space as an OpenAI-compatible API: a module each. ``_terminal`` holds what
they share on the way to a terminal: each kind of error's exit code (``EXIT_CODES``),
error reports, and a Space's text made safe to print.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from ....protocol import QwenSpaceError
from ....protocol.errors import AuthenticationError, GPUQuotaError
from ...errors import SpaceTimeoutError
from ._parser import parser
from ._space import JOB
from ._terminal import EXIT_CODES, EXIT_INTERRUPTED, exit_code, quiet_stdout, report

__all__ = ["EXIT_CODES", "exit_code", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(asyncio.run(args.run(args)))
    except KeyboardInterrupt:
        # asyncio.run cancelled the chat: its clean-up posted the cancel to the Space.
        done = ": the job was cancelled on the Space" if JOB.running else ""
        print(f"\ninterrupted{done}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except QwenSpaceError as error:
        report(error, _message(error, args), as_json=getattr(args, "json", False))
        return exit_code(error)
    except BrokenPipeError:
        quiet_stdout()
        return 0


def _message(error: QwenSpaceError, args: argparse.Namespace) -> str:
    """The error's message, its advice in the command line's words where the library
    gives it in Python's (``hf_token=``, ``Timeouts(...)``)."""
    message = str(error)
    if isinstance(error, AuthenticationError) and "token" in vars(args):
        return _unauthorised(error, args)
    if isinstance(error, GPUQuotaError):
        return message.replace("hf_token= or $HF_TOKEN", "--token or $HF_TOKEN")
    if isinstance(error, SpaceTimeoutError) and "timeout" in vars(args):
        # The library's advice names its Python API: the first clause says what happened.
        happened = message.split(";")[0].replace(" (Timeouts.start)", "")
        if error.phase == "start":
            return f"{happened}; try again later, or allow longer than --timeout {args.timeout:g} s"
        if error.phase == "total":
            return f"{happened}; for long answers, allow longer than --timeout {args.timeout:g} s"
    return message


def _unauthorised(error: AuthenticationError, args: argparse.Namespace) -> str:
    """A 401/403 in the flags' words: ``--token`` for a Hugging Face token, ``--auth`` for
    an app's own login. Never the password: the message holds the user name at most."""
    detail = f": {error.detail}" if error.detail else ""
    login = "auth" in vars(args)
    # Gradio refuses a login with 400, which no other request's 401/403 is; the library's
    # wording covers a login refused with 401/403 (client/core/login.py).
    refused_login = error.status == 400 or str(error).startswith("the app refused the login")
    if login and args.auth is not None and refused_login:
        return (
            f"the app refused the login of {args.auth[0]!r} (HTTP {error.status}{detail}); "
            "check the user name and password given with --auth"
        )
    app_login = "; an app launched with auth= needs its own login: pass --auth USER" if login else ""
    return (
        f"the Space refused the request as unauthorised (HTTP {error.status}{detail}); a private Space needs a "
        f"Hugging Face token with access to it: pass --token (or set $HF_TOKEN){app_login}"
    )
