"""Argument types and the option groups several commands share. A bad value is
argparse's usage error (exit 2), before any request."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from yarl import URL

from ...core.client import default_url
from ...core.files import DEFAULT_MAX_DOWNLOAD_SIZE, DEFAULT_MAX_UPLOAD_SIZE
from ...errors import UsageError

__all__ = [
    "PASSWORD_VARIABLE",
    "auth_option",
    "chat_options",
    "connection_options",
    "endpoint_option",
    "file_options",
    "login",
    "option",
    "proxy_url",
    "seconds",
    "seconds_or_zero",
]


def connection_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url", default=default_url(), help="Space URL or id (default: $QWEN_SPACE_URL, else the Qwen2.5-Max Space)"
    )
    parser.add_argument("--proxy", type=proxy_url, help="http(s) proxy URL")
    parser.add_argument(
        "--token",
        help="Hugging Face token, sent wherever --url points (default: $HF_TOKEN, else the saved login, "
        "sent only to Hugging Face hosts)",
    )
    parser.add_argument(
        "--timeout",
        type=seconds,
        default=900.0,
        help="seconds for a whole answer, /config included; a Space given by id is waited for up to as long "
        "to start (default 900)",
    )


#: Where ``--auth USER`` finds the password when it is not typed: never in argv, which
#: ``ps`` shows to every user of the machine.
PASSWORD_VARIABLE = "QWEN_SPACE_PASSWORD"


def auth_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--auth",
        type=_auth,
        metavar="USER[:PASSWORD]",
        help=f"log in to an app launched with auth= (its origin only); with USER alone the password comes from "
        f"${PASSWORD_VARIABLE}, else is asked on the terminal (a password in the command line shows in ps)",
    )


def login(args: argparse.Namespace) -> tuple[str, str] | None:
    """``--auth`` as ``auth=`` takes it, the password asked for now if it was not given."""
    given: tuple[str, str | None] | None = getattr(args, "auth", None)
    if given is None:
        return None
    user, password = given
    if password is None:
        password = os.environ.get(PASSWORD_VARIABLE) or _ask(user)
        args.auth = (user, password)  # asked once, whichever command reads it again
    return user, password


def _ask(user: str) -> str:
    if not sys.stdin.isatty():
        raise UsageError(
            f"--auth {user} gives no password and none can be asked for (stdin is not a terminal): "
            f"set ${PASSWORD_VARIABLE}, or give --auth USER:PASSWORD"
        )
    try:
        return getpass.getpass(f"password of {user}: ")
    except EOFError:
        raise UsageError("--auth: no password was typed") from None


def _auth(text: str) -> tuple[str, str | None]:
    # The value is never repeated in the message: it may hold the password.
    user, colon, password = text.partition(":")
    if not user.strip() or user != user.strip():
        raise argparse.ArgumentTypeError(
            "the value is not USER or USER:PASSWORD (an empty user name, or one with spaces around it)"
        )
    return user, password if colon else None


def endpoint_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--endpoint",
        type=_endpoint,
        metavar="NAME_OR_FN_INDEX",
        help="the chat event: an api_name like /chat, or a fn_index (default: the one chat event found in /config)",
    )


def chat_options(parser: argparse.ArgumentParser) -> None:
    endpoint_option(parser)
    parser.add_argument(
        "--option",
        type=option,
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


def option(text: str) -> tuple[str, str]:
    # The label as typed: the library matches labels trimmed and case-insensitively, so a
    # label with a trailing space is set as it is shown, and an exact match still wins.
    label, equals, value = text.partition("=")
    if not equals or not label.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not LABEL=VALUE, like Temperature=0.2")
    return label, value


def seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def seconds_or_zero(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds (0 or more)")
    return value


def proxy_url(text: str) -> str:
    # Checked here, before any request: aiohttp would report it as a failed connection.
    try:
        url = URL(text)
        valid = url.scheme in ("http", "https") and bool(url.host) and url.port is not None
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise argparse.ArgumentTypeError(f"{text!r} is not an http(s) proxy URL, like http://proxy.example:3128")
    return text


def file_options(parser: argparse.ArgumentParser) -> None:
    """Files into and out of a chat (``chat``)."""
    parser.add_argument(
        "--file",
        action="append",
        default=[],
        metavar="PATH",
        help="attach a file to the prompt (into the app's multimodal box, else its image/file inputs in order); "
        "repeatable. An image or file input can also be set by label: --option 'Image=@cat.png'",
    )
    parser.add_argument(
        "--save-files",
        metavar="DIR",
        help="save the reply's files into DIR (names sanitised, never overwritten) and print each path on stderr; "
        "without it, each file's URL goes to stderr",
    )
    parser.add_argument(
        "--max-upload-size",
        type=byte_size,
        default=DEFAULT_MAX_UPLOAD_SIZE,
        metavar="BYTES",
        help="refuse a file larger than this before uploading anything, e.g. 200M "
        f"(default {DEFAULT_MAX_UPLOAD_SIZE // (1024 * 1024)}M)",
    )
    parser.add_argument(
        "--max-download-size",
        type=byte_size,
        default=DEFAULT_MAX_DOWNLOAD_SIZE,
        metavar="BYTES",
        help="with --save-files, a reply file larger than this is not downloaded: an error names it and its URL, "
        "e.g. 500M "
        f"(default {DEFAULT_MAX_DOWNLOAD_SIZE // (1024 * 1024)}M)",
    )


def byte_size(text: str) -> int:
    """A size like ``5000``, ``20K``, ``200M`` or ``1G`` (powers of 1024)."""
    number, unit = text.strip(), 1
    for suffix, factor in (("K", 1024), ("M", 1024**2), ("G", 1024**3)):
        if number.upper().endswith((suffix, suffix + "B", suffix + "IB")):
            number, unit = number.upper().split(suffix)[0], factor
            break
    try:
        value = int(float(number) * unit)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size like 5000, 20K or 200M") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive size")
    return value
