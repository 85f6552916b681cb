"""The command line against every replica chat Space (tests/replicas) served by the
Gradio of this environment: exact answers, ``--option``, ``--system``, ``--endpoint``,
thoughts apart from the answer, ``info``, and a recording replayed."""

import json
from pathlib import Path

from ..cli import run_cli
from ..replicas.scripted import show
from .conftest import App


async def test_chat_prints_the_answer_exactly(app: App) -> None:
    result = await run_cli("chat", "hello", "--url", app.replica.url)
    assert result.code == 0, result.err
    assert result.out == app.expected("hello") + "\n"


async def test_options_and_system_on_the_command_line(app: App) -> None:
    url = app.replica.url
    if app.name == "hub_template":
        result = await run_cli(
            "chat", "hi", "--url", url, "--system", "Be brief.", "--option", "Temperature=0.2",
            "--option", "Max new tokens=64",
        )  # fmt: skip
        assert result.code == 0, result.err
        settings = {"system": "Be brief.", "Temperature": 0.2, "Max new tokens": 64}
        assert result.out == app.expected("hi", settings=settings) + "\n"
        refused = await run_cli("chat", "hi", "--url", url, "--option", "Temperature=99")
        assert refused.code == 2
        assert "'Temperature'" in refused.err
    elif app.name == "thinking_blocks":
        result = await run_cli("chat", "hi", "--url", url, "--option", "Model=beta-2")
        assert result.code == 0, result.err
        assert result.out == app.expected("hi", settings={"Model": "beta-2"}) + "\n"
        refused = await run_cli("chat", "hi", "--url", url, "--system", "Be brief.")
        assert refused.code == 2
        assert "no system prompt input" in refused.err
    else:
        refused = await run_cli("chat", "hi", "--url", url, "--option", "Temperature=0.2")
        assert refused.code == 2
        assert "no option 'Temperature'" in refused.err


async def test_endpoint_on_the_command_line(app: App) -> None:
    missing = await run_cli("chat", "hi", "--url", app.replica.url, "--endpoint", "/nope")
    assert missing.code == 2  # a usage error: the name is the user's mistake
    assert "no endpoint /nope" in missing.err
    if app.name == "thinking_blocks":
        result = await run_cli("chat", "hi", "--url", app.replica.url, "--endpoint", "/generate")
        assert result.code == 0, result.err
        assert result.out == app.expected("hi") + "\n"


async def test_thoughts_apart_from_the_answer(app: App) -> None:
    plain = await run_cli("chat", "why", "--url", app.replica.url)
    assert plain.code == 0, plain.err
    assert plain.out == app.expected("why") + "\n"
    assert "thinking" not in plain.err  # stderr is no terminal here
    result = await run_cli("chat", "why", "--json", "--url", app.replica.url)
    assert result.code == 0, result.err
    events = [json.loads(line) for line in result.out.splitlines()]
    thoughts = "".join(e["text"] for e in events if e["type"] == "reasoning")
    assert "".join(e["text"] for e in events if e["type"] == "delta") == app.expected("why")
    assert thoughts == (f"alpha-1 is thinking about {show('why')}." if app.name == "thinking_blocks" else "")


async def test_info_shows_the_contract(app: App) -> None:
    result = await run_cli("info", "--url", app.replica.url)
    assert result.code == 0, result.err
    kind = "Blocks chat event" if app.name == "thinking_blocks" else "gr.ChatInterface"
    assert f"contract:  {kind}: " in result.out
    assert "history: " in result.out
    if app.name == "hub_template":
        assert "option 'Top-p (nucleus sampling)' (slider) default 0.95 range 0.1..1 step 0.05 [top_p]" in result.out
    if app.name == "thinking_blocks":
        assert "option 'Model' (dropdown) default 'alpha-1' choices 'alpha-1', 'beta-2' [model]" in result.out


async def test_record_then_replay(app: App, tmp_path: Path) -> None:
    result = await run_cli(
        "record", "--url", app.replica.url, "--scenario", "hello", "--scenario", "history", "--prefix", app.name,
        "--out", str(tmp_path),
    )  # fmt: skip
    assert result.code == 0, result.err
    folder = tmp_path / f"gradio-{app.replica.gradio_version}"
    hello = await run_cli("replay", str(folder / f"{app.name}-hello.yaml"))
    assert hello.code == 0, hello.err
    assert hello.out == app.expected("Hello! Who are you?") + "\n"
    history = await run_cli("replay", str(folder / f"{app.name}-history.yaml"))
    assert history.code == 0, history.err
    earlier = [["My name is Ada and I like cats.", "Nice to meet you, Ada! Cats are wonderful."]]
    assert history.out == app.expected("What is my name, and what do I like?", earlier) + "\n"


async def test_record_your_own_prompts_then_replay(app: App, tmp_path: Path) -> None:
    system = ("--system", "Be brief.") if app.name == "hub_template" else ()
    result = await run_cli(
        "record", "--url", app.replica.url, "--prompt", "What is 2+2?", "--prompt", "Hello! Who are you?",
        *system, "--prefix", app.name, "--out", str(tmp_path),
    )  # fmt: skip
    assert result.code == 0, result.err
    assert result.err.count("] recording prompt-") == 2
    assert result.out.count("; answered") == 2
    folder = tmp_path / f"gradio-{app.replica.gradio_version}"
    replayed = await run_cli("replay", str(folder / f"{app.name}-prompt-2.yaml"))
    assert replayed.code == 0, replayed.err
    settings = {"system": "Be brief."} if system else None
    assert replayed.out == app.expected("Hello! Who are you?", settings=settings) + "\n"
    assert "you> Hello! Who are you?" in replayed.err
