"""The interactive chat: ``qwen-space chat`` on a terminal without a prompt.

A multi-turn conversation with line editing and history (readline, where Python has
it). Lines starting with ``/`` are commands: ``/reset`` forgets the conversation,
``/system TEXT`` sets the system prompt (``/system`` alone: the app's own),
``/save PATH`` writes the conversation as JSON, ``/help`` lists them. Ctrl-C during an
answer stops it (cancelled on the Space) and leaves that turn out of the conversation,
as a failed turn is; at the prompt, Ctrl-C ends the command (130), Ctrl-D or an empty
line ends the chat (0).

The turns are held by the client's :class:`~qwen_space.client.Conversation`: where the
app keeps its model's history in server-side state, every turn runs on one session (as
one browser tab does), so the history is never lost; elsewhere each turn sends the turns
so far.
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
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from ....protocol import Completed, FileReply, QwenSpaceError
from ....protocol._chat_contract import HistoryMode
from ...core.client import SpaceClient
from ...core.conversation import Conversation
from ._lines import LineReader, kept_terminal
from ._printer import Printer
from ._space import JOB, save_file
from ._terminal import one_line, report

__all__ = ["Session", "interactive"]

_HELP = (
    "commands: /reset forgets the conversation, /system TEXT sets the system prompt (/system alone: the app's "
    "own), /save PATH writes the conversation as JSON, /help; start a line with // to send it with one /"
)


@dataclass
class Session:
    """The chat the next turn continues, and what a new one starts with."""

    space: SpaceClient
    system: str | None
    options: Mapping[str, object] | None
    chat: Conversation
    #: Where reply files are saved (``--save-files``); else their URLs are printed.
    save_files: str | None = None

    @classmethod
    def start(
        cls,
        space: SpaceClient,
        system: str | None,
        options: Mapping[str, object] | None,
        save_files: str | None = None,
    ) -> Session:
        return cls(space, system, options, space.conversation(system=system, options=options), save_files)

    def restart(self) -> None:
        self.chat = self.space.conversation(system=self.system, options=self.options)

    def as_json(self) -> dict[str, Any]:
        messages = [] if self.system is None else [{"role": "system", "content": self.system}]
        for turn in self.chat.turns:
            messages += [{"role": "user", "content": turn.user}, {"role": "assistant", "content": turn.assistant}]
        return {"space": self.space.url, "options": dict(self.options or {}), "messages": messages}


async def interactive(
    space: SpaceClient,
    printer: Printer,
    system: str | None,
    options: Mapping[str, object] | None,
    *,
    save_files: str | None = None,
) -> int:
    name = f"{space.space_id} ({space.url})" if space.space_id else space.url
    print(f"Chatting with {name}. Ctrl-C stops an answer; an empty line or Ctrl-D ends the chat.", file=sys.stderr)
    reader = LineReader()
    if reader.editing:
        print("Arrows edit the line and recall earlier ones; /help lists the commands.", file=sys.stderr)
    session = Session.start(space, system, options, save_files)
    with kept_terminal():
        while True:
            line = await reader.read_line("you> ")
            if line is None:
                print()  # so that the shell's prompt does not start after "you> "
                return 0
            if not line.strip():
                return 0
            if line.startswith("/") and not line.startswith("//"):
                await _command(session, line)
                continue
            await _turn(session, printer, line.removeprefix("/"))


async def _turn(session: Session, printer: Printer, line: str) -> None:
    try:
        answer = await _until_ctrl_c(_printed(session, printer, line))
    except QwenSpaceError as error:
        report(error, str(error), as_json=printer.as_json)
        return
    if answer is None:
        printer.end_line()
        done = "the answer was cancelled on the Space" if JOB.running else "the Space had not started the answer"
        print(f"(stopped: {done}; it is left out of the conversation)", file=sys.stderr)
        JOB.running = False


async def _printed(session: Session, printer: Printer, line: str) -> str:
    """Print one turn's events (a reply file saved, or its URL on stderr, as a one-shot
    chat does); its text. The conversation keeps the turn once it completes."""
    try:
        async with contextlib.aclosing(session.chat.events(line)) as events:
            async for event in events:
                # Chat events come only once the Space has accepted the job (see _space.JOB).
                JOB.running = not isinstance(event, Completed)
                if isinstance(event, FileReply):
                    folder = session.save_files
                    saved = None if folder is None else await save_file(session.space, event.file, folder)
                    printer.file(event.file, saved)
                    continue
                printer.event(event)
                if isinstance(event, Completed):
                    return event.text
    finally:
        printer.clear_status()
    raise QwenSpaceError("the chat ended without a completion")  # pragma: no cover


async def _command(session: Session, line: str) -> None:
    name, _, rest = line.partition(" ")
    rest = rest.strip()
    if name == "/reset":
        session.restart()
        print("(the conversation is forgotten: the next question starts a new one)", file=sys.stderr)
    elif name == "/system":
        await _system(session, rest or None)
    elif name == "/save" and rest:
        try:
            _save(Path(rest).expanduser(), session.as_json())
        except OSError as exc:
            print(f"(not saved: cannot write {rest} ({exc.strerror or exc}))", file=sys.stderr)
            return
        print(f"(saved {2 * len(session.chat.turns)} message(s) to {rest})", file=sys.stderr)
    else:
        print(_HELP if name in ("/help", "/?") else f"(unknown command {one_line(name)!r}) {_HELP}", file=sys.stderr)


async def _system(session: Session, system: str | None) -> None:
    try:
        contract = await session.space.contract()
    except QwenSpaceError as error:
        report(error, str(error), as_json=False)
        return
    if system is not None and contract.system_input is None:
        print("(this Space's app has no system-prompt input: the system prompt is unchanged)", file=sys.stderr)
        return
    session.system = system
    shown = "the app's own" if system is None else repr(system)
    if contract.history is HistoryMode.CONVERSATION and session.chat.turns:
        # The app's history lives in its session: a new system prompt needs a new session.
        session.restart()
        print(
            f"(system prompt: {shown}; this app keeps its history in its session, so the conversation starts anew)",
            file=sys.stderr,
        )
        return
    turns = session.chat.turns
    session.restart()
    session.chat.turns.extend(turns)
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
