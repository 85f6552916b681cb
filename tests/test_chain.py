"""The chat as the app's event chain: which chats an app has, the steps Enter runs, the store.

The configs are those of the replica apps of ``tests/replicas`` (copied from public Spaces)
as Gradio 4.44.1, 5.50.0 and 6.31.0 serve them (``tests/replicas/capture.py``).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qwen_space.protocol import (
    Completed,
    Correction,
    QwenSpaceError,
    ReasoningDelta,
    TextDelta,
    Turn,
    build_call,
    derive_contract,
    parse_config,
)
from qwen_space.protocol._chain import find_chats
from qwen_space.protocol._chat_contract import AppKind, HistoryMode, InputRole
from qwen_space.protocol._held import HeldReply
from qwen_space.protocol._store import ComponentStore
from qwen_space.protocol.errors import AmbiguousChatError, ChatRequestError, HistoryUnreachableError

CHAINS = Path(__file__).parent / "data" / "configs" / "replicas"
VERSIONS = ("4.44.1", "5.50.0", "6.31.0")


def config(version: str, name: str) -> Any:
    return parse_config((CHAINS / version / f"{name}.json").read_bytes())


def raw(version: str, name: str) -> dict[str, Any]:
    loaded = json.loads((CHAINS / version / f"{name}.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("version", VERSIONS)
def test_the_canonical_chatbot_is_its_user_then_bot_chain(version: str) -> None:
    contract = derive_contract(config(version, "blocks_canonical"))
    assert contract.kind is AppKind.CHAIN
    assert [(s.api_name, s.queue) for s in contract.steps] == [("/user", False), ("/bot", True)]
    assert contract.api_name == "/bot"
    assert contract.history is HistoryMode.REQUEST
    assert contract.multi_turn
    call = build_call(contract, "hi", [Turn("a", "b")])
    assert contract.message_id is not None
    assert contract.chatbot_id is not None
    assert call.values[contract.message_id] == "hi"
    assert len(call.values[contract.chatbot_id]) == 2  # type: ignore[arg-type]


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("endpoint", ["/bot", "bot", "/user", 0, 1])
def test_any_step_of_the_chain_names_the_chain(version: str, endpoint: str | int) -> None:
    space = config(version, "blocks_canonical")
    assert derive_contract(space, endpoint) == derive_contract(space)


@pytest.mark.parametrize("version", VERSIONS)
def test_the_multimodal_chain_takes_a_multimodal_message(version: str) -> None:
    contract = derive_contract(config(version, "blocks_multimodal"))
    assert contract.multimodal
    assert [s.api_name for s in contract.steps] == ["/add_message", "/bot_response"]
    assert contract.message_id is not None
    assert build_call(contract, "hi").values[contract.message_id] == {"text": "hi", "files": []}


@pytest.mark.parametrize("version", VERSIONS)
def test_a_private_chain_ending_in_success_is_the_chat(version: str) -> None:
    """Llama-2-chat: every step api_name=False; the private steps can be named by fn_index."""
    space = config(version, "llama2_private")
    contract = derive_contract(space)
    assert [s.fn_index for s in contract.steps] == [0, 1, 2, 3]
    assert [s.only_on_success for s in contract.steps] == [False, False, False, True]
    assert all(s.api_name is None for s in contract.steps)
    roles = {s.label: s.role for s in contract.inputs if s.label}
    assert roles["System prompt"] is InputRole.SYSTEM
    assert roles["Temperature"] is InputRole.OPTION
    for step in range(4):
        assert derive_contract(space, step) == contract
    # The Submit button's click is the same chat (its box has a submit chain).
    assert derive_contract(space, 7).steps[0].fn_index == 4


@pytest.mark.parametrize("version", VERSIONS)
def test_history_in_a_state_refuses_multi_turn_before_sending(version: str) -> None:
    contract = derive_contract(config(version, "state_history"))
    assert contract.history is HistoryMode.CONVERSATION
    assert not contract.multi_turn
    assert build_call(contract, "one turn is fine").values
    with pytest.raises(HistoryUnreachableError, match=r"conversation\(\)") as caught:
        build_call(contract, "hi", [Turn("a", "b")])
    assert isinstance(caught.value, ChatRequestError)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(
    ("name", "kind", "steps"),
    [
        ("buttons", AppKind.BLOCKS, 0),
        ("placeholder", AppKind.BLOCKS, 0),
        ("thinking_chain", AppKind.CHAIN, 2),
        ("placeholder_chain", AppKind.CHAIN, 2),
    ],
)
def test_buttons_on_the_chatbot_do_not_make_it_ambiguous(version: str, name: str, kind: AppKind, steps: int) -> None:
    """Retry, undo, like, clear and Send beside the box: one chat (one event is the fast path)."""
    contract = derive_contract(config(version, name))
    assert contract.kind is kind
    assert len(contract.steps) == steps


@pytest.mark.parametrize("version", VERSIONS)
def test_two_chat_interfaces_in_tabs_are_refused_naming_both(version: str) -> None:
    space = config(version, "tabbed_two")
    with pytest.raises(AmbiguousChatError) as caught:
        derive_contract(space)
    first, second = caught.value.choices
    assert first in str(caught.value)
    assert second in str(caught.value)
    assert derive_contract(space, first).api_name == first
    assert derive_contract(space, second).api_name == second
    assert derive_contract(space, first).kind is AppKind.CHAT_INTERFACE


@pytest.mark.parametrize(("kind", "in_chain"), [("then", True), ("success", True), ("failure", False)])
def test_a_failure_step_is_no_part_of_the_chat(kind: str, in_chain: bool) -> None:
    """``.failure(show_error)`` runs only after a failed step, which ends the chat: the
    client never runs it (it would run it after a success otherwise)."""
    app = raw("5.50.0", "blocks_canonical")
    (bot,) = [d for d in app["dependencies"] if d["id"] == 1]
    app["dependencies"].append(
        {
            **bot,
            "id": 3,
            "targets": [[None, kind]],
            "trigger_after": 1,
            "trigger_only_on_success": kind == "success",
            "trigger_only_on_failure": kind == "failure",
        }
    )
    (chat,) = find_chats(parse_config(json.dumps(app).encode()))
    assert (3 in [step.fn_index for step in chat.steps]) is in_chain


def test_on_4_the_refusal_names_each_tab_by_its_api_event_too() -> None:
    """4.44's ChatInterface chats through a private chain; its API page shows ``/chat`` and
    ``/chat_1``, so the refusal names those beside the chain's step, and both choose the tab."""
    space = config("4.44.1", "tabbed_two")
    with pytest.raises(AmbiguousChatError) as caught:
        derive_contract(space)
    message = str(caught.value)
    assert "/_stream_fn (API event /chat);" in message
    assert "/_stream_fn_2 (API event /chat_1)." in message
    assert derive_contract(space, "/chat").fn_index != derive_contract(space, "/chat_1").fn_index


@pytest.mark.parametrize("version", VERSIONS)
def test_the_qwen_layout_with_extra_buttons_is_the_qwen_chat(version: str) -> None:
    contract = derive_contract(config(version, "qwen_extra_buttons"))
    assert (contract.api_name, contract.fn_index, contract.kind) == ("/chat", 0, AppKind.BLOCKS)
    assert [s.role for s in contract.inputs] == [InputRole.MESSAGE, InputRole.HISTORY, InputRole.SYSTEM]
    assert derive_contract(config(version, "qwen_extra_buttons"), "/chat_2").fn_index == 2


def test_the_store_reads_inputs_and_takes_updates() -> None:
    space = config("5.50.0", "blocks_multimodal")
    contract = derive_contract(space)
    first, second = contract.steps
    store = ComponentStore(space.components)
    assert contract.message_id is not None
    assert contract.chatbot_id is not None
    store.set(contract.message_id, {"text": "hi", "files": []})
    store.set(contract.chatbot_id, [])
    assert store.inputs(first) == [[], {"text": "hi", "files": []}]
    store.apply(
        first, [[{"role": "user", "content": "hi"}], {"__type__": "update", "value": None, "interactive": False}]
    )
    assert store.get(contract.message_id) is None
    store.apply(first, [[{"role": "user", "content": "hi"}], {"__type__": "update", "interactive": True}])
    assert store.get(contract.message_id) is None  # an update without a value keeps the value
    assert store.inputs(second) == [[{"role": "user", "content": "hi"}]]


def test_a_state_input_is_sent_as_null() -> None:
    space = config("5.50.0", "llama2_private")
    contract = derive_contract(space)
    store = ComponentStore(space.components)
    store.apply(contract.steps[0], ["", "saved on the server"])
    assert store.inputs(contract.steps[1])[0] is None


# -- the cost of derivation ------------------------------------------------------------


def big_config(events: int) -> dict[str, Any]:
    """A chat plus ``events`` buttons, each a two-step chain writing the Chatbot: ~1 MB."""
    base = raw("5.50.0", "blocks_canonical")
    components = list(base["components"])
    dependencies = list(base["dependencies"])
    next_id = max(c["id"] for c in components) + 1
    chatbot = next(c["id"] for c in components if c["type"] == "chatbot")
    template = next(d for d in dependencies if d.get("trigger_after") is not None)
    for n in range(events // 2):
        button = {"id": next_id + n, "type": "button", "props": {"value": f"Action number {n}", "visible": True}}
        components.append(button)
        root = dict(template, id=len(dependencies), targets=[[button["id"], "click"]], trigger_after=None)
        root["inputs"], root["outputs"], root["api_name"] = [chatbot], [chatbot], f"action_{n}"
        dependencies.append(root)
        then = dict(template, id=len(dependencies), trigger_after=root["id"], api_name=f"action_{n}_then")
        dependencies.append(then)
    return dict(base, components=components, dependencies=dependencies)


def test_a_1mb_config_of_4000_events_derives_in_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    raw_config = big_config(4000)
    body = json.dumps(raw_config).encode()
    assert len(body) > 1_000_000
    assert len(raw_config["dependencies"]) > 4000
    space = parse_config(body)
    # Count the work: every look at a component's props (labels, visibility) and every
    # dependency visited. Quadratic derivation would make millions.
    from qwen_space.protocol import _config as config_module

    looks = 0
    label = config_module.Component.label

    def counted(self: Any) -> Any:
        nonlocal looks
        looks += 1
        return label.fget(self)  # type: ignore[attr-defined]

    monkeypatch.setattr(config_module.Component, "label", property(counted))
    started = time.perf_counter()
    contract = derive_contract(space)
    elapsed = time.perf_counter() - started
    assert contract.api_name == "/bot"
    assert looks < 10 * len(raw_config["dependencies"])
    # Generous: linear derivation takes a few milliseconds here; quadratic took 45 s.
    assert elapsed < 2.0


# -- held-back reply ----------------------------------------------------------------------


def test_a_placeholder_replaced_never_reaches_the_reader() -> None:
    held = HeldReply()
    out = held.batch([TextDelta("Generating...")])
    out += held.batch([Correction(retract=13, text="Hel", previous="Generating...")])
    out += held.batch([TextDelta("lo")])
    out += held.batch([TextDelta("!"), Completed("Hello!", None, "")])
    texts = [e.text for e in out if isinstance(e, TextDelta)]
    assert "".join(texts) == "Hello!"
    assert not [e for e in out if isinstance(e, Correction)]


def test_a_thought_passes_the_held_answer() -> None:
    held = HeldReply()
    out = held.batch([TextDelta("The"), ReasoningDelta("done.", "Thinking")])
    assert [type(e) for e in out] == [ReasoningDelta]


def test_a_true_rewrite_of_released_text_is_a_correction() -> None:
    held = HeldReply()
    out = held.batch([TextDelta("abc")]) + held.batch([TextDelta("def")])
    out += held.batch([Correction(retract=6, text="xyz", previous="abcdef")])
    out += held.batch([Completed("xyz", None, "")])
    corrections = [e for e in out if isinstance(e, Correction)]
    assert corrections
    assert corrections[0].previous == "abc"
    shown = ""
    for event in out:
        if isinstance(event, TextDelta):
            shown += event.text
        elif isinstance(event, Correction):
            shown = shown[: len(shown) - event.retract] + event.text
    assert shown == "xyz"


@given(st.lists(st.text(max_size=5), max_size=12), st.text(max_size=20))
def test_held_text_always_ends_as_the_final_text(pieces: list[str], final: str) -> None:
    held = HeldReply()
    out = []
    shown_by_producer = ""
    for piece in pieces:
        if piece.startswith("x"):
            out += held.batch([Correction(retract=len(shown_by_producer), text=piece, previous=shown_by_producer)])
            shown_by_producer = piece
        else:
            out += held.batch([TextDelta(piece)])
            shown_by_producer += piece
    out += held.batch([Completed(final, None, "")])
    shown = ""
    for event in out:
        if isinstance(event, TextDelta):
            shown += event.text
        elif isinstance(event, Correction):
            assert shown == event.previous
            shown = shown[: len(shown) - event.retract] + event.text
    assert shown == final


# -- arbitrary configs --------------------------------------------------------------------

_TYPES = st.sampled_from(["textbox", "multimodaltextbox", "chatbot", "state", "button", "slider", "json"])


@st.composite
def configs(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(0, 8))
    components = [
        {
            "id": i,
            "type": draw(_TYPES),
            "props": draw(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "label": st.text(max_size=8),
                        "visible": st.booleans(),
                        "value": st.none() | st.text(max_size=4),
                    },
                )
            ),
        }
        for i in range(n)
    ]
    ids = st.integers(-1, n + 1)
    dependencies = []
    for d in range(draw(st.integers(0, 10))):
        dependencies.append(
            {
                "id": d,
                "targets": [[draw(st.none() | ids), draw(st.sampled_from(["submit", "click", "then", "success"]))]],
                "inputs": draw(st.lists(ids, max_size=4)),
                "outputs": draw(st.lists(ids, max_size=4)),
                "queue": draw(st.booleans()),
                "backend_fn": draw(st.booleans()),
                "api_name": draw(st.none() | st.just(False) | st.text(max_size=4)),
                "trigger_after": draw(st.none() | st.integers(-1, 11)),
                "trigger_only_on_success": draw(st.booleans()),
            }
        )
    return {"version": "5.50.0", "protocol": "sse_v3", "components": components, "dependencies": dependencies}


@settings(max_examples=300, deadline=None)
@given(configs(), st.none() | st.integers(-1, 11) | st.text(max_size=4))
def test_arbitrary_configs_raise_only_our_errors(raw_config: dict[str, Any], endpoint: int | str | None) -> None:
    try:
        space = parse_config(raw_config)
        find_chats(space)
        contract = derive_contract(space, endpoint)
        build_call(contract, "hi", [Turn("a", "b")] if contract.multi_turn else [])
    except QwenSpaceError:
        pass
