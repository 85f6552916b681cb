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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..protocol import ChatEvent, Completed, Failed, QwenSpaceError, read_history
from ._cassette import CassetteInfo, _ReadableYAML, save_manifest, use_cassette
from ._client import SpaceClient
from ._errors import CassetteError

__all__ = ["SCENARIOS", "Scenario", "record_scenarios", "recorded_messages"]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    messages: tuple[Mapping[str, Any], ...]
    #: Whether the Space is expected to fail this one (recorded all the same).
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
) -> list[tuple[CassetteInfo, ChatEvent]]:
    """Record each named scenario into ``out/gradio-<version>/<name>.yaml``; update the manifest."""
    unknown = [name for name in names if name not in SCENARIOS]
    if unknown:
        raise CassetteError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    async with SpaceClient(url, hf_token=hf_token) as probe:
        version = (await probe.fetch_config()).version or "unknown"
    directory = out / f"gradio-{version}"
    directory.mkdir(parents=True, exist_ok=True)
    results: list[tuple[CassetteInfo, ChatEvent]] = []
    for name in names:
        scenario = SCENARIOS[name]
        path = directory / f"{name}.yaml"
        path.unlink(missing_ok=True)
        with use_cassette(path, record_mode="once"):
            last = await _run(url, scenario, hf_token)
        info = CassetteInfo(
            cassette=str(path.relative_to(out)),
            url=url,
            gradio_version=version,
            scenario=name,
            prompt=scenario.prompt,
            recorded_at=datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
        )
        results.append((info, last))
    save_manifest(out, [info for info, _ in results])
    return results


async def _run(url: str, scenario: Scenario, hf_token: str | None) -> ChatEvent:
    async with SpaceClient(url, hf_token=hf_token) as space:
        last: object = None
        async for event in space.events(scenario.messages):
            last = event
        assert isinstance(last, (Completed, Failed))
        if isinstance(last, Failed) and not scenario.fails:
            raise last.error
        return last


def recorded_messages(path: Path) -> list[dict[str, Any]]:
    """The conversation a cassette's ``queue/join`` carried, as chat messages.

    Replaying must send the very same join body (bodies are matched), so the
    messages are rebuilt from the recording itself.
    """
    try:
        cassette = _ReadableYAML.deserialize(path.read_text(encoding="utf-8"))
        joins = [
            interaction["request"]
            for interaction in cassette["interactions"]
            if interaction["request"]["uri"].split("?")[0].endswith("/queue/join")
        ]
        body = joins[0]["body"]
        data = json.loads(body)
        assert isinstance(data, dict)
        query, history, system = data["data"]
    except QwenSpaceError:
        raise
    except (OSError, KeyError, IndexError, TypeError, ValueError, AssertionError, yaml.YAMLError) as exc:
        # The reason only, never the file's content: a binary file would make a megabyte message.
        reason = " ".join(str(exc).split())[:200]
        raise CassetteError(
            f"{path} is not a qwen-space cassette with a queue/join request ({type(exc).__name__}: {reason})"
        ) from None
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for turn in read_history(history):
        messages += [{"role": "user", "content": turn.user}, {"role": "assistant", "content": turn.assistant}]
    messages.append({"role": "user", "content": query})
    return messages
