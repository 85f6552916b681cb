"""``qwen-space chat``: stream an answer; interactive (``repl``) on a terminal without a prompt."""

from __future__ import annotations

import argparse
import sys

from ...core.files import LocalFile
from ._arguments import auth_option, chat_options, connection_options, file_options
from ._printer import Printer
from ._space import client, options, stream
from .repl import interactive

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    chat = commands.add_parser("chat", help="stream an answer (interactive without a prompt on a terminal)")
    chat.add_argument("prompt", nargs="?", help="the question; read from stdin when it is not a terminal")
    connection_options(chat)
    auth_option(chat)
    chat_options(chat)
    chat.add_argument(
        "--system",
        help="system prompt, sent to the app's system-prompt input (an error for an app without one; "
        "default: the app's own, 'You are a helpful assistant.' on the Qwen Space)",
    )
    file_options(chat)
    chat.add_argument("--json", action="store_true", help="print one JSON event per line instead of text")
    chat.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    printer = Printer(as_json=args.json)
    prompt = args.prompt
    if prompt is None and not sys.stdin.isatty():
        # `echo question | qwen-space chat`: the line's end is the shell's, not the question's.
        prompt = sys.stdin.read().rstrip("\r\n")
    # Read (and checked against the cap) before anything is sent to the Space.
    files = [LocalFile.at(path, max_size=args.max_upload_size, argument="--max-upload-size") for path in args.file]
    async with client(args) as space:
        chosen = await options(space, args)
        if prompt is not None or files:
            await stream(
                space,
                [{"role": "user", "content": prompt or ""}],
                printer,
                args.system,
                chosen,
                files=files,
                save_files=args.save_files,
            )
            return 0
        return await interactive(space, printer, args.system, chosen, save_files=args.save_files)
