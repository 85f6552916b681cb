"""One terminal policy (client/core/reply.py): how each event sequence ends a chat, as a
table; then one reply of files alone and one of thoughts alone through every door that
reads replies (``chat()``, ``complete()``, a conversation, the CLI, ``serve``), each an answer with empty
text, and an empty reply an error through each of them."""

from dataclasses import dataclass
from typing import Any

import openai
import pytest
from qwen_space.client import QwenSpaceError, SpaceClient
from qwen_space.client.core.reply import ReplyCheck
from qwen_space.client.errors import EmptyReplyError, ReplyRewrittenError
from qwen_space.client.hub.space import SpaceStarting
from qwen_space.client.ways_in.cli import exit_code
from qwen_space.protocol import (
    ChatEvent,
    Completed,
    Correction,
    Failed,
    FileReply,
    ReasoningDelta,
    ReplyFile,
    TextDelta,
)
from qwen_space.protocol.errors import ServerError

from .cli import run_cli
from .fake_space import CLOSE_STREAM, completed, generating, script
from .serving import HELLO as OPENAI_HELLO
from .serving import async_openai, serving
from .support import HELLO
from .test_serve_spaces import THINKING, fake, parts, thought

FILE = ReplyFile("https://o-s.hf.space/gradio_api/file=/tmp/cat.png", "cat.png", "image/png")
FAILURE = ServerError("the Space failed", status=500)
Event = ChatEvent | SpaceStarting


@dataclass(frozen=True)
class Case:
    events: list[Event]
    #: The error class raised, or None when the chat ends as an answer.
    raises: type[QwenSpaceError] | None
    allow_empty: bool = False
    streamed: bool = False


REWRITE: list[Event] = [TextDelta("ab"), Correction(retract=2, text="cd", previous="ab"), Completed("cd", None)]
CASES = {
    "text": Case([TextDelta("hi"), Completed("hi", 0.1)], None),
    "empty": Case([Completed("", None)], EmptyReplyError),
    "empty, allowed": Case([Completed("", None)], None, allow_empty=True),
    "files alone": Case([FileReply(FILE), Completed("", None)], None),
    "thoughts alone": Case([ReasoningDelta("hmm", "Thinking"), Completed("", None, reasoning="hmm")], None),
    "thoughts only in the completion": Case([Completed("", None, reasoning="hmm")], None),
    "failed": Case([TextDelta("a"), Failed(FAILURE)], ServerError),
    "failed, empty allowed": Case([Failed(FAILURE)], ServerError, allow_empty=True),
    "rewritten, streamed": Case(REWRITE, ReplyRewrittenError, streamed=True),
    "rewritten, read whole": Case(REWRITE, None),
    "rewritten to nothing, streamed": Case(
        [TextDelta("ab"), Correction(retract=2, text="", previous="ab"), Completed("", None)],
        EmptyReplyError,
        streamed=True,
    ),
    "the Space starting first": Case([SpaceStarting("o/s", "BUILDING", 1.0), Completed("hi", None)], None),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_each_sequence_ends_by_the_one_policy(case: Case) -> None:
    check = ReplyCheck(allow_empty=case.allow_empty, streamed=case.streamed)
    if case.raises is None:
        for event in case.events:
            check.see(event)
        return
    with pytest.raises(case.raises):
        for event in case.events:
            check.see(event)


def test_a_failure_raises_its_own_error() -> None:
    with pytest.raises(ServerError) as raised:
        ReplyCheck().see(Failed(FAILURE))
    assert raised.value is FAILURE


def test_a_rewrite_carries_what_was_shown_at_the_first_rewrite_and_the_final_text() -> None:
    check = ReplyCheck(streamed=True)
    events: list[Event] = [
        TextDelta("abc"),
        Correction(retract=1, text="x", previous="abc"),
        TextDelta("yz"),  # not released: the caller stops at the first rewrite
        Correction(retract=2, text="w", previous="abxyz"),
    ]
    for event in events:
        check.see(event)
    assert check.shown == "abc"
    with pytest.raises(ReplyRewrittenError) as raised:
        check.see(Completed("abxw", None))
    assert (raised.value.partial_text, raised.value.final_text) == ("abc", "abxw")


def test_text_is_released_until_the_first_rewrite() -> None:
    check = ReplyCheck(streamed=True)
    check.see(TextDelta("ab"))
    assert check.shown is None
    check.see(Correction(retract=1, text="c", previous="ab"))
    assert check.shown == "ab"


# --- every door, one rule --------------------------------------------------------

USER = {"role": "user", "content": parts("hi")}
FILE_DATA = {
    "path": "/tmp/gradio/ab/cat.png",
    "url": None,  # set to the fake's own origin
    "orig_name": "cat.png",
    "mime_type": "image/png",
    "size": 3,
    "meta": {"_type": "gradio.FileData"},
}


def files_alone(origin: str) -> list[bytes]:
    image = {**FILE_DATA, "url": f"{origin}/gradio_api/file=/tmp/gradio/ab/cat.png"}
    reply = {"role": "assistant", "content": [{"type": "file", "file": image, "alt_text": None}]}
    return [completed(["", [USER, reply]]), CLOSE_STREAM]


def thoughts_alone(origin: str) -> list[bytes]:
    return [
        generating(["", [USER, thought("pondering", "pending")]]),
        completed(["", [USER, thought("pondering", "done")]]),
        CLOSE_STREAM,
    ]


def empty(origin: str) -> list[bytes]:
    return [completed(["", [USER, {"role": "assistant", "content": parts("")}]]), CLOSE_STREAM]


async def through_every_door(reply: Any) -> dict[str, object]:
    """What each door makes of the same reply: its text (the fake's origin as ORIGIN),
    or its error: the class, the CLI's exit code, ``serve``'s error code."""
    outcomes: dict[str, object] = {}
    async with fake(THINKING) as space:

        async def outcome(door: str, read: Any) -> None:
            space.stream = script(*reply(space.url))
            try:
                got = await read()
            except QwenSpaceError as error:
                got = type(error)
            outcomes[door] = got.replace(space.url, "ORIGIN") if isinstance(got, str) else got

        async with SpaceClient(space.url) as client:

            async def chat() -> str:
                return "".join([delta async for delta in client.chat(HELLO)])

            async def whole() -> str:
                return (await client.complete(HELLO)).text

            async def held() -> str:
                return "".join([delta async for delta in client.conversation().stream("hi")])

            await outcome("chat", chat)
            await outcome("complete", whole)
            await outcome("conversation", held)

        async def cli() -> object:
            result = await run_cli("chat", "hi", "--url", space.url)
            return result.out.strip() if result.code == 0 else result.code

        await outcome("cli", cli)
        async with serving(space.url) as base, async_openai(base) as openai_client:

            async def served() -> object:
                try:
                    answer = await openai_client.chat.completions.create(model="127.0.0.1", messages=OPENAI_HELLO)
                except openai.APIError as error:
                    return error.code
                return answer.choices[0].message.content

            await outcome("serve", served)
    return outcomes


async def test_a_reply_of_files_alone_is_an_answer_through_every_door() -> None:
    # serve links the file in the content, as it links every reply file.
    served = "![cat.png](ORIGIN/gradio_api/file=/tmp/gradio/ab/cat.png)"
    assert await through_every_door(files_alone) == {
        "chat": "",
        "complete": "",
        "conversation": "",
        "cli": "",
        "serve": served,
    }


async def test_a_reply_of_thoughts_alone_is_an_answer_through_every_door() -> None:
    assert await through_every_door(thoughts_alone) == {
        "chat": "",
        "complete": "",
        "conversation": "",
        "cli": "",
        "serve": "",
    }


async def test_an_empty_reply_is_an_error_through_every_door() -> None:
    assert await through_every_door(empty) == {
        "chat": EmptyReplyError,
        "complete": EmptyReplyError,
        "conversation": EmptyReplyError,
        "cli": exit_code(EmptyReplyError("x")),
        "serve": "space_empty_reply",
    }
