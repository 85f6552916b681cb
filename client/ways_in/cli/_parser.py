"""The command line's grammar: each command module adds its own sub-command."""

from __future__ import annotations

import argparse

from . import cassette, chat, contract, duplicate, info, record, replay, serve
from ._terminal import version

__all__ = ["parser"]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="qwen-space", description="Chat with Qwen2.5-Max through its Gradio Space.")
    top.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = top.add_subparsers(dest="command", required=True)
    for command in (chat, replay, info, contract, cassette, serve, record, duplicate):
        command.add_parser(commands)
    return top
