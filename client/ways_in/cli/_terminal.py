"""What every command shares on its way to a terminal: exit codes, error reports, and
the Space's text made safe to print (no terminal controls, bounded length and depth)."""

from __future__ import annotations

import json
import os
import re
import sys
from importlib import metadata

from ....protocol import QwenSpaceError
from ....protocol.errors import (
    AppError,
    ContractMismatchError,
    GPUQuotaError,
    JobCancelledError,
    QueueFullError,
    RateLimitedError,
    RemoteProtocolError,
    RequestRejectedError,
    SpaceHTTPError,
    SpaceUnavailableError,
    StreamError,
)
from ...errors import (
    CassetteError,
    ClientClosedError,
    EmptyReplyError,
    HubError,
    RedirectRefusedError,
    ReplyRewrittenError,
    SpaceNotFoundError,
    SpaceNotRunningError,
    SpaceTimeoutError,
    TransportError,
    UsageError,
)

__all__ = [
    "EXIT_CODES",
    "EXIT_DRIFT",
    "EXIT_INTERRUPTED",
    "exit_code",
    "one_line",
    "printable",
    "quiet_stdout",
    "report",
    "shown",
    "version",
]

#: Exit codes, most specific class first. 2 is argparse's usage error; 130 is Ctrl-C.
EXIT_CODES: list[tuple[type[QwenSpaceError], int]] = [
    (CassetteError, 12),
    (ContractMismatchError, 11),
    (RemoteProtocolError, 10),
    # Every "your input is wrong" error is a UsageError (LocalProtocolError too).
    (UsageError, 2),
    # The app's own refusal, but one with a known cure (wait, or another quota): a script tells them apart.
    (GPUQuotaError, 21),
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


def exit_code(error: QwenSpaceError) -> int:
    return next(code for kind, code in EXIT_CODES if isinstance(error, kind))


def report(error: QwenSpaceError, message: str, *, as_json: bool) -> None:
    """An error as text on stderr, or with ``--json`` as the last event on stdout, where a
    program reading the events finds it."""
    message = one_line(message)
    if not as_json:
        print(f"qwen-space: error: {message}", file=sys.stderr)
        return
    line: dict[str, object] = {
        "type": "error",
        "error": type(error).__name__,
        "message": message,
        "exit_code": exit_code(error),
    }
    if isinstance(error, (GPUQuotaError, RateLimitedError)):
        line["retry_after"] = error.retry_after  # seconds, or null when the Space named no wait
    try:
        print(json.dumps(line, ensure_ascii=False), flush=True)
    except BrokenPipeError:
        quiet_stdout()


def quiet_stdout() -> None:
    """The reader (e.g. ``| head``) went away: further output goes nowhere, as Unix tools do."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def version() -> str:
    try:
        return metadata.version("qwen-space")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown"


# Escape sequences (CSI, OSC and the other string controls, up to their terminator, and
# the rest), then any control character left but tab and line feed.
_TERMINAL_CONTROLS = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


def printable(text: str) -> str:
    """``text`` without terminal controls: what a server says (the Hub's stage, its
    reasons, a log message, an error's text) is printed, never obeyed by the user's terminal."""
    return _TERMINAL_CONTROLS.sub("", text)


def one_line(text: str) -> str:
    return " ".join(printable(text).split())


def shown(value: object, limit: int = 200) -> str:
    """A Space's value (a default, a choice) as one printable line of at most ``limit``
    characters, however deep or long it is: ``repr`` would recurse through all of it."""
    text = _bounded(value, depth=4, width=limit)
    return one_line(text if len(text) <= limit else text[: limit - 3] + "...")


def _bounded(value: object, *, depth: int, width: int) -> str:
    if isinstance(value, (list, tuple, dict)):
        if depth == 0:
            return "[...]" if isinstance(value, list) else "(...)" if isinstance(value, tuple) else "{...}"
        items = list(value.items())[:20] if isinstance(value, dict) else list(value)[:20]
        if isinstance(value, dict):
            parts = [
                f"{_bounded(k, depth=0, width=width)}: {_bounded(v, depth=depth - 1, width=width)}" for k, v in items
            ]
        else:
            parts = [_bounded(item, depth=depth - 1, width=width) for item in items]
        if len(value) > len(items):
            parts.append("...")
        inner = ", ".join(parts)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})" if isinstance(value, tuple) else f"{{{inner}}}"
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 256:
        return f"<int of {value.bit_length()} bits>"  # repr refuses past 4,300 digits
    if isinstance(value, (str, int, float, bool)) or value is None:
        return repr(value[: width + 1] if isinstance(value, str) else value)
    return f"<{type(value).__name__}>"
