"""Recording scenarios into cassettes, and reading a cassette's request back.

Each scenario is a conversation worth keeping as a contract fixture. Against the
replica Space the fake model answers from the same prompts (a long story prompt
gets a story of over 2,000 words, a prompt past the model's context makes the app fail),
so one scenario list serves the real Space and the replica.

Not recordable with vcrpy, and therefore not here: waiting in the queue behind
other jobs (the load would run inside the cassette too) and cancelling mid-stream
(vcrpy reads the whole body before the client sees the first byte, so the client
cannot stop early while recording). The loopback and live tests cover both.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ...protocol import AppError, QwenSpaceError, read_history
from ..core.client import SpaceClient
from ..core.errors import CassetteError, UsageError
from .cassette import (
    CassetteInfo,
    load_interactions,
    record_cassette,
    refuse_installed_package,
    safe_name,
    save_manifest,
)

__all__ = ["SCENARIOS", "Scenario", "record_scenarios", "recorded_messages"]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    messages: tuple[Mapping[str, Any], ...]
    #: Whether the Space's app is expected to fail this one (``AppError``, recorded all the same).
    fails: bool = False

    @property
    def prompt(self) -> str:
        text = str(self.messages[-1]["content"])
        return text if len(text) <= 200 else f"{text[:100]}... ({len(text)} characters)"


def _user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("hello", (_user("Hello! Who are you?"),)),
        Scenario(
            "system",
            ({"role": "system", "content": "You are a pirate. Answer in one sentence."}, _user("Who are you?")),
        ),
        Scenario(
            "history",
            (
                _user("My name is Ada and I like cats."),
                {"role": "assistant", "content": "Nice to meet you, Ada! Cats are wonderful."},
                _user("What is my name, and what do I like?"),
            ),
        ),
        Scenario("russian", (_user("Привет! Как дела?"),)),
        Scenario("story", (_user("Напиши рассказ про кота 🐱"),)),
        Scenario("long", (_user("Write a story of at least 2000 words about a lighthouse keeper."),)),
        # Far beyond Qwen2.5-Max's context: DashScope refuses it and the Space's app raises.
        Scenario("error", (_user("Summarise this: " + "lorem ipsum " * 12_000),), fails=True),
    )
}


async def record_scenarios(
    url: str, names: Sequence[str], out: Path, *, hf_token: str | None = None
) -> list[tuple[CassetteInfo, AppError | None]]:
    """Record each named scenario into ``out/gradio-<version>/<name>.yaml``; update the manifest.

    Each chat is read with :meth:`SpaceClient.complete`; a cassette is replaced only
    once its scenario was recorded as expected (a reply, or the app's failure for a
    scenario that ``fails``, returned beside its entry), and the manifest lists those
    that were, so a failing Space leaves the old recordings whole.
    The folder's name comes from the Space's ``/config``: anything but a plain version
    becomes ``gradio-unknown``.
    """
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise CassetteError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    _prepare(out)
    async with SpaceClient(url, hf_token=hf_token) as probe:
        reported = (await probe.fetch_config()).version
    version = safe_name(reported)
    directory = out / f"gradio-{version}"
    results: list[tuple[CassetteInfo, AppError | None]] = []
    try:
        for name in names:
            scenario = SCENARIOS[name]
            path = directory / f"{name}.yaml"
            with record_cassette(path, tokens=[hf_token]):
                failure = await _run(url, scenario, hf_token)
            info = CassetteInfo(
                cassette=path.relative_to(out).as_posix(),
                url=url,
                gradio_version=reported if reported == version else None,
                scenario=name,
                prompt=scenario.prompt,
                recorded_at=datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
            )
            results.append((info, failure))
    finally:
        if results:
            save_manifest(out, [info for info, _ in results])
    return results


def _prepare(out: Path) -> None:
    """Refuse an ``out`` that cannot take cassettes before the Space is asked anything."""
    refuse_installed_package(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise UsageError(f"--out {out} is a file, not a directory: name a directory to record into") from None
    except OSError as exc:
        raise UsageError(f"cannot create --out {out} ({exc.strerror}): name a directory you can write to") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write into --out {out} (permission denied): name a directory you can write to")


async def _run(url: str, scenario: Scenario, hf_token: str | None) -> AppError | None:
    """The app's failure if the scenario expects one and got it; any other failure raises."""
    async with SpaceClient(url, hf_token=hf_token) as space:
        try:
            await space.complete(scenario.messages)
        except AppError as error:
            if not scenario.fails:
                raise
            return error
    return None


def recorded_messages(path: Path) -> list[dict[str, Any]]:
    """The conversation a cassette's ``queue/join`` carried, as chat messages.

    Replaying must send the very same join body (bodies are matched), so the
    messages are rebuilt from the recording itself.
    """
    join = next((i for i in load_interactions(path) if i.route.endswith("/queue/join")), None)
    if join is None:
        raise CassetteError(f"{path} holds no queue/join request: it is not a recording of a chat")
    try:
        data = json.loads(join.request_body or "")
    except ValueError:
        data = None
    fields = data.get("data") if isinstance(data, dict) else None
    if not (isinstance(fields, list) and len(fields) == 3 and all(isinstance(f, str) for f in fields[::2])):
        raise CassetteError(
            f"{path}: its queue/join request is not a chat's JSON body (data: [message, history, system prompt])"
        )
    query, history, system = fields
    try:
        turns = read_history(history)
    except QwenSpaceError as error:
        raise CassetteError(f"{path}: the history in its queue/join request cannot be read ({error})") from None
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for turn in turns:
        messages += [{"role": "user", "content": turn.user}, {"role": "assistant", "content": turn.assistant}]
    messages.append({"role": "user", "content": query})
    return messages
