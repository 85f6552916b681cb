"""The ``qwen-space`` command line.

``chat`` streams an answer (interactive multi-turn on a terminal without a prompt),
``replay`` plays a recorded session offline (a bundled one by default), ``info``
describes a Space, ``contract check`` reports drift from the pinned contract,
``record`` writes scenario cassettes, ``duplicate`` makes your own copy of the Space
on the Hub, and ``serve`` offers the Space as an OpenAI-compatible API. Each kind of
error has its own exit code (``EXIT_CODES``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Coroutine, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from yarl import URL

from ...protocol import (
    LABEL_RULES,
    SYSTEM_COPY_RULE,
    AppError,
    AppKind,
    ChatContract,
    ChatEvent,
    ChatRequestError,
    Completed,
    ContractMismatchError,
    Correction,
    Failed,
    InputRole,
    JobCancelledError,
    LocalProtocolError,
    LogMessage,
    ProgressUpdate,
    QueueFullError,
    QueuePosition,
    QwenSpaceError,
    RateLimitedError,
    ReasoningDelta,
    RemoteProtocolError,
    RequestRejectedError,
    SpaceHTTPError,
    SpaceUnavailableError,
    Started,
    StreamError,
    TextDelta,
    check_contract,
    coerce_option,
    derive_contract,
)
from ..core.client import DEFAULT_SPACE_ID, DEFAULT_URL, SpaceClient, default_url
from ..core.errors import (
    CassetteError,
    ClientClosedError,
    EmptyReplyError,
    InvalidMessagesError,
    RedirectRefusedError,
    ReplyRewrittenError,
    SpaceTimeoutError,
    TransportError,
    UsageError,
    empty_reply,
)
from ..core.qwen import QWEN_CONTRACT
from ..core.timeouts import Timeouts
from ..hub.space import HubError, SpaceInfo, SpaceNotFoundError, SpaceNotRunningError, SpaceStarting
from ..recording.cassette import CassetteInfo, bundled_directory, load_manifest, locate_cassette, use_cassette
from ..recording.diff import semantic_diff
from ..recording.scenarios import SCENARIOS, record_scenarios, recorded_chat
from .serve import SHUTDOWN_TIMEOUT, check_api_key, check_spaces, serve

__all__ = ["EXIT_CODES", "main"]

#: Exit codes, most specific class first. 2 is argparse's usage error; 130 is Ctrl-C.
EXIT_CODES: list[tuple[type[QwenSpaceError], int]] = [
    (CassetteError, 12),
    (ContractMismatchError, 11),
    (RemoteProtocolError, 10),
    (InvalidMessagesError, 3),
    (UsageError, 2),
    (LocalProtocolError, 3),
    (AppError, 4),
    (RequestRejectedError, 6),
    # Refused for now: worth retrying later. Any other HTTP error is not (20).
    (QueueFullError, 5),
    (RateLimitedError, 5),
    (SpaceUnavailableError, 5),
    (SpaceHTTPError, 20),
    (SpaceTimeoutError, 8),
    (TransportError, 7),
    (StreamError, 9),
    (JobCancelledError, 9),
    (ReplyRewrittenError, 13),
    (SpaceNotFoundError, 14),
    (SpaceNotRunningError, 15),
    (HubError, 16),
    (EmptyReplyError, 17),
    (RedirectRefusedError, 18),
    (ClientClosedError, 19),
    (QwenSpaceError, 1),
]
EXIT_INTERRUPTED = 130
EXIT_DRIFT = 11

# Whether a job is running on the Space: what Ctrl-C interrupted.
_job_running = False


def exit_code(error: QwenSpaceError) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(asyncio.run(args.run(args)))
    except KeyboardInterrupt:
        # asyncio.run cancelled the chat: its clean-up posted the cancel to the Space.
        done = ": the job was cancelled on the Space" if _job_running else ""
        print(f"\ninterrupted{done}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except QwenSpaceError as error:
        message = _one_line(str(error))
        if isinstance(error, SpaceTimeoutError) and "timeout" in vars(args):
            if error.phase == "start":
                message += f" (--timeout {args.timeout:g} s bounds this wait: raise it to wait longer)"
            else:
                message += f" (the whole answer may take --timeout {args.timeout:g} s: raise it for long answers)"
        _report(error, message, as_json=getattr(args, "json", False))
        return exit_code(error)
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _report(error: QwenSpaceError, message: str, *, as_json: bool) -> None:
    """An error as text on stderr, or with ``--json`` as the last event on stdout, where a
    program reading the events finds it."""
    if not as_json:
        print(f"qwen-space: error: {message}", file=sys.stderr)
        return
    report = {"type": "error", "error": type(error).__name__, "message": message, "exit_code": exit_code(error)}
    try:
        print(json.dumps(report, ensure_ascii=False), flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def _version() -> str:
    try:
        return metadata.version("qwen-space")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


def _one_line(text: str) -> str:
    return " ".join(_printable(text).split())


# Escape sequences (CSI, OSC and the other string controls, up to their terminator, and
# the rest), then any control character left but tab and line feed.
_TERMINAL_CONTROLS = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def _printable(text: str) -> str:
    """``text`` without terminal controls: what a server says (the Hub's stage, its
    reasons, an error's text) is printed, never obeyed by the user's terminal."""
    return _TERMINAL_CONTROLS.sub("", text)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="qwen-space", description="Chat with Qwen2.5-Max through its Gradio Space.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True)

    chat = commands.add_parser("chat", help="stream an answer (interactive without a prompt on a terminal)")
    chat.add_argument("prompt", nargs="?", help="the question; read from stdin when it is not a terminal")
    _connection_options(chat)
    _chat_options(chat)
    chat.add_argument(
        "--system",
        help="system prompt, sent to the app's system-prompt input (an error for an app without one; "
        "default: the app's own, 'You are a helpful assistant.' on the Qwen Space)",
    )
    chat.add_argument("--json", action="store_true", help="print one JSON event per line instead of text")
    chat.set_defaults(run=_chat)

    replay = commands.add_parser("replay", help="play a recorded session offline, as `chat` would print it")
    replay.add_argument("cassette", nargs="?", help="a cassette file, or a bundled name like gradio-5.50.0/hello.yaml")
    replay.add_argument("--json", action="store_true", help="print one JSON event per line instead of text")
    replay.add_argument("--list", action="store_true", help="list the bundled cassettes and exit")
    replay.set_defaults(run=_replay)

    info = commands.add_parser("info", help="describe a Space: its stage on the Hub, Gradio version, endpoints")
    info.add_argument("space", nargs="?", help="a Space id (OWNER/NAME) or URL; the same as --url")
    _connection_options(info)
    _endpoint_option(info)
    info.set_defaults(run=_info)

    contract = commands.add_parser("contract", help="compare a Space with the pinned Qwen2.5-Max contract")
    contract_commands = contract.add_subparsers(dest="contract_command", required=True)
    check = contract_commands.add_parser(
        "check", help="report drift; exit 11 if the client cannot handle it (any drift with --strict)"
    )
    _connection_options(check)
    _endpoint_option(check)
    check.add_argument("--strict", action="store_true", help="exit 11 on any drift, even one the client handles")
    check.set_defaults(run=_contract_check)

    cassette = commands.add_parser("cassette", help="work with recorded sessions")
    cassette_commands = cassette.add_subparsers(dest="cassette_command", required=True)
    diff = cassette_commands.add_parser("diff", help="what changed between two recordings; exit 11 if anything")
    diff.add_argument("old", help="a cassette file, or a bundled name like gradio-5.50.0/hello.yaml")
    diff.add_argument("new", help="a cassette file, or a bundled name")
    diff.set_defaults(run=_cassette_diff)

    serve = commands.add_parser("serve", help="serve the Space as an OpenAI-compatible API (/v1/chat/completions)")
    _connection_options(serve)
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
        type=_seconds_or_zero,
        default=SHUTDOWN_TIMEOUT,
        metavar="SECONDS",
        help=f"on Ctrl-C or SIGTERM, seconds answers in progress may take to finish before their jobs are "
        f"cancelled on the Space (default {SHUTDOWN_TIMEOUT:g}; a second signal stops at once)",
    )
    serve.set_defaults(run=_serve)

    record = commands.add_parser("record", help="record scenarios into vcrpy cassettes")
    _connection_options(record)
    _chat_options(record)
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
    record.set_defaults(run=_record)

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
    duplicate.add_argument("--proxy", type=_proxy_url, help="http(s) proxy URL for the wait")
    duplicate.add_argument(
        "--token", default=None, help="Hugging Face token with write access (default: $HF_TOKEN, else the saved login)"
    )
    duplicate.add_argument(
        "--timeout", type=float, default=900.0, help="seconds to wait for the copy to run (default 900)"
    )
    duplicate.set_defaults(run=_duplicate)
    return parser


def _connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", default=default_url(), help="Space URL or id (default: $QWEN_SPACE_URL, else the Qwen2.5-Max Space)"
    )
    parser.add_argument("--proxy", type=_proxy_url, help="http(s) proxy URL")
    parser.add_argument(
        "--token",
        help="Hugging Face token, sent wherever --url points (default: $HF_TOKEN, else the saved login, "
        "sent only to Hugging Face hosts)",
    )
    parser.add_argument(
        "--timeout",
        type=_seconds,
        default=900.0,
        help="seconds for a whole answer, /config included; a Space given by id is waited for up to as long "
        "to start (default 900)",
    )


def _endpoint_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        type=_endpoint,
        metavar="NAME_OR_FN_INDEX",
        help="the chat event: an api_name like /chat, or a fn_index (default: the one chat event found in /config)",
    )


def _chat_options(parser: argparse.ArgumentParser) -> None:
    _endpoint_option(parser)
    parser.add_argument(
        "--option",
        type=_option,
        action="append",
        default=[],
        metavar="LABEL=VALUE",
        help="set the app's input labelled LABEL, e.g. --option Temperature=0.2; repeatable "
        "(`qwen-space info` lists them)",
    )


def _endpoint(text: str) -> str | int:
    if text.strip().isdigit():
        return int(text)
    if not text.strip().strip("/"):
        raise argparse.ArgumentTypeError(f"{text!r} is not an endpoint: give an api_name like /chat, or a fn_index")
    return text.strip()


def _option(text: str) -> tuple[str, str]:
    label, equals, value = text.partition("=")
    if not equals or not label.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not LABEL=VALUE, like Temperature=0.2")
    return label.strip(), value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def _proxy_url(text: str) -> str:
    # Checked here, before any request: aiohttp would report it as a failed connection.
    try:
        url = URL(text)
        valid = url.scheme in ("http", "https") and bool(url.host) and url.port is not None
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) proxy URL, like http://proxy.example:3128")
    return text


def _secret(text: str) -> tuple[str, str]:
    key, equals, value = text.partition("=")
    if not equals or not key:
        # Not the text itself: it may be the secret's value, given without its name.
        raise argparse.ArgumentTypeError("a secret is KEY=VALUE, like --secret YOUR_API_TOKEN=sk-...")
    return key, value


def _client(args: argparse.Namespace) -> SpaceClient:
    # Every phase within --timeout: the total bounds them all, these only shorten them.
    # The wait for a Space to start comes before the total, and gets as long.
    timeouts = Timeouts(
        config=min(30.0, args.timeout), join=min(30.0, args.timeout), total=args.timeout, start=args.timeout
    )
    return SpaceClient(
        args.url, proxy=args.proxy, hf_token=args.token, timeouts=timeouts, endpoint=getattr(args, "endpoint", None)
    )


async def _options(space: SpaceClient, args: argparse.Namespace) -> dict[str, object] | None:
    """``--option`` values as the types of the inputs they name, from the Space's
    ``/config``: a label the app lacks or a value it would refuse is a usage error
    naming the label before the chat is sent."""
    if not args.option:
        return None
    contract = derive_contract(await space.config(), args.endpoint)
    settable = [s for s in contract.inputs if s.role in (InputRole.OPTION, InputRole.SYSTEM)]
    options: dict[str, object] = {}
    for label, text in args.option:
        found = [s for s in settable if s.label == label] or [
            s for s in settable if (s.label or "").casefold() == label.casefold()
        ]
        if not found:
            known = ", ".join(repr(s.label) for s in settable) or "none"
            raise ChatRequestError(f"this Space has no option {label!r} (its options: {known})", label=label)
        options[label] = coerce_option(found[0], text)
    return options


class _Printer:
    """Text to stdout as it arrives; queue position and logs to stderr."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        # The streams of the moment, not of import time: a caller of main() may have replaced them.
        self.out: TextIO = sys.stdout
        self.err: TextIO = sys.stderr
        self.live_status = self.err.isatty()
        self._status_shown = False
        self._mid_line = False
        # Thoughts are for a person watching: dimmed on a terminal, never in a pipe or a log.
        self._thought_title: str | None = None

    def status(self, text: str) -> None:
        if self.live_status:
            self.err.write(f"\r\x1b[K{text}")
            self._status_shown = True
        else:
            self.err.write(text + "\n")
        self.err.flush()

    def clear_status(self) -> None:
        if self._status_shown:
            self.err.write("\r\x1b[K")
            self.err.flush()
            self._status_shown = False

    def end_line(self) -> None:
        """End the line an interrupted answer left open."""
        self.clear_status()
        if self._mid_line:
            self.out.write("\n")
            self.out.flush()
            self._mid_line = False

    def event(self, event: ChatEvent | SpaceStarting) -> None:
        if self.as_json:
            self.out.write(json.dumps(_event_json(event), ensure_ascii=False) + "\n")
            self.out.flush()
            return
        if isinstance(event, SpaceStarting):
            self.status(_printable(str(event)))
        elif isinstance(event, QueuePosition):
            position = "?" if event.rank is None else str(event.rank + 1)
            size = f" of {event.queue_size}" if event.queue_size is not None else ""
            eta = f", about {event.eta:.0f} s" if event.eta is not None else ""
            self.status(f"waiting in the queue: position {position}{size}{eta}")
        elif isinstance(event, Started):
            self.clear_status()
        elif isinstance(event, ReasoningDelta):
            self._thought(event)
        elif isinstance(event, TextDelta):
            self.clear_status()
            self._end_thought()
            self.out.write(event.text)
            self.out.flush()
            self._mid_line = not event.text.endswith("\n")
        elif isinstance(event, Correction):
            self.out.write(f"\n[the Space rewrote the last {event.retract} characters as:]\n{event.text}")
            self.out.flush()
            self._mid_line = not event.text.endswith("\n")
        elif isinstance(event, LogMessage):
            self.clear_status()
            self.err.write(f"[{event.level}] {event.message}\n")
        elif isinstance(event, Completed):
            self.clear_status()
            self._end_thought()
            self.out.write("\n")
            self.out.flush()
            self._mid_line = False
        elif isinstance(event, Failed):
            self.clear_status()
            self._end_thought()
            self.out.write("\n" if event.error.partial_text else "")
            self._mid_line = False

    def _thought(self, event: ReasoningDelta) -> None:
        if not self.live_status:
            return
        self.clear_status()
        title = f"{_one_line(event.title) or 'Thinking'}: " if event.title != self._thought_title else ""
        self._thought_title = event.title
        # The Space's text, printed, never obeyed: no escape sequence of its own reaches the terminal.
        self.err.write(f"{_DIM}{title}{_printable(event.text)}{_UNDIM}")
        self.err.flush()

    def _end_thought(self) -> None:
        if self._thought_title is not None:
            self.err.write("\n")
            self.err.flush()
            self._thought_title = None


_DIM, _UNDIM = "\x1b[2m", "\x1b[0m"


def _event_json(event: ChatEvent | SpaceStarting) -> dict[str, Any]:
    if isinstance(event, Failed):
        error = event.error
        return {
            "type": "failed",
            "error": type(error).__name__,
            "message": str(error),
            "partial_text": error.partial_text,
        }
    if isinstance(event, ProgressUpdate):
        return {
            "type": "progress",
            "units": [{"index": u.index, "length": u.length, "desc": u.desc} for u in event.units],
        }
    names = {
        SpaceStarting: "starting",
        QueuePosition: "queue",
        Started: "started",
        TextDelta: "delta",
        ReasoningDelta: "reasoning",
        Correction: "correction",
        LogMessage: "log",
        Completed: "completed",
    }
    fields = {slot: getattr(event, slot) for slot in type(event).__slots__}
    return {"type": names[type(event)], **fields}


async def _stream(
    space: SpaceClient,
    messages: Sequence[Mapping[str, Any]],
    printer: _Printer,
    system: str | None,
    options: Mapping[str, object] | None = None,
) -> str:
    """Print one chat; return its text, or raise its error. Cancelled (Ctrl-C), it
    cancels the job on the Space before it ends."""
    global _job_running
    async with contextlib.aclosing(space.events(messages, system=system, options=options)) as events:
        async for event in events:
            # Chat events come only once the Space has accepted the job; Ctrl-C (a
            # cancelled task) leaves this set for main() to report the cancel.
            _job_running = not isinstance(event, (Failed, Completed, SpaceStarting))
            printer.event(event)
            if isinstance(event, Failed):
                raise event.error
            if isinstance(event, Completed):
                if not event.text:
                    raise empty_reply()
                return event.text
    raise RemoteProtocolError("the chat ended without a completion")  # pragma: no cover


async def _chat(args: argparse.Namespace) -> int:
    printer = _Printer(as_json=args.json)
    prompt = args.prompt
    if prompt is None and not sys.stdin.isatty():
        prompt = sys.stdin.read()
    async with _client(args) as space:
        options = await _options(space, args)
        if prompt is not None:
            await _stream(space, [{"role": "user", "content": prompt}], printer, args.system, options)
            return 0
        return await _interactive(space, printer, args.system, options)


async def _interactive(
    space: SpaceClient, printer: _Printer, system: str | None, options: Mapping[str, object] | None
) -> int:
    """A multi-turn chat. Ctrl-C during an answer stops it (cancelled on the Space) and
    leaves that turn out of the conversation, as a failed turn is; at the prompt,
    Ctrl-C ends the command (130), Ctrl-D or an empty line ends the chat (0)."""
    global _job_running
    name = f"{space.space_id} ({space.url})" if space.space_id else space.url
    print(f"Chatting with {name}. Ctrl-C stops an answer; an empty line or Ctrl-D ends the chat.", file=sys.stderr)
    history: list[dict[str, str]] = []
    reader = _LineReader(sys.stdin.fileno())
    while True:
        sys.stdout.write("you> ")
        sys.stdout.flush()
        line = await reader.read_line()
        if line is None:
            print()  # so that the shell's prompt does not start after "you> "
            return 0
        if not line.strip():
            return 0
        history.append({"role": "user", "content": line})
        try:
            answer = await _until_ctrl_c(_stream(space, history, printer, system, options))
        except QwenSpaceError as error:
            history.pop()
            _report(error, _one_line(str(error)), as_json=printer.as_json)
            continue
        if answer is None:
            history.pop()
            printer.end_line()
            done = "the answer was cancelled on the Space" if _job_running else "the Space had not started the answer"
            print(f"(stopped: {done}; it is left out of the conversation)", file=sys.stderr)
            _job_running = False
            continue
        history.append({"role": "assistant", "content": answer})


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


class _LineReader:
    """Lines typed on the terminal, read in a daemon thread, so that Ctrl-C at the
    prompt ends the command at once: asyncio.run waits for its executor's threads,
    and a read of the terminal only returns when a line is typed."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._pending = b""

    async def read_line(self) -> str | None:
        """The next line without its newline; ``None`` at the end of input (Ctrl-D)."""
        loop = asyncio.get_running_loop()
        line: asyncio.Future[bytes | None] = loop.create_future()

        def deliver(result: bytes | None) -> None:
            if not line.done():  # not cancelled by Ctrl-C
                line.set_result(result)

        def read() -> None:
            result = self._read()
            with contextlib.suppress(RuntimeError):  # the loop closed: the command ended meanwhile
                loop.call_soon_threadsafe(deliver, result)

        threading.Thread(target=read, name="qwen-space-stdin", daemon=True).start()
        data = await line
        return None if data is None else data.decode(sys.stdin.encoding or "utf-8", errors="replace")

    def _read(self) -> bytes | None:
        while b"\n" not in self._pending:
            try:
                chunk = os.read(self._fd, 4096)
            except OSError:  # the terminal went away
                chunk = b""
            if not chunk:
                if not self._pending:
                    return None
                # Ctrl-D after some text ends that line, as input() does.
                line, self._pending = self._pending, b""
                return line
            self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line


async def _replay(args: argparse.Namespace) -> int:
    if args.list:
        for name, listed in load_manifest(bundled_directory()).items():
            print(f"{name:<28} {listed.scenario:<8} {_one_line(listed.prompt)[:60]}")
        return 0
    path = locate_cassette(args.cassette)
    info = _recorded_info(path)
    recorded = recorded_chat(path)
    messages = recorded.messages
    printer = _Printer(as_json=args.json)
    if not args.json:
        where = f"{info.url} (Gradio {info.gradio_version}) on {info.recorded_at}" if info else "an unknown Space"
        print(f"replaying {path.name}, recorded from {where}", file=sys.stderr)
        print(f"you> {_one_line(str(messages[-1]['content']))[:200]}", file=sys.stderr)
    with use_cassette(path):
        async with SpaceClient(
            info.url if info else DEFAULT_URL, timeouts=Timeouts(total=60), endpoint=recorded.endpoint
        ) as space:
            try:
                await _stream(space, messages, printer, None, recorded.options)
            except AppError as error:
                if info is None or info.scenario != "error":
                    raise
                print(f"(the recorded session failed, as its scenario expects: {error})", file=sys.stderr)
    return 0


async def _info(args: argparse.Namespace) -> int:
    args.url = args.space or args.url
    async with _client(args) as space:
        hub = await _hub_info(space)
        if hub is not None and hub.stage not in (None, "RUNNING"):
            print(f"url:       {_one_line(space.url)}")
            print(f"/config:   not read: the Space is {_one_line(hub.stage)}")
            return 0
        config = await space.fetch_config()
    # The Hub's host and the Space's /config are both what a server said.
    print(f"url:       {_one_line(space.url)}")
    print(f"gradio:    {_one_line(config.version or 'unknown')}")
    print(f"protocol:  {config.protocol}")
    print(f"prefix:    {_one_line(config.api_prefix or '(none)')}")
    print(f"endpoints: {_one_line(', '.join(config.endpoint_names()) or '(none)')}")
    if args.endpoint is None:
        try:
            endpoint = config.endpoint(QWEN_CONTRACT.api_name)
        except ContractMismatchError:
            pass
        else:
            fmt = endpoint.reply_format.value if endpoint.reply_format else "none"
            print(
                f"chat:      /model_chat = fn {endpoint.fn_index}, trigger {endpoint.trigger_id}, chatbot format {fmt}"
            )
    try:
        contract = derive_contract(config, args.endpoint)
    except ContractMismatchError as error:
        if args.endpoint is not None:
            raise
        print(f"contract:  none derived: {_one_line(str(error))}")
        return 0
    _print_contract(contract)
    return 0


def _print_contract(contract: ChatContract) -> None:
    """The derived contract, then the label rules that gave the inputs their roles."""
    # Labels and defaults are the Space's text: printed, never obeyed.
    lines = contract.describe()
    print(f"contract:  {_one_line(lines[0])}")
    for line in lines[1:]:
        print(f"  {_one_line(line)}")
    print("label rules (first match wins, case-insensitive):")
    for rule in LABEL_RULES:
        print(f"  {rule.kind.value}: {rule.says}")
    print(f"  {LABEL_RULES[0].kind.value}, also: {SYSTEM_COPY_RULE}")


async def _hub_info(space: SpaceClient) -> SpaceInfo | None:
    """Print what the Hub says about a Space given by id (nothing for a URL)."""
    try:
        hub = await space.space_info()
    except HubError as error:
        if not error.unreachable:
            raise
        print(f"hub:       not reachable ({_one_line(str(error))})")
        return None
    if hub is None:
        return None
    # Every value is the Hub's text: printed, never obeyed by the terminal.
    requested = hub.requested_hardware
    requested_text = f" (requested: {_one_line(requested)})" if requested and requested != hub.hardware else ""
    reason = f" ({_one_line(hub.hub_message)})" if hub.hub_message else ""
    sdk = " ".join(part for part in (hub.sdk, hub.sdk_version) if part) or "unknown"
    print(f"space:     {_one_line(hub.space_id)}{' (private)' if hub.private else ''}")
    print(f"stage:     {_one_line(hub.stage or 'unknown')}{reason}")
    print(f"hardware:  {_one_line(hub.hardware or 'none yet')}{requested_text}")
    print(f"sdk:       {_one_line(sdk)}")
    return hub


async def _duplicate(args: argparse.Namespace) -> int:
    try:
        from ..hub.duplicate import QWEN_DEMO_SECRET, duplicate_space
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
    printer = _Printer(as_json=False)
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
    space_id = _one_line(copy.space_id)  # its owner is the name the Hub gave the token's account
    print(f"{'created' if copy.created else 'reusing'} {space_id}: it runs", file=sys.stderr)
    print(space_id)
    print(f"chat with it: qwen-space chat --url {space_id}", file=sys.stderr)
    return 0


async def _contract_check(args: argparse.Namespace) -> int:
    async with _client(args) as space:
        config = await space.fetch_config()
    try:
        derived: ChatContract | None = derive_contract(config, args.endpoint)
    except ContractMismatchError:
        if args.endpoint is not None:
            raise
        derived = None  # as before: reported as drift from the Qwen contract
    if derived is not None and not _is_qwen_layout(derived):
        print(f"{space.url}: a {derived.kind.value} qwen-space can talk to (Gradio {config.version}):")
        for line in derived.describe():
            print(f"  {_one_line(line)}")
        return 0
    drifts = check_contract(config, QWEN_CONTRACT)
    if not drifts:
        print(f"{space.url}: matches the Qwen2.5-Max contract (Gradio {config.version})")
        return 0
    print(f"{space.url}: {len(drifts)} difference(s) from the Qwen2.5-Max contract (Gradio {config.version}):")
    for drift in drifts:
        print(f"  - {drift}" if drift.breaking else f"  - note: {drift}")
    if any(d.breaking for d in drifts):
        print("The client cannot talk to this Space until it is updated; re-record cassettes after that.")
        return EXIT_DRIFT
    print("The client handles every difference (--strict makes them fail).")
    return EXIT_DRIFT if args.strict else 0


def _is_qwen_layout(contract: ChatContract) -> bool:
    """The Qwen demo's layout (``[query, chatbot, system] -> [textbox, chatbot, system]``),
    whatever its event is called: drift there is reported against the Qwen contract."""
    return (
        contract.kind is AppKind.BLOCKS
        and contract.input_types == QWEN_CONTRACT.input_types
        and contract.output_types == QWEN_CONTRACT.output_types
    )


def _recorded_info(path: Path) -> CassetteInfo | None:
    """The manifest entry of ``path`` (``DIR/manifest.json`` names ``gradio-x/name.yaml``),
    if any: only what the header shows, so a missing or foreign manifest is no error."""
    try:
        manifest = load_manifest(path.parent.parent)
    except CassetteError:
        return None
    return manifest.get(f"{path.parent.name}/{path.name}")


async def _cassette_diff(args: argparse.Namespace) -> int:
    args.old, args.new = locate_cassette(args.old), locate_cassette(args.new)
    differences = semantic_diff(args.old, args.new)
    if not differences:
        print(f"{args.old} and {args.new}: no semantic difference")
        return 0
    print(f"{args.old} -> {args.new}:")
    for line in differences:
        print(f"  - {line}")
    return EXIT_DRIFT


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


def _seconds_or_zero(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds (0 or more)")
    return value


def _space(text: str) -> tuple[str, str]:
    alias, equals, space = text.partition("=")
    if not equals:
        raise argparse.ArgumentTypeError(f"{text!r} is not ALIAS=SPACE, like qwen3=Qwen/Qwen3-Demo")
    return alias.strip(), space.strip()


async def _serve(args: argparse.Namespace) -> int:
    spaces = None
    if args.space:
        if args.url != default_url():
            raise UsageError("give the Spaces either as --space ALIAS=SPACE (repeatable) or as one --url, not both")
        spaces = check_spaces(args.space)
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
        timeouts=Timeouts(total=args.timeout),
    )


async def _record(args: argparse.Namespace) -> int:
    options = None
    if args.option:
        async with _client(args) as space:
            options = await _options(space, args)

    def skipped(name: str, why: str) -> None:
        print(f"{name}: skipped ({why})", file=sys.stderr)

    results = await record_scenarios(
        args.url,
        args.scenario,
        args.out,
        hf_token=args.token,
        endpoint=args.endpoint,
        options=options,
        prefix=args.prefix,
        on_skip=skipped,
    )
    for info, failure in results:
        outcome = f"failed ({type(failure).__name__})" if failure is not None else "completed"
        print(f"{info.cassette}: {info.scenario}, {outcome}")
    return 0
