"""The command line against the replica Space (real Gradio): Ctrl-C in the interactive
chat stops the job on the server, and a path under the app is not taken for a Space."""

import asyncio
import json
from importlib.metadata import version
from pathlib import Path

from ..cli import Terminal, run_cli
from ..replicas.expected import ANSWERS, FIRST, SECOND
from .conftest import Replica, replica_app

PROMPT = b"you> "


async def test_ctrl_c_during_an_answer_stops_the_job_and_keeps_the_conversation(replica: Replica) -> None:
    with Terminal("chat", "--url", replica.url, timeout=60) as term:
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"!tokens=3\n")
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"!tokens=200 !delay=0.05 !id=cli-interactive\n")
        await asyncio.to_thread(term.expect, b"tok1 ")
        term.interrupt()
        assert b"cancelled on the Space" in await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"!echo\n")
        echoed = await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"\n")
        code, screen = await asyncio.to_thread(term.finish)
    assert code == 0, screen
    assert replica.generation_stopped("cli-interactive", of=200)
    received = json.loads(echoed[echoed.index(b"{") : echoed.rindex(b"}") + 1])
    # The model got the answered turn, and not the stopped one.
    assert [pair[0] for pair in received["history"]] == ["!tokens=3"]


async def test_a_path_under_the_app_says_to_check_the_url(replica: Replica) -> None:
    for command in (["chat", "hi"], ["contract", "check"]):
        result = await run_cli(*command, "--url", replica.url + "/gradio_api")
        assert result.code == 6, result.err
        assert "check the URL" in result.err
        assert "root" in result.err
        assert "contract check" not in result.err


async def test_line_editing_and_the_commands_on_a_real_space(replica: Replica, tmp_path: Path) -> None:
    saved = tmp_path / "chat.json"
    with Terminal("chat", "--url", replica.url, timeout=60) as term:
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"!tokens=2\n")
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"/reset\n")
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"!eco\x1b[Dh\n")  # the left arrow and a letter: "!echo" is what is sent
        first = await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"\x1b[A\n")  # the up arrow recalls it
        second = await asyncio.to_thread(term.expect, PROMPT)
        term.type(f"/save {saved}\n".encode())
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"\n")
        code, screen = await asyncio.to_thread(term.finish)
    assert code == 0, screen
    echoed = [json.loads(shown[shown.index(b"{") : shown.rindex(b"}") + 1]) for shown in (first, second)]
    # /reset forgot the first turn: the edited "!echo" came with no history, the recalled one after it.
    assert [[pair[0] for pair in e["history"]] for e in echoed] == [[], ["!echo"]]
    messages = json.loads(saved.read_text())["messages"]
    assert [m["content"] for m in messages if m["role"] == "user"] == ["!echo", "!echo"]


async def test_the_interactive_chat_keeps_a_state_history_app_on_one_session(tmp_path: Path) -> None:
    # ChatGLM's layout keeps the model's history in a gr.State only its chain writes: the
    # second turn reaches the model with the first only if both run on one session.
    expected = ANSWERS["state_history"][version("gradio")]
    with (
        replica_app("state_history", tmp_path / "events.log") as app,
        Terminal("chat", "--url", app.url, timeout=90) as term,
    ):
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(FIRST.encode() + b"\n")
        first = await asyncio.to_thread(term.expect, PROMPT)
        term.type(SECOND.encode() + b"\n")
        second = await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"\n")
        code, screen = await asyncio.to_thread(term.finish)
    assert code == 0, screen
    assert expected.first.encode() in first.replace(b"\r\n", b"\n")
    assert expected.second.encode() in second.replace(b"\r\n", b"\n")
