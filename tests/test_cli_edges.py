"""The command line's rough edges, each once hit by a user: what a Space says reaches the
terminal without its controls and within bounds, options given twice or with odd
labels, the advice of an error in the command line's words, and no noise on stderr."""

import io
import json
import sys
from pathlib import Path

import pytest
from qwen_space.client.ways_in.cli import _printer
from qwen_space.protocol import ChatEvent, Completed, ReasoningDelta, Started, TextDelta

from .cli import run_cli
from .fake_space import CONFIG, EVENT_ID, FakeSpace, Heartbeats, JoinAnswer, chat_body, completed, script, sse

CONFIGS = Path(__file__).resolve().parent / "data" / "configs" / "replicas"
HUB_TEMPLATE = (CONFIGS / "6.31.0" / "hub_template.json").read_bytes()
CONTROLS = "\x1b]0;owned\x07\x1b[31m\x9b2J\x07"


def edited(raw: bytes, component_label: str, **props: object) -> bytes:
    """``raw`` (a /config) with the props of the component labelled ``component_label`` set."""
    config = json.loads(raw)
    component = next(c for c in config["components"] if c.get("props", {}).get("label") == component_label)
    component["props"].update(props)
    return json.dumps(config).encode()


def deep(raw: bytes, label: str, depth: int = 1010) -> bytes:
    """``raw`` with the default of the input labelled ``label`` nested ``depth`` lists deep
    (written as text: the json module itself cannot build it)."""
    return edited(raw, label, value="DEEP").replace(b'"DEEP"', b"[" * depth + b"]" * depth)


@pytest.mark.parametrize("command", [("info",), ("contract", "check")])
async def test_a_default_nested_past_the_recursion_limit(fake_space: FakeSpace, command: tuple[str, ...]) -> None:
    fake_space.config = deep(HUB_TEMPLATE, "System message")
    result = await run_cli(*command, "--url", fake_space.url)
    assert result.code == 0, result.err
    assert "Traceback" not in result.err
    line = next(line for line in result.out.splitlines() if "'System message'" in line)
    assert line.endswith("default [[[[[...]]]]]"), line


async def test_contract_check_prints_no_terminal_control_from_the_config(fake_space: FakeSpace) -> None:
    config = json.loads(edited(CONFIG, "System", label=f"System{CONTROLS}"))
    config["version"] = f"5.50.0{CONTROLS}"
    fake_space.config = json.dumps(config).encode()
    result = await run_cli("contract", "check", "--url", fake_space.url)
    assert "Gradio 5.50.0" in result.out, result.out + result.err
    for control in ("\x1b", "\x07", "\x9b"):
        assert control not in result.out + result.err


async def test_a_log_message_reaches_the_terminal_without_controls(fake_space: FakeSpace) -> None:
    body = chat_body("hi", ["Hello"])
    log = sse({"msg": "log", "event_id": EVENT_ID, "log": f"careful{CONTROLS}!", "level": "warning"})
    fake_space.stream = script(*body[:2], log, *body[2:])
    result = await run_cli("chat", "hi", "--url", fake_space.url)
    assert result.code == 0, result.err
    assert "[warning] careful" in result.err
    assert "\x1b" not in result.err
    assert "\x07" not in result.err


@pytest.fixture
def hub_space(fake_space: FakeSpace) -> FakeSpace:
    fake_space.config = HUB_TEMPLATE
    fake_space.stream = script(completed(["the answer", None]))
    return fake_space


async def test_an_option_given_twice_is_named_once(hub_space: FakeSpace) -> None:
    result = await run_cli(
        "chat", "hi", "--url", hub_space.url, "--option", "Temperature=0.2", "--option", "temperature=0.9"
    )
    assert result.code == 2, result.err
    assert "--option 'temperature' sets the same input as --option 'Temperature': give it once" in result.err
    assert "system" not in result.err
    assert hub_space.join_bodies == []


async def test_the_system_prompt_as_an_option_and_as_system(hub_space: FakeSpace) -> None:
    result = await run_cli(
        "chat", "hi", "--url", hub_space.url, "--system", "Be brief.", "--option", "System message=Be long."
    )
    assert result.code == 2, result.err
    assert "also given as --system" in result.err
    assert hub_space.join_bodies == []


async def test_a_label_with_a_trailing_space_is_settable(hub_space: FakeSpace) -> None:
    hub_space.config = edited(HUB_TEMPLATE, "Temperature", label="Temperature ")
    for given in ("Temperature =0.3", "temperature=0.3"):
        result = await run_cli("chat", "hi", "--url", hub_space.url, "--option", given)
        assert result.code == 0, result.err
        assert hub_space.join_bodies[-1]["data"][4] == 0.3


async def test_an_unknown_option_lists_only_labelled_inputs(fake_space: FakeSpace) -> None:
    # The Qwen layout: its only settable input is the hidden, unlabelled system copy.
    result = await run_cli("chat", "hi", "--url", fake_space.url, "--option", "Nope=1")
    assert result.code == 2, result.err
    assert "no option 'Nope' (it has no labelled option to set; not settable by label: input 2" in result.err
    assert "None" not in result.err


async def test_piped_stdin_loses_its_trailing_newline(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", ["ok"]))
    result = await run_cli("chat", "--url", fake_space.url, stdin="what is 2+2?\n")
    assert result.code == 0, result.err
    assert fake_space.join_bodies[0]["data"][0] == "what is 2+2?"


async def test_a_real_wait_in_the_queue_is_shown(fake_space: FakeSpace) -> None:
    body = chat_body("hi", ["ok"])
    behind = sse({"msg": "estimation", "event_id": EVENT_ID, "rank": 2, "queue_size": 3, "rank_eta": 4.0})
    fake_space.stream = script(behind, *body)
    result = await run_cli("chat", "hi", "--url", fake_space.url)
    assert result.code == 0, result.err
    assert result.err.splitlines() == ["waiting in the queue: position 3 of 3, about 4 s"]


async def test_a_long_wait_at_the_head_of_the_queue_is_shown(
    fake_space: FakeSpace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_printer, "QUEUE_PATIENCE", 0.05)
    body = chat_body("hi", ["ok"])
    fake_space.stream = script(body[0], Heartbeats(every=0.2, times=2), *body[1:])
    result = await run_cli("chat", "hi", "--url", fake_space.url)
    assert result.code == 0, result.err
    assert result.err.splitlines() == ["waiting in the queue: position 1 of 1"]


async def test_unauthorised_names_the_token_flag(fake_space: FakeSpace) -> None:
    fake_space.joins = [JoinAnswer(401, b'{"detail":"Unauthorized"}')]
    result = await run_cli("chat", "hi", "--url", fake_space.url)
    assert result.code != 0
    assert "pass --token" in result.err
    assert "hf_token=" not in result.err


async def test_the_total_timeout_names_the_flag_once(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", ["Hel"])[:3], end=False)
    result = await run_cli("chat", "hi", "--url", fake_space.url, "--timeout", "1")
    assert result.code == 8, result.err
    message = result.err.splitlines()[-1]
    assert message.count("--timeout") == 1, message
    assert "Timeouts(" not in message
    assert message.endswith("; for long answers, allow longer than --timeout 1 s"), message


async def test_replay_shows_every_question() -> None:
    result = await run_cli("replay", "gradio-5.50.0/hub_template-history.yaml")
    assert result.code == 0, result.err
    shown = result.err.splitlines()
    assert "you> My name is Ada and I like cats." in shown
    assert any(line.startswith("space> Nice to meet you") for line in shown), shown
    assert "you> What is my name, and what do I like?" in shown


class TerminalText(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_thoughts_after_the_answer_began_wait_for_its_end(monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = io.StringIO(), TerminalText()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    printer = _printer.Printer(as_json=False)
    events: list[ChatEvent] = [
        Started(None),
        ReasoningDelta("plan", "Thinking"),
        TextDelta("Hel"),
        ReasoningDelta("late", "Thinking"),
    ]
    for event in [*events, TextDelta("lo"), Completed("Hello", None, "planlate")]:
        printer.event(event)
        if isinstance(event, TextDelta):
            # While the answer streams, nothing lands on the terminal between its pieces.
            assert "late" not in err.getvalue()
    assert out.getvalue() == "Hello\n"
    plain = err.getvalue().replace("\x1b[2m", "").replace("\x1b[0m", "")
    assert plain.index("plan") < plain.index("late")
    assert plain.endswith("Thinking: late\n")
