"""The interactive chat: ``qwen-space chat`` on a terminal without a prompt.

A multi-turn conversation with line editing and history (readline, where Python has
it). Lines starting with ``/`` are commands: ``/reset`` forgets the conversation,
``/system TEXT`` sets the system prompt (``/system`` alone: the app's own),
``/save PATH`` writes the conversation as JSON, ``/help`` lists them. Ctrl-C during an
answer stops it (cancelled on the Space) and leaves that turn out of the conversation,
as a failed turn is; at the prompt, Ctrl-C ends the command (130), Ctrl-D or an empty
line ends the chat (0).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from ....protocol import QwenSpaceError
from ...core.client import SpaceClient
from ._lines import LineReader, kept_terminal
from ._printer import Printer
from ._space import JOB, stream
from ._terminal import one_line, report

__all__ = ["Conversation", "interactive"]

_HELP = (
    "commands: /reset forgets the conversation, /system TEXT sets the system prompt (/system alone: the app's "
    "own), /save PATH writes the conversation as JSON, /help; start a line with // to send it with one /"
)


@dataclass
class Conversation:
    """What the next turn sends: the system prompt and the turns so far."""

    system: str | None
    options: Mapping[str, object] | None
    turns: list[dict[str, str]] = field(default_factory=list)

    def as_json(self, space: SpaceClient) -> dict[str, Any]:
        system = [] if self.system is None else [{"role": "system", "content": self.system}]
        return {"space": space.url, "options": dict(self.options or {}), "messages": system + self.turns}


async def interactive(
    space: SpaceClient, printer: Printer, system: str | None, options: Mapping[str, object] | None
) -> int:
    name = f"{space.space_id} ({space.url})" if space.space_id else space.url
    print(f"Chatting with {name}. Ctrl-C stops an answer; an empty line or Ctrl-D ends the chat.", file=sys.stderr)
    reader = LineReader()
    if reader.editing:
        print("Arrows edit the line and recall earlier ones; /help lists the commands.", file=sys.stderr)
    conversation = Conversation(system, options)
    with kept_terminal():
        while True:
            line = await reader.read_line("you> ")
            if line is None:
                print()  # so that the shell's prompt does not start after "you> "
                return 0
            if not line.strip():
                return 0
            if line.startswith("/") and not line.startswith("//"):
                await _command(space, conversation, line)
                continue
            await _turn(space, printer, conversation, line.removeprefix("/"))


async def _turn(space: SpaceClient, printer: Printer, conversation: Conversation, line: str) -> None:
    turns = conversation.turns
    turns.append({"role": "user", "content": line})
    try:
        answer = await _until_ctrl_c(stream(space, turns, printer, conversation.system, conversation.options))
    except QwenSpaceError as error:
        turns.pop()
        report(error, str(error), as_json=printer.as_json)
        return
    if answer is None:
        turns.pop()
        printer.end_line()
        done = "the answer was cancelled on the Space" if JOB.running else "the Space had not started the answer"
        print(f"(stopped: {done}; it is left out of the conversation)", file=sys.stderr)
        JOB.running = False
        return
    turns.append({"role": "assistant", "content": answer})


async def _command(space: SpaceClient, conversation: Conversation, line: str) -> None:
    name, _, rest = line.partition(" ")
    rest = rest.strip()
    if name == "/reset":
        conversation.turns.clear()
        print("(the conversation is forgotten: the next question starts a new one)", file=sys.stderr)
    elif name == "/system":
        await _system(space, conversation, rest or None)
    elif name == "/save" and rest:
        try:
            _save(Path(rest).expanduser(), conversation.as_json(space))
        except OSError as exc:
            print(f"(not saved: cannot write {rest} ({exc.strerror or exc}))", file=sys.stderr)
            return
        print(f"(saved {len(conversation.turns)} message(s) to {rest})", file=sys.stderr)
    else:
        print(_HELP if name in ("/help", "/?") else f"(unknown command {one_line(name)!r}) {_HELP}", file=sys.stderr)


async def _system(space: SpaceClient, conversation: Conversation, system: str | None) -> None:
    if system is not None:
        try:
            contract = await space.contract()
        except QwenSpaceError as error:
            report(error, str(error), as_json=False)
            return
        if contract.system_input is None:
            print("(this Space's app has no system-prompt input: the system prompt is unchanged)", file=sys.stderr)
            return
    conversation.system = system
    shown = "the app's own" if system is None else repr(system)
    print(f"(system prompt for the next questions: {shown})", file=sys.stderr)


def _save(path: Path, conversation: Mapping[str, Any]) -> None:
    """Write ``path`` whole or not at all: a temporary file beside it, then renamed over it."""
    data = json.dumps(conversation, ensure_ascii=False, indent=2) + "\n"
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


async def _until_ctrl_c(chat: Coroutine[Any, Any, str]) -> str | None:
    """The result of ``chat``, or ``None`` if Ctrl-C cancelled it.

    While it runs, SIGINT cancels it instead of the whole command (asyncio.run's
    handler); a second Ctrl-C meanwhile does not interrupt its clean-up (the cancel
    posted to the Space). Where SIGINT is ignored or cannot be handled here (not the
    main thread), it runs as it is.
    """
    task = asyncio.ensure_future(chat)
    if threading.current_thread() is not threading.main_thread() or not callable(signal.getsignal(signal.SIGINT)):
        return await task
    loop = asyncio.get_running_loop()
    interrupted = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal interrupted
        if not interrupted:
            interrupted = True
            loop.call_soon_threadsafe(task.cancel)

    previous = signal.signal(signal.SIGINT, stop)
    try:
        return await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if interrupted and task.cancelled() and (current is None or current.cancelling() == 0):
            return None
        raise
    finally:
        signal.signal(signal.SIGINT, previous)
