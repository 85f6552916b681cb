"""Acceptance tests of issue 23: chat Spaces whose chat is an event chain, run as a browser runs it.

Each replica of ``tests/replicas`` (``CHAIN_APPS``) is served by this environment's Gradio
and chatted with through ``SpaceClient`` alone, as a user would: no endpoint, no hints.
The scripted model answers with what it received, so each test compares the exact texts
of ``tests/replicas/expected.py`` (verified by driving each app's chain over raw HTTP):
the answer, the earlier turns that reached the model, and where history cannot reach it
(``state_history``), the typed refusal sent before anything reaches the app.
"""

import re
from collections.abc import Iterator
from importlib.metadata import version
from typing import Any

import pytest
from qwen_space.client import (
    AppError,
    Completed,
    Correction,
    Failed,
    QwenSpaceError,
    ReasoningDelta,
    SpaceClient,
    TextDelta,
    TransportError,
)

from ..replicas import CHAIN_APPS
from ..replicas.expected import (
    ANSWERS,
    FIRST,
    LLAMA_MAX_INPUT,
    LLAMA_TOO_LONG,
    QWEN_BUTTONS,
    SECOND,
    STATUS,
    TABBED_BETA,
    Expected,
)
from .conftest import App, replica_app

RELEASE = version("gradio")
#: The api names of the two tabs' chats, per release (ChatInterface names them so).
TAB_ENDPOINTS = {
    "4.44.1": ("/chat", "/chat_1"),
    "5.50.0": ("/chat", "/chat_1"),
    "6.31.0": ("/chat_alpha", "/chat_beta"),
}
#: Apps with one chat: every test of a plain chat applies to them.
ONE_CHAT = [app for app in CHAIN_APPS if app != "tabbed_two"]


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def expected(app: str) -> Expected:
    by_release = ANSWERS[app]
    if RELEASE not in by_release:
        pytest.skip(f"{app}'s answers are verified on {', '.join(by_release)}, not on Gradio {RELEASE}")
    return by_release[RELEASE]


@pytest.fixture(scope="module", params=ONE_CHAT)
def chain(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """Each one-chat chain app, served by this environment's Gradio."""
    name = request.param
    with replica_app(name, tmp_path_factory.mktemp(name) / "events.log") as replica:
        yield App(name, replica)


@pytest.fixture(scope="module")
def tabbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with replica_app("tabbed_two", tmp_path_factory.mktemp("tabbed_two") / "events.log") as replica:
        yield App("tabbed_two", replica)


async def test_one_message_gets_the_exact_answer(chain: App) -> None:
    want = expected(chain.name)
    async with SpaceClient(chain.replica.url) as space:
        completion = await space.complete([user(FIRST)])
    assert completion.text == want.first


async def test_a_failing_step_ends_the_chat_with_its_error_never_completed(chain: App) -> None:
    """The model raises after two words: the chat's events end with that one ``Failed``
    (the app's error, what was shown before it kept), and no ``Completed`` follows."""
    expected(chain.name)
    async with SpaceClient(chain.replica.url) as space:
        events = [event async for event in space.events([user(f"{FIRST} !fail")])]
    ends = [e for e in events if isinstance(e, (Completed, Failed))]
    assert ends == [events[-1]]
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert isinstance(failed.error, AppError)
    assert failed.error.partial_text == on_screen(events) != ""


def on_screen(events: list[Any]) -> str:
    """The reply a reader of ``events()`` shows: deltas appended, corrections applied."""
    text = ""
    for event in events:
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, Correction):
            text = text[: len(text) - event.retract] + event.text
    return text


async def test_the_stream_is_the_answer_and_nothing_else(chain: App) -> None:
    """What ``chat()`` streams adds up to the final answer: no placeholder, no earlier turn."""
    want = expected(chain.name)
    async with SpaceClient(chain.replica.url) as space:
        deltas = [delta async for delta in space.chat([user(FIRST)])]
    assert "".join(deltas) == want.first
    assert not any(STATUS in delta for delta in deltas)


async def test_earlier_turns_reach_the_model_or_the_request_is_refused(chain: App) -> None:
    want = expected(chain.name)
    conversation = [user(FIRST), assistant(want.first), user(SECOND)]
    async with SpaceClient(chain.replica.url) as space:
        if want.second_without_session is None:
            completion = await space.complete(conversation)
            assert completion.text == want.second
            return
        # The model's history is a State only the chat chain writes: sending the turns
        # would reach a model that saw none. Refused before anything is sent, saying why.
        conversation[-1] = user(f"{SECOND} !id=refused")
        with pytest.raises(QwenSpaceError, match=r"(?i)history") as refused:
            await space.complete(conversation)
    assert not isinstance(refused.value, (TransportError, AppError))
    assert chain.replica.yields("refused") == 0


async def test_a_fresh_session_per_request(chain: App) -> None:
    """Two requests in a row on one client: the second sees none of the first."""
    want = expected(chain.name)
    async with SpaceClient(chain.replica.url) as space:
        first = await space.complete([user(FIRST)])
        again = await space.complete([user(FIRST)])
    assert first.text == again.text == want.first


async def test_thoughts_come_before_the_answer(chain: App) -> None:
    """Thoughts are reasoning, the answer is text, in the Chatbot's order: when one update
    carries the finished thought and the answer's first word, the thought's end comes first."""
    want = expected(chain.name)
    async with SpaceClient(chain.replica.url) as space:
        events = [event async for event in space.events([user(FIRST)])]
    kinds = [type(e) for e in events if isinstance(e, (TextDelta, ReasoningDelta))]
    thoughts = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    answer = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert answer == want.first
    if want.thought is None:
        assert thoughts == ""
        return
    assert thoughts.strip() == want.thought
    last_thought = max(i for i, kind in enumerate(kinds) if kind is ReasoningDelta)
    assert TextDelta not in kinds[:last_thought]


async def test_two_chats_are_refused_until_one_is_chosen(tabbed: App) -> None:
    want = expected("tabbed_two")
    alpha, beta = TAB_ENDPOINTS[RELEASE]
    async with SpaceClient(tabbed.replica.url) as space:
        with pytest.raises(QwenSpaceError) as refused:
            await space.complete([user(f"{FIRST} !id=ambiguous")])
    assert not isinstance(refused.value, (TransportError, AppError))
    message = str(refused.value)
    # Each chat by the name its API page shows (4.44 lists it beside the private chain's step).
    assert re.search(rf"{re.escape(alpha)}(?!\w)", message)
    assert re.search(rf"{re.escape(beta)}(?!\w)", message)
    assert tabbed.replica.yields("ambiguous") == 0
    async with SpaceClient(tabbed.replica.url, endpoint=alpha) as space:
        assert (await space.complete([user(FIRST)])).text == want.first
    conversation = [user(FIRST), assistant(TABBED_BETA.first), user(f"{SECOND} !id=beta")]
    async with SpaceClient(tabbed.replica.url, endpoint=beta) as space:
        assert (await space.complete([user(FIRST)])).text == TABBED_BETA.first
        # 4.44's ChatInterface API event reads its history from a State no event seeds:
        # named explicitly, it may answer with the history (through the tab's chain) or
        # refuse the conversation, never answer without it.
        refusal: QwenSpaceError | None = None
        try:
            answer = await space.complete(conversation)
        except QwenSpaceError as exc:
            if not RELEASE.startswith("4."):
                raise
            refusal = exc
    if refusal is not None:
        assert not isinstance(refusal, (TransportError, AppError))
        assert "history" in str(refusal)
        assert tabbed.replica.yields("beta") == 0
        return
    assert answer.text == TABBED_BETA.second.replace(f'"{SECOND}"', f'"{SECOND} !id=beta"')


@pytest.fixture(scope="module")
def qwen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with replica_app("qwen_extra_buttons", tmp_path_factory.mktemp("qwen") / "events.log") as replica:
        yield App("qwen_extra_buttons", replica)


async def test_qwen_layout_keeps_its_system_prompt_beside_other_buttons(qwen: App) -> None:
    """Declared beats derived: the hidden system textbox is the system prompt, and the
    Rewrite/Summarize buttons (same signature) neither make the Space ambiguous nor answer."""
    expected("qwen_extra_buttons")
    async with SpaceClient(qwen.replica.url) as space:
        completion = await space.complete([user(FIRST)], system="Be brief.")
    assert completion.text == f'Message: "{FIRST}". Earlier turns: 0. System: "Be brief.".'
    assert not completion.text.startswith(tuple(QWEN_BUTTONS.values()))


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with replica_app("llama2_private", tmp_path_factory.mktemp("llama") / "events.log") as replica:
        yield App("llama2_private", replica)


async def test_private_chain_takes_options_by_label(llama: App) -> None:
    want = expected("llama2_private")
    options: dict[str, Any] = {"Temperature": 0.2, "Top-k": 7}
    async with SpaceClient(llama.replica.url) as space:
        completion = await space.complete([user(FIRST)], options=options)
    assert completion.text == want.first.replace("Temperature: 1.0", "Temperature: 0.2").replace(
        "Top-k: 50", "Top-k: 7"
    )


async def test_a_failed_check_step_stops_the_chain_with_its_error(llama: App) -> None:
    """``.success(generate)`` runs only after the check succeeded; its ``gr.Error`` is the answer."""
    expected("llama2_private")
    long = "x" * (LLAMA_MAX_INPUT + 1) + " !id=toolong"
    async with SpaceClient(llama.replica.url) as space:
        with pytest.raises(AppError) as failed:
            await space.complete([user(long)])
    assert failed.value.space_message == LLAMA_TOO_LONG.format(n=len(long))
    assert llama.replica.yields("toolong") == 0
