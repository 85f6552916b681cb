"""The command line for any chat Space, offline: against the bundled cassettes (every one
replayed in-process, its printed answer compared with the recorded completion) and
against a fake Space serving a replica app's captured ``/config``."""

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from qwen_space.client.recording import load_manifest
from qwen_space.client.ways_in.cli import main
from qwen_space.protocol import ChatContract, Completed, chat_stream, derive_contract, parse_config
from qwen_space.protocol._chatbot import read_reply
from qwen_space.protocol._reasoning import split_reply

from .cli import run_cli
from .fake_space import FakeSpace, completed, script

CASSETTES = Path(__file__).resolve().parent.parent / "cassettes"
MANIFEST = load_manifest(CASSETTES)
CONFIGS = Path(__file__).resolve().parent / "data" / "configs" / "replicas"
HUB_TEMPLATE = (CONFIGS / "6.31.0" / "hub_template.json").read_bytes()


def recorded(path: Path) -> tuple[str, str]:
    """The recorded completion of a cassette's chat and its thoughts, read with the
    contract derived from its recorded ``/config`` for the event it joined."""
    interactions = yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"]

    def find(route: str) -> dict[str, Any]:
        return next(i for i in interactions if i["request"]["uri"].split("?")[0].endswith(route))

    config = parse_config(find("/config")["response"]["body"]["string"].encode())
    join = find("/queue/join")
    contract = derive_contract(config, json.loads(join["request"]["body"])["fn_index"])
    if contract.steps:
        return chain_recorded(interactions, contract)
    stream = chat_stream(config, contract, json.loads(join["response"]["body"]["string"])["event_id"])
    events = [
        e
        for line in find("/queue/data")["response"]["body"]["string"].encode().splitlines(True)
        for e in stream.feed(line)
    ]
    end = next(e for e in [*events, *stream.end()] if isinstance(e, Completed))
    return end.text, end.reasoning


def chain_recorded(interactions: list[dict[str, Any]], contract: ChatContract) -> tuple[str, str]:
    """A chain's completion: what its steps' recorded outputs left in the Chatbot beyond
    the history its first step was sent (the last full value of the Chatbot each step wrote)."""
    chatbot = contract.chatbot_id
    steps = {step.fn_index: step for step in contract.steps}
    sent: list[Any] | None = None
    final: Any = None
    running = None
    for interaction in interactions:
        route = interaction["request"]["uri"].split("?")[0]
        body = interaction["response"]["body"]["string"]
        if route.endswith(("/run/predict", "/queue/join")):
            running = steps[json.loads(interaction["request"]["body"])["fn_index"]]
            if sent is None and chatbot in running.inputs:
                sent = json.loads(interaction["request"]["body"])["data"][running.inputs.index(chatbot)]
        if route.endswith("/run/predict") and running is not None and chatbot in running.outputs:
            final = json.loads(body)["data"][running.outputs.index(chatbot)]
        if route.endswith("/queue/data") and running is not None and chatbot in running.outputs:
            for line in body.splitlines():
                message = json.loads(line[6:]) if line.startswith("data: ") else {}
                if message.get("msg") == "process_completed" and message.get("success"):
                    final = message["output"]["data"][running.outputs.index(chatbot)]
    tail = final[len(sent or []) :]
    thoughts = split_reply(tail, contract.reply_format).thoughts
    return read_reply(tail, contract.reply_format).text, "\n\n".join(t.text for t in thoughts)


@pytest.mark.parametrize("name", sorted(n for n, info in MANIFEST.items() if info.scenario != "error"))
async def test_replay_prints_the_recorded_completion(name: str) -> None:
    result = await run_cli("replay", name)
    assert result.code == 0, result.err
    answer, thoughts = recorded(CASSETTES / name)
    assert result.out == answer + "\n"
    if thoughts:  # never printed where no one watches a terminal
        assert thoughts not in result.err + result.out
    app = Path(name).stem.rpartition("-")[0]
    if app:  # the replica apps say what they received: the message, the earlier turns
        scenario = MANIFEST[name].scenario
        asked = "What is my name, and what do I like?" if scenario == "history" else "Hello! Who are you?"
        lead = "Alpha says: " if app == "tabbed_two" else ""  # the first tab's model, chosen when recorded
        said = f"{lead}Message: {json.dumps(asked)}. Earlier turns: {1 if scenario == 'history' else 0}"
        assert answer.startswith(said)


def test_every_replica_app_is_bundled_for_each_release() -> None:
    apps = {(info.gradio_version, Path(n).stem) for n, info in MANIFEST.items() if "-" in Path(n).stem}
    for version in ("4.44.1", "5.50.0", "6.31.0"):
        for app in ("hub_template", "plain_tuples", "plain_messages", "multimodal", "thinking_blocks"):
            if app == "plain_tuples" and version.startswith("6."):
                continue
            assert {(version, f"{app}-hello"), (version, f"{app}-history")} <= apps


async def test_json_gives_thoughts_their_own_event() -> None:
    name = "gradio-6.31.0/thinking_blocks-hello.yaml"
    result = await run_cli("replay", "--json", name)
    assert result.code == 0, result.err
    events = [json.loads(line) for line in result.out.splitlines()]
    answer, thoughts = recorded(CASSETTES / name)
    reasoning = [e for e in events if e["type"] == "reasoning"]
    assert "".join(e["text"] for e in reasoning) == thoughts == 'alpha-1 is thinking about "Hello! Who are you?".'
    assert {e["title"] for e in reasoning} == {"Thinking"}
    assert "".join(e["text"] for e in events if e["type"] == "delta") == answer


class TerminalText(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_thoughts_are_dimmed_on_a_terminal_stderr(monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = io.StringIO(), TerminalText()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    assert main(["replay", "gradio-5.50.0/thinking_blocks-hello.yaml"]) == 0
    answer, thoughts = recorded(CASSETTES / "gradio-5.50.0/thinking_blocks-hello.yaml")
    assert out.getvalue() == answer + "\n"
    shown = err.getvalue()
    assert shown.count("\x1b[2m") == shown.count("\x1b[0m") > 0  # each piece dimmed, and undimmed after
    assert f"Thinking: {thoughts}\n" in shown.replace("\x1b[2m", "").replace("\x1b[0m", "")


async def test_history_replays_from_the_session_seed() -> None:
    # 5.50's ChatInterface gets earlier turns through a seed call, not the join.
    result = await run_cli("replay", "gradio-5.50.0/hub_template-history.yaml")
    assert result.code == 0, result.err
    assert 'Earlier turns: 1, the last: "My name is Ada and I like cats."' in result.out


@pytest.fixture
def hub_space(fake_space: FakeSpace) -> FakeSpace:
    fake_space.config = HUB_TEMPLATE
    fake_space.stream = script(completed(["the answer", None]))
    return fake_space


async def test_options_are_typed_by_the_app_inputs(hub_space: FakeSpace) -> None:
    result = await run_cli(
        "chat", "hi", "--url", hub_space.url, "--option", "Temperature=0.2", "--option", "max new tokens=64"
    )
    assert result.code == 0, result.err
    assert result.out == "the answer\n"
    data = hub_space.join_bodies[0]["data"]
    assert data[2:] == ["You are a friendly Chatbot.", 64, 0.2, 0.95]


@pytest.mark.parametrize(
    ("option", "said"),
    [
        ("Temperature=warm", "'Temperature' takes a number"),
        ("Temperature=99", "'Temperature' (slider) takes a number from 0.1 to 4"),
        ("Nope=1", "no option 'Nope'"),
    ],
)
async def test_a_bad_option_is_a_usage_error_before_the_join(hub_space: FakeSpace, option: str, said: str) -> None:
    result = await run_cli("chat", "hi", "--url", hub_space.url, "--option", option)
    assert result.code == 2, result.err
    assert said in result.err
    assert hub_space.join_bodies == []


async def test_option_flag_needs_label_and_value(hub_space: FakeSpace) -> None:
    result = await run_cli("chat", "hi", "--url", hub_space.url, "--option", "Temperature")
    assert result.code == 2
    assert "LABEL=VALUE" in result.err


async def test_system_goes_to_the_system_input(hub_space: FakeSpace) -> None:
    result = await run_cli("chat", "hi", "--url", hub_space.url, "--system", "Be brief.")
    assert result.code == 0, result.err
    assert hub_space.join_bodies[0]["data"][2] == "Be brief."


async def test_system_for_an_app_without_one_is_refused(fake_space: FakeSpace) -> None:
    fake_space.config = (CONFIGS / "6.31.0" / "plain_messages.json").read_bytes()
    result = await run_cli("chat", "hi", "--url", fake_space.url, "--system", "Be brief.")
    assert result.code == 2, result.err
    assert "no system prompt input" in result.err
    assert fake_space.join_bodies == []


async def test_endpoint_by_name_and_by_fn_index(hub_space: FakeSpace) -> None:
    contract = derive_contract(parse_config(HUB_TEMPLATE))
    assert (await run_cli("chat", "hi", "--url", hub_space.url, "--endpoint", "/respond")).code == 0
    hub_space.stream = script(completed(["the answer", None]))
    assert (await run_cli("chat", "hi", "--url", hub_space.url, "--endpoint", str(contract.fn_index))).code == 0
    assert [body["fn_index"] for body in hub_space.join_bodies] == [contract.fn_index] * 2
    missing = await run_cli("chat", "hi", "--url", hub_space.url, "--endpoint", "/nope")
    assert missing.code == 2, "a mistyped endpoint is the caller's, not the Space's drift (exit 11)"
    assert "no endpoint /nope (it has: " in missing.err
    mistyped = await run_cli("chat", "hi", "--url", hub_space.url, "--endpoint", "99")
    assert (mistyped.code, "no event with fn_index 99" in mistyped.err) == (2, True)
    assert len(hub_space.join_bodies) == 2


async def test_info_shows_the_derived_contract(hub_space: FakeSpace) -> None:
    result = await run_cli("info", "--url", hub_space.url)
    assert result.code == 0, result.err
    assert "contract:  gr.ChatInterface: /respond" in result.out
    assert "history: in a server-side session State, set by fn_index" in result.out
    assert "option 'Temperature' (slider) default 0.7 range 0.1..4 step 0.1 [temperature]" in result.out
    assert "system prompt 'System message' (textbox) default 'You are a friendly Chatbot.'" in result.out
    assert "max_tokens: a slider or number labelled like" in result.out
    assert "/model_chat" not in result.out


async def test_info_with_an_endpoint_it_lacks(hub_space: FakeSpace) -> None:
    result = await run_cli("info", "--url", hub_space.url, "--endpoint", "/nope")
    assert result.code == 2
    checked = await run_cli("contract", "check", "--url", hub_space.url, "--endpoint", "/nope")
    assert (checked.code, "no endpoint /nope (it has: " in checked.err) == (2, True)
    assert "/respond" in result.err


async def test_contract_check_of_a_chat_interface(hub_space: FakeSpace) -> None:
    result = await run_cli("contract", "check", "--url", hub_space.url)
    assert result.code == 0, result.out + result.err
    assert "a gr.ChatInterface qwen-space can talk to (Gradio 6.31.0)" in result.out
    assert "Qwen2.5-Max" not in result.out


async def test_contract_check_of_a_space_with_no_chat_event(fake_space: FakeSpace) -> None:
    config = json.loads(HUB_TEMPLATE)
    config["dependencies"] = []
    fake_space.config = json.dumps(config).encode()
    result = await run_cli("contract", "check", "--url", fake_space.url)
    assert result.code == 11
    assert "Qwen2.5-Max contract" in result.out


async def test_record_with_a_prefix_and_options_then_replay(hub_space: FakeSpace, tmp_path: Path) -> None:
    result = await run_cli(
        "record", "--url", hub_space.url, "--scenario", "hello", "--prefix", "hub", "--option", "Temperature=0.2",
        "--out", str(tmp_path),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert hub_space.join_bodies[0]["data"][4] == 0.2
    cassette = tmp_path / "gradio-6.31.0" / "hub-hello.yaml"
    assert set(load_manifest(tmp_path)) == {"gradio-6.31.0/hub-hello.yaml"}
    # Replayed, the option is asked for again: the join body matches the recorded one.
    replayed = await run_cli("replay", str(cassette))
    assert replayed.code == 0, replayed.err
    assert replayed.out == "the answer\n"


async def test_record_refuses_a_scenario_the_app_cannot_take(fake_space: FakeSpace, tmp_path: Path) -> None:
    fake_space.config = (CONFIGS / "6.31.0" / "plain_messages.json").read_bytes()
    result = await run_cli("record", "--url", fake_space.url, "--scenario", "system", "--out", str(tmp_path))
    assert result.code == 2, result.err
    assert "system: it carries a system prompt and the app has no system-prompt input" in result.err
    assert fake_space.join_bodies == []
    assert load_manifest(tmp_path) == {}
