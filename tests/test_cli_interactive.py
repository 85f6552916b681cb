"""The interactive chat on a terminal (a pseudo-terminal): turns with history, and
Ctrl-C and Ctrl-D at the prompt and during an answer."""

import asyncio

from aiohttp import web

from .cli import Terminal
from .fake_space import FakeSpace, StreamScript, chat_body, script

PROMPT = b"you> "


def answers(*scripts: StreamScript) -> StreamScript:
    """The n-th opened stream plays the n-th script."""

    async def play(response: web.StreamResponse, space: FakeSpace) -> None:
        await scripts[space.data_opens - 1](response, space)

    return play


def hanging(query: str, text: str) -> StreamScript:
    """An answer that shows ``text`` and then never ends (until the client leaves)."""
    return script(*chat_body(query, [text])[:-2], end=False)


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
