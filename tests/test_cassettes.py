"""The contract suite, offline: every bundled cassette is a contract fixture.

Each recorded session goes (1) through the pure pipeline (``read_chat_stream``) and
the contract check, and (2) through ``SpaceClient`` replaying the cassette with vcrpy,
with the network blocked (nothing but the cassette answers: vcrpy refuses any
request not in it). Both must agree with what the recording says happened.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import qwen_space.cassettes
import yaml
from qwen_space.client import QWEN_CONTRACT, SpaceClient
from qwen_space.client.errors import CassetteError
from qwen_space.client.recording import SCENARIOS, bundled_cassette, load_manifest, recorded_messages, use_cassette
from qwen_space.protocol import check_contract, parse_config, read_chat_stream
from qwen_space.protocol._job import ChatJobState
from qwen_space.protocol.errors import AppError

from .contract_suite import check_scenario

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
MANIFEST = load_manifest(CASSETTES)
EVERY = sorted(CASSETTES.glob("gradio-*/*.yaml"))
#: The Qwen demo's recordings, named after their scenario alone; the replica chat apps'
#: (APP-SCENARIO.yaml) are replayed by tests/test_cli_spaces_cassettes.py.
ALL = [p for p in EVERY if p.stem == MANIFEST[p.relative_to(CASSETTES).as_posix()].scenario]
#: How the replica's scripted model answers each scenario, under every Gradio version:
#: the opening words, and the length in tokens (a word and its trailing space each).
ANSWERS = {
    "hello": ("Hello! I am Qwen, a large language model", 61),
    "system": ("Arr, I be Captain Qwen", 28),
    "history": ("Your name is Ada, and you like cats.", 18),
    "russian": ("Привет! Всё отлично", 24),
    "story": ("Кот Барсик жил в старом доме", 98),
    "long": ("**The Keeper of Carrow Point**\n\nElias Marr had kept the light", 2145),
}


def interactions(path: Path) -> list[dict[str, Any]]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    found = loaded["interactions"]
    assert isinstance(found, list)
    return found


def response_of(path: Path, route: str) -> str:
    for interaction in interactions(path):
        if interaction["request"]["uri"].split("?")[0].endswith(route):
            body = interaction["response"]["body"]["string"]
            assert isinstance(body, str)
            return body
    raise AssertionError(f"{path} has no {route}")


def test_every_cassette_is_in_the_manifest_and_every_version_is_recorded() -> None:
    assert {p.relative_to(CASSETTES).as_posix() for p in EVERY} == set(MANIFEST)
    assert len(ALL) == 21
    assert {info.gradio_version for info in MANIFEST.values()} == {"4.44.1", "5.50.0", "6.31.0"}
    scenarios = {info.scenario for info in MANIFEST.values()}
    assert scenarios == {"hello", "system", "history", "russian", "story", "long", "error"}


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.relative_to(CASSETTES).as_posix())
def test_cassette_through_the_pure_pipeline(path: Path) -> None:
    info = MANIFEST[path.relative_to(CASSETTES).as_posix()]
    config = parse_config(response_of(path, "/config").encode())
    assert config.version == info.gradio_version
    assert not [d for d in check_contract(config, QWEN_CONTRACT) if d.breaking]
    event_id = json.loads(response_of(path, "/queue/join"))["event_id"]
    result = read_chat_stream(
        config, response_of(path, "/queue/data").encode(), event_id=event_id, api_name=QWEN_CONTRACT.api_name
    )
    assert not result.corrections
    assert "".join(result.deltas) == result.text
    if info.scenario == "error":
        assert isinstance(result.error, AppError)
        assert result.state is ChatJobState.FAILED
    else:
        assert result.error is None
        assert result.state is ChatJobState.COMPLETED
        opening, tokens = ANSWERS[info.scenario]
        assert result.text.startswith(opening)
        assert result.deltas == [word + " " for word in result.text.split(" ")[:-1]]
        assert len(result.deltas) == tokens


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.relative_to(CASSETTES).as_posix())
async def test_contract_suite_on_the_cassette(path: Path, no_network: None) -> None:
    info = MANIFEST[path.relative_to(CASSETTES).as_posix()]
    with use_cassette(path):
        async with SpaceClient("http://replay.invalid") as space:
            await check_scenario(space, SCENARIOS[info.scenario])


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.relative_to(CASSETTES).as_posix())
async def test_cassette_replays_through_the_client(path: Path, no_network: None) -> None:
    info = MANIFEST[path.relative_to(CASSETTES).as_posix()]
    messages = recorded_messages(path)
    with use_cassette(path):
        # A different URL and a fresh session hash: neither is part of the match.
        async with SpaceClient("http://replay.invalid") as space:
            if info.scenario == "error":
                with pytest.raises(AppError):
                    await space.complete(messages)
                return
            completion = await space.complete(messages)
    event_id = json.loads(response_of(path, "/queue/join"))["event_id"]
    expected = read_chat_stream(
        response_of(path, "/config").encode(),
        response_of(path, "/queue/data").encode(),
        event_id=event_id,
        api_name=QWEN_CONTRACT.api_name,
    )
    assert completion.text == expected.text


def test_a_different_prompt_is_not_served_from_the_cassette() -> None:
    path = CASSETTES / "gradio-5.50.0" / "hello.yaml"

    async def ask() -> None:
        async with SpaceClient("http://replay.invalid") as space:
            await space.complete([{"role": "user", "content": "something else"}])

    import asyncio

    with pytest.raises(CassetteError, match="not in the cassette"), use_cassette(path):
        asyncio.run(ask())


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.relative_to(CASSETTES).as_posix())
def test_no_secrets_in_cassettes(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"hf_[A-Za-z0-9]{8,}", text)
    lowered = text.lower()
    for header in ("authorization", "cookie", "set-cookie"):
        assert f"{header}:" not in lowered
    assert re.findall(r"session_hash[=\":]+([A-Za-z0-9_-]+)", text) == ["SESSION"] * len(
        re.findall(r"session_hash[=\":]+", text)
    )


def test_bundled_default_cassette_is_in_the_installed_package() -> None:
    # Where the import system put qwen_space.cassettes: site-packages from a wheel, the
    # checkout under an editable install.
    path = bundled_cassette()
    assert path == Path(qwen_space.cassettes.__file__).parent / "gradio-5.50.0" / "hello.yaml"
    assert path.is_file()


def test_unsafe_yaml_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text(
        "version: 1\ninteractions:\n- !!python/object/apply:os.system\n  args: ['touch " + str(marker) + "']\n",
        encoding="utf-8",
    )

    async def ask() -> None:
        async with SpaceClient("http://replay.invalid") as space:
            await space.complete([{"role": "user", "content": "hi"}])

    import asyncio

    with pytest.raises(CassetteError, match="not a safe, well-formed"), use_cassette(hostile):
        asyncio.run(ask())
    assert not marker.exists()
    with pytest.raises(CassetteError):
        recorded_messages(hostile)


def test_missing_cassette() -> None:
    with pytest.raises(CassetteError, match="no cassette"), use_cassette("/nonexistent/x.yaml"):
        pass
