"""The interactive chat on a terminal (a pseudo-terminal): turns with history, and
Ctrl-C and Ctrl-D at the prompt and during an answer."""

import asyncio
import json
from pathlib import Path

from aiohttp import web

from .cli import Terminal
from .fake_space import FakeSpace, Heartbeats, StreamScript, chat_body, script

PROMPT = b"you> "


def answers(*scripts: StreamScript) -> StreamScript:
    """The n-th opened stream plays the n-th script."""

    async def play(response: web.StreamResponse, space: FakeSpace) -> None:
        await scripts[space.data_opens - 1](response, space)

    return play


def hanging(query: str, text: str) -> StreamScript:
    """An answer that shows ``text``, then more, and then never ends (until the client leaves).

    The client passes a snapshot of the reply on once the next one extends it (a placeholder
    the app replaces must never be shown), so ``text`` is on screen only after the second,
    which comes in a read of its own (after a pause: two writes at once are one read)."""
    estimation, starts, first, more = chat_body(query, [text, " and more"])[:-2]
    return script(estimation, starts, first, Heartbeats(0.05, 1), more, end=False)


async def test_interactive_chat_keeps_the_history(fake_space: FakeSpace) -> None:
    fake_space.stream = script(*chat_body("hi", ["Hel", "lo"]))
    with Terminal("chat", "--url", fake_space.url) as term:
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"first question\n")
        assert b"Hello" in await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"second question\n")
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"\n")
        code, _ = await asyncio.to_thread(term.finish)
    assert code == 0
    first, second = fake_space.join_bodies
    assert first["data"][:2] == ["first question", []]
    assert second["data"][:2] == ["second question", [["first question", "Hello"]]]


async def test_ctrl_c_at_the_prompt_exits_at_once_with_130(fake_space: FakeSpace) -> None:
    with Terminal("chat", "--url", fake_space.url) as term:
        await asyncio.to_thread(term.expect, PROMPT)
        term.interrupt()
        code, screen = await asyncio.to_thread(term.finish)
    assert code == 130, screen
    assert b"Traceback" not in screen
    assert b"cancelled" not in screen, "no job ran: nothing was cancelled"
    assert fake_space.join_bodies == []


async def test_the_banner_names_the_space_and_ctrl_d_ends_the_line(fake_space: FakeSpace) -> None:
    with Terminal("chat", "--url", fake_space.url) as term:
        banner = await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"\x04")
        code, screen = await asyncio.to_thread(term.finish)
    assert fake_space.url.encode() in banner
    assert code == 0, screen
    # The shell's prompt must not start after "you> ".
    assert screen.startswith(b"\r\n"), screen


async def test_ctrl_c_during_an_answer_cancels_it_and_keeps_the_conversation(fake_space: FakeSpace) -> None:
    fake_space.stream = answers(
        script(*chat_body("one", ["Hel", "lo"])),
        hanging("two", "Partial"),
        hanging("three", "Again"),
        script(*chat_body("four", ["Fine"])),
    )
    with Terminal("chat", "--url", fake_space.url) as term:
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"one\n")
        await asyncio.to_thread(term.expect, PROMPT)
        # Every Ctrl-C during an answer stops that answer only, the second one too.
        for question, shown, cancels in ((b"two\n", b"Partial", 1), (b"three\n", b"Again", 2)):
            term.type(question)
            await asyncio.to_thread(term.expect, shown)
            term.interrupt()
            stopped = await asyncio.to_thread(term.expect, PROMPT)
            assert b"cancelled on the Space" in stopped
            assert len(fake_space.cancels) == cancels
        term.type(b"four\n")
        assert b"Fine" in await asyncio.to_thread(term.expect, PROMPT)
        term.interrupt()
        code, screen = await asyncio.to_thread(term.finish)
    assert code == 130, screen
    assert b"Traceback" not in screen
    # The stopped turns are left out; the answered one stays.
    assert fake_space.join_bodies[3]["data"][:2] == ["four", [["one", "Hello"]]]


async def test_the_up_arrow_recalls_the_last_question(fake_space: FakeSpace) -> None:
    fake_space.stream = answers(script(*chat_body("one", ["Hello"])), script(*chat_body("one", ["Again"])))
    with Terminal("chat", "--url", fake_space.url) as term:
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"one\n")
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"\x1b[A\n")  # the up arrow, as a terminal sends it
        assert b"Again" in await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"\x04")
        code, _ = await asyncio.to_thread(term.finish)
    assert code == 0
    assert [body["data"][0] for body in fake_space.join_bodies] == ["one", "one"]


async def test_reset_system_and_save(fake_space: FakeSpace, tmp_path: Path) -> None:
    saved = tmp_path / "chat.json"
    saved.write_text("an older conversation")
    fake_space.stream = answers(
        script(*chat_body("one", ["Hello"])), script(*chat_body("two", ["Fine"])), script(*chat_body("x", ["Ok"]))
    )
    with Terminal("chat", "--url", fake_space.url) as term:
        await asyncio.to_thread(term.expect, PROMPT)
        for line in (b"one", b"/reset", b"/system Be brief.", b"two", f"/save {saved}".encode(), b"/nope"):
            term.type(line + b"\n")
            await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"//etc/passwd is a path\n")
        shown = await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"\n")
        code, _ = await asyncio.to_thread(term.finish)
    assert code == 0
    assert b"unknown command" not in shown
    first, second, third = fake_space.join_bodies
    assert first["data"] == ["one", [], "You are a helpful assistant."]
    # /reset forgot the first turn; /system set the prompt for the turns after it.
    assert second["data"] == ["two", [], "Be brief."]
    assert third["data"] == ["/etc/passwd is a path", [["two", "Fine"]], "Be brief."]
    assert json.loads(saved.read_text()) == {
        "space": fake_space.url,
        "options": {},
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "two"},
            {"role": "assistant", "content": "Fine"},
        ],
    }
    assert [p.name for p in tmp_path.iterdir()] == ["chat.json"], "no temporary file is left behind"


async def test_save_where_it_cannot_write_keeps_the_chat_going(fake_space: FakeSpace, tmp_path: Path) -> None:
    with Terminal("chat", "--url", fake_space.url) as term:
        await asyncio.to_thread(term.expect, PROMPT)
        term.type(f"/save {tmp_path}/missing/chat.json\n".encode())
        shown = await asyncio.to_thread(term.expect, PROMPT)
        term.type(b"\n")
        code, screen = await asyncio.to_thread(term.finish)
    assert code == 0
    assert b"not saved" in shown
    assert b"Traceback" not in shown + screen
