"""Recording scenarios into cassettes, and reading a cassette's request back.

Each scenario is a conversation worth keeping as a contract fixture. Against the
replica Space the fake model answers from the same prompts (a long story prompt
gets a story of over 2,000 words, a prompt past the model's context makes the app fail),
so one scenario list serves the real Space and the replica.

The same scenarios record any chat Space (``record --url URL``): a scenario that
carries a system prompt is recorded only for an app with a system-prompt input, one
with earlier turns only for an app that can take them, and the Qwen-only one (a
prompt past Qwen2.5-Max's context) only for the Qwen layout; the others are skipped,
never sent without their system prompt or history. ``own_scenarios`` makes scenarios
of a user's own prompts (``record --prompt``).

Not recordable with vcrpy, and therefore not here: waiting in the queue behind
other jobs (the load would run inside the cassette too) and cancelling mid-stream
(vcrpy reads the whole body before the client sees the first byte, so the client
cannot stop early while recording). The loopback and live tests cover both.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...protocol import ChatContract, JSONValue, QwenSpaceError, build_call, derive_contract, parse_config
from ...protocol._chat_contract import InputRole
from ...protocol._chatbot import read_history
from ...protocol.errors import AppError
from ..core.client import SpaceClient
from ..core.qwen import QWEN_CONTRACT
from ..core.request import prepare_request
from ..errors import CassetteError, UsageError
from .cassette import (
    CassetteInfo,
    load_interactions,
    record_cassette,
    refuse_installed_package,
    safe_name,
    save_manifest,
)

__all__ = [
    "SCENARIOS",
    "RecordedChat",
    "Scenario",
    "own_scenarios",
    "record_scenarios",
    "recorded_chat",
    "recorded_messages",
    "unfit",
]


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    messages: tuple[Mapping[str, Any], ...]
    #: Whether the Space's app is expected to fail this one (``AppError``, recorded all the same).
    fails: bool = False
    #: Made for the Qwen demo's model: recorded only from an app of its layout.
    qwen_only: bool = False

    @property
    def prompt(self) -> str:
        text = str(self.messages[-1]["content"])
        return text if len(text) <= 200 else f"{text[:100]}... ({len(text)} characters)"

    def describe(self) -> str:
        """What a recording of this scenario holds, in a few words."""
        request = prepare_request(self.messages)
        parts = [f"asks {' '.join(self.prompt.split())[:60]!r}"]
        if request.system is not None:
            parts.append("with a system prompt")
        if request.history:
            parts.append(f"after {len(request.history)} earlier turn(s)")
        return ", ".join(parts)


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
        # Elsewhere it is 144 KB an app may well answer, slowly: only for the Qwen layout.
        Scenario("error", (_user("Summarise this: " + "lorem ipsum " * 12_000),), fails=True, qwen_only=True),
    )
}


def own_scenarios(prompts: Sequence[str], system: str | None = None) -> list[Scenario]:
    """One scenario per prompt (``prompt-1``, ``prompt-2``...), each a conversation of
    its own, with ``system`` as its system prompt when given."""
    lead = () if system is None else ({"role": "system", "content": system},)
    return [Scenario(f"prompt-{n}", (*lead, _user(text))) for n, text in enumerate(prompts, 1)]


#: The Qwen demo's chat event, ``[query, chatbot, system] -> [textbox, chatbot, system]``.
_QWEN_LAYOUT = (QWEN_CONTRACT.input_types, QWEN_CONTRACT.output_types)


def unfit(scenario: Scenario, contract: ChatContract) -> str | None:
    """Why the app of ``contract`` cannot take ``scenario`` as it is, or ``None``."""
    request = prepare_request(scenario.messages)
    if request.system is not None and contract.system_input is None:
        return "it carries a system prompt and the app has no system-prompt input"
    if request.history and not contract.multi_turn:
        return "it carries earlier turns and the app's chat event takes no history"
    if scenario.qwen_only and (contract.input_types, contract.output_types) != _QWEN_LAYOUT:
        return "it is made for the Qwen demo's model (a prompt past its context), not this app"
    return None


async def record_scenarios(
    url: str,
    names: Sequence[str] | None,
    out: Path,
    *,
    hf_token: str | None = None,
    auth: tuple[str, str] | None = None,
    endpoint: str | int | None = None,
    options: Mapping[str, object] | None = None,
    prefix: str | None = None,
    on_skip: Callable[[str, str], None] | None = None,
    scenarios: Sequence[Scenario] | None = None,
    on_progress: Callable[[int, int, Scenario], None] | None = None,
) -> list[tuple[CassetteInfo, AppError | None]]:
    """Record each named scenario (or each of ``scenarios``, e.g. :func:`own_scenarios`)
    into ``out/gradio-<version>/[<prefix>-]<name>.yaml``; update the manifest.

    ``names=None`` records every scenario the app can take (see :func:`unfit`), telling
    ``on_skip(name, why)`` about the others; a named scenario the app cannot take is a
    :class:`UsageError` before anything is recorded. ``on_progress(n, total, scenario)``
    is told before each recording starts. ``auth``, ``endpoint`` and ``options`` are
    :class:`SpaceClient`'s (a cassette keeps the login without its credentials). Each chat is read with :meth:`SpaceClient.complete`; a cassette is replaced only
    once its scenario was recorded as expected (a reply, or the app's failure for a
    scenario that ``fails``, returned beside its entry), and the manifest lists those
    that were, so a failing Space leaves the old recordings whole.
    The folder's name comes from the Space's ``/config``: anything but a plain version
    becomes ``gradio-unknown``.
    """
    listed = _listed(names, scenarios)
    if prefix is not None and safe_name(prefix, "") != prefix:
        raise UsageError(f"the prefix {prefix!r} is not a plain file name part: use letters, digits and ._+- only")
    _prepare(out)
    async with SpaceClient(url, hf_token=hf_token, auth=auth) as probe:
        config = await probe.fetch_config()
    reported = config.version
    try:
        contract = derive_contract(config, endpoint)
    except QwenSpaceError as error:
        raise type(error)(f"{error}; nothing was recorded") from None
    chosen = _fitting(listed if listed is not None else list(SCENARIOS.values()), contract, listed is not None, on_skip)
    version = safe_name(reported)
    directory = out / f"gradio-{version}"
    results: list[tuple[CassetteInfo, AppError | None]] = []
    try:
        for number, scenario in enumerate(chosen, 1):
            if on_progress is not None:
                on_progress(number, len(chosen), scenario)
            path = directory / (f"{prefix}-{scenario.name}.yaml" if prefix else f"{scenario.name}.yaml")
            with record_cassette(path, tokens=[hf_token]):
                failure = await _run(url, scenario, hf_token, auth, endpoint, options)
            info = CassetteInfo(
                cassette=path.relative_to(out).as_posix(),
                url=url,
                gradio_version=reported if reported == version else None,
                scenario=scenario.name,
                prompt=scenario.prompt,
                recorded_at=datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat(),
            )
            results.append((info, failure))
    finally:
        if results:
            save_manifest(out, [info for info, _ in results])
    return results


def _listed(names: Sequence[str] | None, scenarios: Sequence[Scenario] | None) -> list[Scenario] | None:
    """The scenarios asked for by name or given, or ``None`` for the default ones."""
    if scenarios is not None:
        if names is not None:
            raise UsageError("name scenarios or give your own, not both")
        return list(scenarios)
    unknown = [name for name in names or () if name not in SCENARIOS]
    if unknown:
        raise CassetteError(f"unknown scenario(s) {', '.join(unknown)}; known: {', '.join(SCENARIOS)}")
    return None if names is None else [SCENARIOS[name] for name in names]


def _fitting(
    chosen: list[Scenario], contract: ChatContract, asked: bool, on_skip: Callable[[str, str], None] | None
) -> list[Scenario]:
    """The scenarios the app can take; one it cannot that was asked for refuses them all."""
    refused = [(s.name, why) for s in chosen if (why := unfit(s, contract)) is not None]
    if refused and asked:
        listed = "; ".join(f"{name}: {why}" for name, why in refused)
        raise UsageError(f"this Space cannot take every scenario named ({listed}); nothing was recorded")
    for name, why in refused:
        if on_skip is not None:
            on_skip(name, why)
    skipped = {name for name, _ in refused}
    return [s for s in chosen if s.name not in skipped]


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


async def _run(
    url: str,
    scenario: Scenario,
    hf_token: str | None,
    auth: tuple[str, str] | None,
    endpoint: str | int | None,
    options: Mapping[str, object] | None,
) -> AppError | None:
    """The app's failure if the scenario expects one and got it; any other failure raises."""
    async with SpaceClient(url, hf_token=hf_token, auth=auth, endpoint=endpoint, options=options) as space:
        try:
            await space.complete(scenario.messages)
        except AppError as error:
            if not scenario.fails:
                raise
            return error
    return None


@dataclass(frozen=True, slots=True)
class RecordedChat:
    """What a cassette's chat sent, as a caller asks for it again: replaying these with
    ``SpaceClient(endpoint=endpoint).events(messages, options=options)`` sends the very
    same request bodies (bodies are matched)."""

    messages: list[dict[str, Any]]
    #: The event's ``fn_index``: the derived contract of the recorded ``/config`` for it.
    endpoint: int
    #: The options that differ from the app's defaults, by label.
    options: dict[str, object] = field(default_factory=dict)


def recorded_messages(path: Path) -> list[dict[str, Any]]:
    """The conversation a cassette's chat carried, as chat messages (see :func:`recorded_chat`)."""
    return recorded_chat(path).messages


def recorded_chat(path: Path) -> RecordedChat:
    """The request a cassette's chat made, rebuilt from its ``/config``, ``queue/join`` and
    seed calls (``run/predict``) for any chat app the client derives a contract for.

    Raises :class:`CassetteError` when the recording is not of a chat, or when what it
    sent cannot be asked for again (an upload, an input nobody sets with another value).
    """
    interactions = load_interactions(path)
    join = next((i for i in interactions if i.route.endswith("/queue/join")), None)
    if join is None:
        raise CassetteError(f"{path} holds no queue/join request: it is not a recording of a chat")
    config_answer = next((i for i in interactions if i.route.endswith("/config")), None)
    if config_answer is None:
        raise CassetteError(f"{path} holds no /config answer: the chat's request cannot be read without it")
    body = _json_body(join.request_body)
    fields, fn_index = body.get("data"), body.get("fn_index")
    if not isinstance(fields, list) or isinstance(fn_index, bool) or not isinstance(fn_index, int):
        raise CassetteError(f"{path}: its queue/join request is not a chat's JSON body (data and fn_index)")
    try:
        contract = derive_contract(parse_config(config_answer.response_body.encode()), fn_index)
    except QwenSpaceError as error:
        raise CassetteError(f"{path}: its recorded /config has no chat event {fn_index} ({error})") from None
    seeds: dict[int, list[JSONValue]] = {}
    for interaction in interactions:
        if interaction.route.endswith("/run/predict"):
            seed = _json_body(interaction.request_body)
            if isinstance(seed.get("fn_index"), int) and isinstance(seed.get("data"), list):
                seeds[seed["fn_index"]] = seed["data"]
    if contract.steps:
        chain = _chain_values(path, contract, interactions)
        fields = [chain.get(spec.component_id, spec.default) for spec in contract.inputs]
        seeds = {}
        if contract.message_id is not None:
            fields.append(chain.get(contract.message_id))
        if contract.chatbot_id is not None:
            fields.append(chain.get(contract.chatbot_id))
    chat = _rebuild(path, contract, fields, seeds)
    _check_rebuilt(path, contract, chat, fields, seeds)
    return chat


def _chain_values(path: Path, contract: ChatContract, interactions: Sequence[Any]) -> dict[int, JSONValue]:
    """What a chain's client put in the page before its first step: each component's value
    as the first step reading it sent it, unless an earlier step had written it."""
    sent: dict[int, list[JSONValue]] = {}
    for interaction in interactions:
        if interaction.route.endswith(("/run/predict", "/queue/join")):
            body = _json_body(interaction.request_body)
            fn_index, data = body.get("fn_index"), body.get("data")
            if isinstance(fn_index, int) and isinstance(data, list):
                sent.setdefault(fn_index, data)
    values: dict[int, JSONValue] = {}
    written: set[int] = set()
    for step in contract.steps:
        data = sent.get(step.fn_index)
        if data is None:
            raise CassetteError(f"{path}: its chat's step {step.fn_index} was not recorded, so it cannot be replayed")
        for component_id, value in zip(step.inputs, data, strict=False):
            if component_id not in written:
                values.setdefault(component_id, value)
        written.update(step.outputs)
    return values


def _json_body(body: str | None) -> dict[str, Any]:
    try:
        data = json.loads(body or "")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _rebuild(
    path: Path, contract: ChatContract, fields: list[JSONValue], seeds: Mapping[int, list[JSONValue]]
) -> RecordedChat:
    if contract.steps:
        # The chain's message and Chatbot come after its inputs (see recorded_chat).
        *fields, message, history = fields
    elif len(fields) != len(contract.inputs):
        raise CassetteError(
            f"{path}: its queue/join request has {len(fields)} inputs where the recorded app's chat event "
            f"takes {len(contract.inputs)}"
        )
    else:
        message = history = None
    if contract.message_seed is not None:
        message = (seeds.get(contract.message_seed.fn_index) or [None])[0]
    if contract.history_seed is not None:
        history = (seeds.get(contract.history_seed.fn_index) or [None])[0]
    system: str | None = None
    options: dict[str, object] = {}
    for spec, value in zip(contract.inputs, fields, strict=True):
        if spec.role in (InputRole.MESSAGE, InputRole.MULTIMODAL_MESSAGE):
            message = value
        elif spec.role is InputRole.HISTORY:
            history = value[: -1 if contract.history_holds_message else None] if isinstance(value, list) else value
        elif spec.role is InputRole.SYSTEM and isinstance(value, str):
            system = value
        elif spec.role is InputRole.OPTION and value != spec.default and spec.label is not None:
            options[spec.label] = value
    if isinstance(message, dict) and not message.get("files"):
        message = message.get("text")  # a multimodal message without uploads
    if not isinstance(message, str):
        raise CassetteError(
            f"{path}: the message its chat sent is not text (uploads cannot be replayed from a cassette)"
        )
    try:
        turns = read_history(history)
    except QwenSpaceError as error:
        raise CassetteError(f"{path}: the history in its request cannot be read ({error})") from None
    messages: list[dict[str, Any]] = [] if system is None else [{"role": "system", "content": system}]
    for turn in turns:
        messages += [{"role": "user", "content": turn.user}, {"role": "assistant", "content": turn.assistant}]
    messages.append({"role": "user", "content": message})
    return RecordedChat(messages, contract.fn_index, options)


def _check_rebuilt(
    path: Path,
    contract: ChatContract,
    chat: RecordedChat,
    fields: list[JSONValue],
    seeds: Mapping[int, list[JSONValue]],
) -> None:
    """The rebuilt request must be the recorded one, byte for byte, or replay would miss."""
    try:
        request = prepare_request(chat.messages)
        call = build_call(contract, request.query, request.history, request.system, chat.options)
    except QwenSpaceError as error:
        raise CassetteError(f"{path}: its chat's request cannot be asked for again ({error})") from None
    recorded_seeds = [seeds.get(seed.fn_index) for seed in call.seeds]
    if contract.steps:
        recorded = dict(
            zip(
                [s.component_id for s in contract.inputs] + [contract.message_id, contract.chatbot_id],
                fields,
                strict=True,
            )
        )
        differs = any(recorded.get(key) != value for key, value in call.values.items())
    else:
        differs = call.data != fields or recorded_seeds != [seed.data for seed in call.seeds]
    if differs:
        raise CassetteError(
            f"{path}: its chat's request cannot be rebuilt from what it sent (an input nobody sets "
            "was given another value, or the recording is incomplete), so it cannot be replayed"
        )
