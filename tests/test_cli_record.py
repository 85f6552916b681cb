"""``qwen-space record`` for any Space and for a user's own prompts, and ``cassette diff``
naming what changed in the requests before what changed in the replies."""

from pathlib import Path

import pytest
from qwen_space.client.recording import SCENARIOS, load_manifest, own_scenarios
from qwen_space.client.recording.scenarios import unfit
from qwen_space.protocol import derive_contract, parse_config

from .cli import run_cli
from .fake_space import CONFIG, FakeSpace, completed, script

CONFIGS = Path(__file__).resolve().parent / "data" / "configs" / "replicas"
HUB_TEMPLATE = (CONFIGS / "6.31.0" / "hub_template.json").read_bytes()


@pytest.fixture
def hub_space(fake_space: FakeSpace) -> FakeSpace:
    fake_space.config = HUB_TEMPLATE
    fake_space.stream = script(completed(["the answer", None]))
    return fake_space


async def test_record_your_own_prompts(hub_space: FakeSpace, tmp_path: Path) -> None:
    result = await run_cli(
        "record", "--url", hub_space.url, "--prompt", "What is 2+2?", "--prompt", "And 3+3?",
        "--system", "Be brief.", "--option", "Temperature=0.2", "--prefix", "mine", "--out", str(tmp_path),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert [body["data"][0] for body in hub_space.join_bodies] == ["What is 2+2?", "And 3+3?"]
    assert all(body["data"][2:4] == ["Be brief.", 512] for body in hub_space.join_bodies)
    assert all(body["data"][4] == 0.2 for body in hub_space.join_bodies)
    assert set(load_manifest(tmp_path)) == {"gradio-6.31.0/mine-prompt-1.yaml", "gradio-6.31.0/mine-prompt-2.yaml"}
    progress = result.err.splitlines()
    assert progress[0].startswith("[1/2] recording prompt-1: asks 'What is 2+2?'")
    assert progress[1].startswith("[2/2] recording prompt-2: asks 'And 3+3?'")
    assert result.out.splitlines()[0] == (
        "gradio-6.31.0/mine-prompt-1.yaml: asks 'What is 2+2?', with a system prompt, options Temperature=0.2; answered"
    )
    replayed = await run_cli("replay", str(tmp_path / "gradio-6.31.0" / "mine-prompt-2.yaml"))
    assert replayed.code == 0, replayed.err
    assert "you> And 3+3?" in replayed.err


@pytest.mark.parametrize(
    ("config", "fits"),
    [(CONFIG, True), (HUB_TEMPLATE, False), ((CONFIGS / "6.31.0" / "plain_messages.json").read_bytes(), False)],
)
def test_the_qwen_only_scenario_fits_only_the_qwen_layout(config: bytes, fits: bool) -> None:
    why = unfit(SCENARIOS["error"], derive_contract(parse_config(config)))
    assert (why is None) is fits, why
    assert all(unfit(s, derive_contract(parse_config(config))) is None for s in own_scenarios(["hi", "there"]))


async def test_the_default_scenarios_skip_the_qwen_only_one(hub_space: FakeSpace, tmp_path: Path) -> None:
    # Recording every default scenario needs the chat's seed calls, which this fake lacks:
    # the history scenario stops the run, after the skips were decided and said.
    result = await run_cli("record", "--url", hub_space.url, "--out", str(tmp_path))
    assert "error: skipped (it is made for the Qwen demo's model" in result.err
    assert "recording error" not in result.err
    assert hub_space.join_bodies, "the scenarios that fit were recorded"
    assert not any("lorem ipsum" in str(body["data"][0]) for body in hub_space.join_bodies)


async def test_the_qwen_only_scenario_named_for_another_space(hub_space: FakeSpace, tmp_path: Path) -> None:
    result = await run_cli("record", "--url", hub_space.url, "--scenario", "error", "--out", str(tmp_path))
    assert result.code == 2, result.err
    assert "made for the Qwen demo's model" in result.err
    assert hub_space.join_bodies == []


async def test_system_without_a_prompt_is_refused(hub_space: FakeSpace, tmp_path: Path) -> None:
    result = await run_cli("record", "--url", hub_space.url, "--system", "Be brief.", "--out", str(tmp_path))
    assert result.code == 2, result.err
    assert "give --prompt too" in result.err
    assert hub_space.join_bodies == []


async def test_cassette_diff_names_the_changed_option_before_the_reply(hub_space: FakeSpace, tmp_path: Path) -> None:
    for prefix, temperature, answer in (("warm", "0.7", "A warm answer"), ("cool", "0.2", "A cool answer")):
        hub_space.stream = script(completed([answer, None]))
        result = await run_cli(
            "record", "--url", hub_space.url, "--scenario", "hello", "--prefix", prefix,
            "--option", f"Temperature={temperature}", "--out", str(tmp_path),
        )  # fmt: skip
        assert result.code == 0, result.err
    folder = tmp_path / "gradio-6.31.0"
    diff = await run_cli("cassette", "diff", str(folder / "warm-hello.yaml"), str(folder / "cool-hello.yaml"))
    assert diff.code == 11, diff.err
    lines = [line.removeprefix("  - ") for line in diff.out.splitlines()[1:]]
    assert lines == [
        # 0.7 is the app's default: a recording keeps only the options set away from it.
        "option 'Temperature': 0.7 (the app's default) -> 0.2",
        "reply: 13 -> 13 characters, first difference at 2: 'warm answer' -> 'cool answer'",
    ]


async def test_cassette_diff_of_the_system_prompt_and_history() -> None:
    result = await run_cli("cassette", "diff", "gradio-6.31.0/system.yaml", "gradio-6.31.0/history.yaml")
    assert result.code == 11, result.err
    out = result.out
    # The Qwen layout always sends a system prompt: the history scenario sent the app's default.
    assert "system prompt: 'You are a pirate. Answer in one sentence.' -> 'You are a helpful assistant.'" in out
    assert "history: 0 -> 2 earlier messages" in out
    assert out.index("system prompt:") < out.index("history:") < out.index("message:") < out.index("reply:")
