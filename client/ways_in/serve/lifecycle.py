"""``serve``'s life as a process: the start-up checks, the runner, the log lines on
stderr, and the stop on Ctrl-C or SIGTERM (a drain, then the Space jobs left cancelled)."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from aiohttp import web

from .app import IN_FLIGHT, SPACES, close_spaces, create_openai_app
from .settings import parse_endpoints, parse_options, resolve_presets

__all__ = ["SHUTDOWN_TIMEOUT", "make_runner", "serve"]

logger = logging.getLogger("qwen_space.serve")

#: Seconds answers in progress get to finish once Ctrl-C or SIGTERM asks the server to
#: stop; then their jobs are cancelled on the Space. Below the 10 s container runtimes
#: give a process between SIGTERM and SIGKILL, so the cancels still go out.
SHUTDOWN_TIMEOUT = 5.0


def make_runner(app: web.Application) -> web.AppRunner:
    """The runner ``qwen-space serve`` uses: a client that disconnects cancels its
    request's handler, whose clean-up cancels the job on the Space at once."""
    # At shutdown the handlers' chats are already closed (see serve): they only write
    # their last event, so a short grace suffices.
    return web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=2.0)


class _Stop:
    """Ctrl-C and SIGTERM: the first asks for a drain, the next for a stop at once."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self.asked = asyncio.Event()
        self.now = asyncio.Event()

    def __call__(self, signum: int) -> None:
        if self.signal is None:
            self.signal = signum
            self.asked.set()
        else:
            self.now.set()

    @property
    def again(self) -> str:
        return "Ctrl-C" if self.signal == signal.SIGINT else signal.Signals(self.signal or signal.SIGTERM).name

    def install(self) -> list[int]:
        """Handle the signals this process does not ignore; the ones handled."""
        loop = asyncio.get_running_loop()
        installed: list[int] = []
        for signum in (signal.SIGINT, signal.SIGTERM):
            # An ignored SIGINT (a background job) stays ignored, as the shell meant.
            if signal.getsignal(signum) == signal.SIG_IGN:
                continue
            try:
                loop.add_signal_handler(signum, self, signum)
            except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C raises KeyboardInterrupt instead
                continue
            installed.append(signum)
        return installed


async def checked_app(
    url: str | None,
    spaces: Mapping[str, str] | None,
    endpoint_flags: Sequence[str],
    option_flags: Sequence[str],
    api_key: str | None,
    **options: Any,
) -> web.Application:
    """The app, once the ``--endpoint`` and ``--option`` flags fit their Spaces' contracts
    (each such Space's ``/config`` is read now, so a bad flag stops the start)."""
    aliases = list(spaces or {})
    endpoints = parse_endpoints(endpoint_flags, aliases)
    texts = parse_options(option_flags, aliases)
    targets: dict[str | None, str | None] = dict(spaces.items()) if spaces else {None: url}
    presets = await resolve_presets(targets, endpoints, texts, **options) if endpoints or texts else {}
    if spaces:
        aliased = {alias: presets[alias] for alias in presets if alias is not None}
        named = {alias: endpoints[alias] for alias in endpoints if alias is not None}
        return create_openai_app(api_key=api_key, spaces=spaces, endpoints=named, presets=aliased, **options)
    if None in endpoints:
        options["endpoint"] = endpoints[None]
    if presets.get(None):
        options["options"] = {**options.get("options", {}), **presets[None]}
    return create_openai_app(url, api_key=api_key, **options)


async def serve(
    *,
    host: str,
    port: int,
    api_key: str | None,
    url: str | None = None,
    spaces: Mapping[str, str] | None = None,
    endpoint_flags: Sequence[str] = (),
    option_flags: Sequence[str] = (),
    shutdown_timeout: float = SHUTDOWN_TIMEOUT,
    **options: Any,
) -> int:
    """Serve until Ctrl-C or SIGTERM; the address goes to stderr once listening, then
    one line per request. ``endpoint_flags`` and ``option_flags`` are ``--endpoint`` and
    ``--option`` as given (checked before listening: :class:`UsageError`). The first
    signal lets answers in progress finish for up to ``shutdown_timeout`` seconds, a
    second stops at once; either way the jobs still running are cancelled on the Space.
    Returns 130 after Ctrl-C, 0 after SIGTERM."""
    if not api_key and not _is_loopback(host):
        print(
            f"qwen-space: warning: listening on {host} without --api-key: anyone who can reach this address "
            "can use the Space through it",
            file=sys.stderr,
        )
    app = await checked_app(url, spaces, endpoint_flags, option_flags, api_key, **options)
    runner = make_runner(app)
    lines = logging.StreamHandler(sys.stderr)
    lines.setFormatter(logging.Formatter("qwen-space: %(message)s"))
    logger.addHandler(lines)
    level = logger.level
    logger.setLevel(logging.INFO)
    stop = _Stop()
    loop = asyncio.get_running_loop()
    handled: list[int] = []
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            print(f"qwen-space: error: cannot listen on {host}:{port} ({exc})", file=sys.stderr)
            return 1
        handled = stop.install()
        _say_serving(runner, app)
        await stop.asked.wait()
        await _drain(runner, app, stop, shutdown_timeout)
        return 130 if stop.signal == signal.SIGINT else 0  # 130: the CLI's code for Ctrl-C
    finally:
        await runner.cleanup()  # closes the client, cancelling any job left (also after KeyboardInterrupt)
        for signum in handled:
            loop.remove_signal_handler(signum)
        logger.removeHandler(lines)
        logger.setLevel(level)


def _say_serving(runner: web.AppRunner, app: web.Application) -> None:
    bound = ", ".join(_base_url(address) for address in runner.addresses)
    served = ", ".join(
        space.client.url if space.alias is None else f"{space.alias}={space.client.url}" for space in app[SPACES]
    )
    print(f"serving {served} as an OpenAI-compatible API at {bound} (Ctrl-C stops)", file=sys.stderr)


async def _drain(runner: web.AppRunner, app: web.Application, stop: _Stop, timeout: float) -> None:
    """Stop taking requests, let those in progress finish for ``timeout`` seconds (or
    until a second signal), then cancel the jobs of the rest on the Space."""
    for site in list(runner.sites):
        await site.stop()
    if runner.server is not None:
        runner.server.pre_shutdown()  # idle connections close now, busy ones after their answer
    in_flight = app[IN_FLIGHT]
    if in_flight.count and timeout > 0:
        print(
            f"qwen-space: stopping: waiting up to {timeout:g} s for {_requests(in_flight.count)} in progress; "
            f"{stop.again} again to stop now",
            file=sys.stderr,
        )
        waits = [asyncio.ensure_future(in_flight.idle.wait()), asyncio.ensure_future(stop.now.wait())]
        await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        for wait in waits:
            wait.cancel()
    if in_flight.count:
        print(f"qwen-space: cancelling {_requests(in_flight.count)} on the Space", file=sys.stderr)
    # The jobs are cancelled here, before aiohttp's shutdown: their handlers then end
    # their answers with an error event (or a 503) rather than being cut off.
    await close_spaces(app)


def _requests(count: int) -> str:
    return f"{count} request{'s' if count != 1 else ''}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _base_url(address: Any) -> str:
    host, port = address[0], address[1]
    return f"http://[{host}]:{port}/v1" if ":" in host else f"http://{host}:{port}/v1"
