"""The chat contract derived from real ``/config``s, the inputs built from it, replies split.

The configs are the replica apps' (``tests/replicas``) as Gradio 4.44.1, 5.50.0 and 6.31.0
served them (``tests/replicas/capture.py``), and the Qwen demo replica's.
"""

import contextlib
import copy
import json
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qwen_space.client import QWEN_CONTRACT
from qwen_space.protocol import (
    ChatContract,
    JSONValue,
    SpaceConfig,
    Turn,
    build_call,
    check_contract,
    derive_contract,
    parse_config,
)
from qwen_space.protocol._chat_contract import LABEL_RULES, AppKind, HistoryMode, InputRole, OptionKind
from qwen_space.protocol._chat_request import SeedCall, coerce_option
from qwen_space.protocol._chatbot import ChatbotFormat, read_history
from qwen_space.protocol._contract import space_contract_of
from qwen_space.protocol._reasoning import ReplyParts, Thought, split_reply
from qwen_space.protocol.errors import ChatRequestError, ContractMismatchError, RemoteProtocolError

from .replicas import APPS as REPLICA_APPS
from .strategies import json_values

CONFIGS = Path(__file__).parent / "data" / "configs"
REPLICAS = CONFIGS / "replicas"
VERSIONS = ("4.44.1", "5.50.0", "6.31.0")
APPS = ("hub_template", "plain_tuples", "plain_messages", "multimodal", "thinking_blocks")
#: Gradio 6 has no tuples chatbot: tests/replicas/plain_tuples.py refuses to build there.
NOT_BUILDABLE = {("6.31.0", "plain_tuples")}
CAPTURED = [(v, a) for v in VERSIONS for a in APPS if (v, a) not in NOT_BUILDABLE]

R = InputRole
HUB_EXTRAS = (R.SYSTEM, R.OPTION, R.OPTION, R.OPTION)


def raw(version: str, app: str) -> dict[str, Any]:
    loaded = json.loads((REPLICAS / version / f"{app}.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def config(version: str, app: str) -> SpaceConfig:
    return parse_config(raw(version, app))


def qwen(version: str) -> SpaceConfig:
    return parse_config((CONFIGS / f"gradio-{version}.json").read_bytes())


def test_every_buildable_app_was_captured() -> None:
    found = {(p.parent.name, p.stem) for p in REPLICAS.glob("*/*.json")}
    assert found == {(v, a) for v in VERSIONS for a in REPLICA_APPS if (v, a) not in NOT_BUILDABLE}


# (kind, api_name, fn_index, trigger_id, roles, reply_slot, reply_format, history mode, history format,
#  history seed fn, message seed fn, multimodal)
EXPECTED: dict[tuple[str, str], tuple[Any, ...]] = {}
for _app, _extras, _multimodal in [
    ("hub_template", HUB_EXTRAS, False),
    ("plain_tuples", (), False),
    ("plain_messages", (), False),
    ("multimodal", (), True),
]:
    # 4.44: no event seeds the API's State; the UI's own chain is the contract.
    _format = ChatbotFormat.TUPLES if _app == "plain_tuples" else ChatbotFormat.MESSAGES
    EXPECTED["4.44.1", _app] = (
        AppKind.CHAT_INTERFACE, "/_stream_fn", 2, None, (R.STATE, R.HISTORY, *_extras), 0, _format,
        HistoryMode.REQUEST, _format, None, 0, _multimodal,
    )  # fmt: skip
    _message = R.MULTIMODAL_MESSAGE if _multimodal else R.MESSAGE
    _trigger = 15 if _app == "hub_template" else 11
    EXPECTED["5.50.0", _app] = (
        AppKind.CHAT_INTERFACE, "/chat", 6, _trigger, (_message, R.STATE, *_extras), 0, ChatbotFormat.TEXT,
        HistoryMode.SESSION, _format, 3, None, _multimodal,
    )  # fmt: skip
    if _app != "plain_tuples":
        # 6.x names the API after the app's function.
        _name = {"hub_template": "/respond", "plain_messages": "/echo", "multimodal": "/look"}[_app]
        EXPECTED["6.31.0", _app] = (
            AppKind.CHAT_INTERFACE, _name, 6, _trigger, (_message, R.STATE, *_extras), 0, ChatbotFormat.TEXT,
            HistoryMode.SESSION, ChatbotFormat.NORMALISED, 3, None, _multimodal,
        )  # fmt: skip
for _version, _format in zip(
    VERSIONS, (ChatbotFormat.MESSAGES, ChatbotFormat.MESSAGES, ChatbotFormat.NORMALISED), strict=True
):
    EXPECTED[_version, "thinking_blocks"] = (
        AppKind.BLOCKS, "/generate", 0, 3, (R.MESSAGE, R.HISTORY, R.OPTION), 1, _format,
        HistoryMode.REQUEST, _format, None, None, False,
    )  # fmt: skip


@pytest.mark.parametrize(("version", "app"), CAPTURED)
def test_replica_contracts(version: str, app: str) -> None:
    contract = derive_contract(config(version, app))
    history_seed = contract.history_seed.fn_index if contract.history_seed else None
    message_seed = contract.message_seed.fn_index if contract.message_seed else None
    assert (
        contract.kind, contract.api_name, contract.fn_index, contract.trigger_id,
        tuple(s.role for s in contract.inputs), contract.reply_slot, contract.reply_format,
        contract.history, contract.history_format, history_seed, message_seed, contract.multimodal,
    ) == EXPECTED[version, app]  # fmt: skip
    assert contract.multi_turn
    assert contract.release.gradio_major == int(version[0])


@pytest.mark.parametrize("version", VERSIONS)
def test_hub_template_inputs_by_label(version: str) -> None:
    contract = derive_contract(config(version, "hub_template"))
    system = contract.system_input
    assert system is not None
    assert (system.label, system.component, system.default) == (
        "System message",
        "textbox",
        "You are a friendly Chatbot.",
    )
    described = [(o.label, o.component, o.default, o.minimum, o.maximum, o.step, o.kind) for o in contract.options]
    assert described == [
        ("Max new tokens", "slider", 512, 1, 2048, 1, OptionKind.MAX_TOKENS),
        ("Temperature", "slider", 0.7, 0.1, 4.0, 0.1, OptionKind.TEMPERATURE),
        ("Top-p (nucleus sampling)", "slider", 0.95, 0.1, 1.0, 0.05, OptionKind.TOP_P),
    ]
    temperature = contract.option_for(OptionKind.TEMPERATURE)
    assert temperature is not None
    assert temperature.label == "Temperature"
    assert contract.option_for(OptionKind.SYSTEM) is system
    assert contract.option_for(OptionKind.MODEL) is None


@pytest.mark.parametrize("version", VERSIONS)
def test_model_dropdown(version: str) -> None:
    contract = derive_contract(config(version, "thinking_blocks"))
    model = contract.option_for(OptionKind.MODEL)
    assert model is not None
    assert (model.label, model.component, model.default, model.choices) == (
        "Model",
        "dropdown",
        "alpha-1",
        ("alpha-1", "beta-2"),
    )
    assert contract.system_input is None


# -- the Qwen demo: one contract among others, the same as before --------------------


@pytest.mark.parametrize("version", VERSIONS)
def test_qwen_demo_derives_to_the_qwen_contract(version: str) -> None:
    space = qwen(version)
    contract = derive_contract(space)
    assert (contract.kind, contract.api_name, contract.fn_index, contract.trigger_id) == (
        AppKind.BLOCKS,
        "/model_chat",
        0,
        11,
    )
    assert [s.role for s in contract.inputs] == [R.MESSAGE, R.HISTORY, R.SYSTEM]
    assert (contract.reply_slot, contract.history) == (1, HistoryMode.REQUEST)
    derived = space_contract_of(contract, space)
    assert derived is not None
    # The same contract but for what follows the release (the prefix and the chatbot
    # format), which the client reads from /config on every run.
    assert replace(derived, api_prefix="/gradio_api", chatbot_format=ChatbotFormat.TUPLES) == QWEN_CONTRACT
    assert check_contract(space, derived) == []
    # The request is the one the client sends today: query, history, system.
    turns = [Turn("hi", "yo"), Turn("and?", "so")]
    data = build_call(contract, "q", turns, "sys").data
    assert (data[0], read_history(data[1]), data[2]) == ("q", turns, "sys")
    assert build_call(contract, "q").data == ["q", [], "You are a helpful assistant."]
    assert build_call(contract, "q", turns).seeds == ()


def test_qwen_demo_on_the_real_release_is_exactly_the_qwen_contract() -> None:
    space = qwen("5.50.0")
    assert space_contract_of(derive_contract(space), space) == QWEN_CONTRACT


def test_qwen_demo_send_button_is_the_same_event() -> None:
    space = qwen("5.50.0")
    # The submit binding is chosen; the button's click can be named.
    clicked = derive_contract(space, "/model_chat_1")
    assert (clicked.fn_index, clicked.trigger_id) == (1, 14)
    assert derive_contract(space, 1) == clicked


def test_the_qwen_layout_keeps_its_system_box_without_its_source() -> None:
    """Declared beats derived: the Qwen demo's hidden third textbox is its system prompt
    even where no event copies a 'System' textbox into it (issue 23, item 5)."""
    changed = copy.deepcopy(json.loads((CONFIGS / "gradio-5.50.0.json").read_text(encoding="utf-8")))
    changed["dependencies"] = [d for d in changed["dependencies"] if d["api_name"] != "modify_system_session"]
    contract = derive_contract(parse_config(changed))
    assert [s.role for s in contract.inputs] == [R.MESSAGE, R.HISTORY, R.SYSTEM]
    assert build_call(contract, "q", system="sys").data == ["q", [], "sys"]


def test_an_unlabelled_box_elsewhere_needs_its_source() -> None:
    """Outside the Qwen layout an unlabelled textbox is the system prompt only when a
    system-prompt textbox fills it; cut that link and it is a constant."""
    changed = copy.deepcopy(json.loads((CONFIGS / "gradio-5.50.0.json").read_text(encoding="utf-8")))
    changed["dependencies"] = [d for d in changed["dependencies"] if d["api_name"] != "modify_system_session"]
    for dependency in changed["dependencies"]:
        dependency["api_name"] = f"talk_{dependency['id']}"
    contract = derive_contract(parse_config(changed))
    assert [s.role for s in contract.inputs] == [R.MESSAGE, R.HISTORY, R.CONSTANT]
    with pytest.raises(ChatRequestError, match="no system prompt input"):
        build_call(contract, "q", system="sys")


# -- choosing the event -------------------------------------------------------------


def qwen_raw() -> dict[str, Any]:
    loaded = json.loads((CONFIGS / "gradio-5.50.0.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def test_buttons_with_the_chat_layout_are_not_other_chats() -> None:
    """A button bound to another function of the chat's signature is not a second chat:
    Enter in the message box runs /model_chat (issue 23: it was "2 chat events")."""
    changed = qwen_raw()
    changed["dependencies"][1]["api_name"] = "regenerate"
    space = parse_config(changed)
    contract = derive_contract(space)
    assert (contract.api_name, contract.fn_index) == ("/model_chat", 0)
    assert contract.system_input is not None
    assert derive_contract(space, "/regenerate").fn_index == 1
    assert derive_contract(space, "regenerate").fn_index == 1


def test_no_chat_event_lists_what_there_is() -> None:
    changed = raw("5.50.0", "thinking_blocks")
    changed["dependencies"] = [d for d in changed["dependencies"] if d["api_name"] == "clear"]
    with pytest.raises(ContractMismatchError, match="no chat event") as caught:
        derive_contract(parse_config(changed))
    assert "/clear (fn_index 2, inputs [], outputs [textbox 'Input', chatbot 'Chat'])" in str(caught.value)
    assert "--endpoint" in str(caught.value)


def test_a_named_event_must_chat() -> None:
    with pytest.raises(ContractMismatchError, match="is not a chat event"):
        derive_contract(config("5.50.0", "thinking_blocks"), "/clear")


@pytest.mark.parametrize(("endpoint", "match"), [("/nope", "no endpoint /nope"), (99, "no event with fn_index 99")])
def test_a_mistyped_endpoint_is_a_usage_error_naming_the_endpoints(endpoint: str | int, match: str) -> None:
    """The caller's typo, not the Space's drift: a ChatRequestError (exit 2) listing what to use."""
    space = config("5.50.0", "thinking_blocks")
    with pytest.raises(ChatRequestError, match=match) as caught:
        derive_contract(space, endpoint)
    assert not isinstance(caught.value, ContractMismatchError)
    assert all(name in str(caught.value) for name in space.endpoint_names())


def test_gradio_4_chat_endpoint_named_is_single_turn() -> None:
    """4.44's /chat keeps history only from earlier calls on its session: named as the
    endpoint, it takes one message, and earlier turns are refused before anything is sent."""
    contract = derive_contract(config("4.44.1", "hub_template"), "/chat")
    assert (contract.fn_index, contract.history, contract.history_seed, contract.multi_turn) == (
        18,
        HistoryMode.SESSION,
        None,
        False,
    )
    assert build_call(contract, "hi").data == ["hi", None, "You are a friendly Chatbot.", 512, 0.7, 0.95]
    with pytest.raises(ChatRequestError, match="keeps no history"):
        build_call(contract, "hi", [Turn("a", "b")])


# -- building requests ----------------------------------------------------------------


TURNS = [Turn("u1", "a1")]


def test_chat_interface_5_seeds_the_history_first() -> None:
    contract = derive_contract(config("5.50.0", "hub_template"))
    call = build_call(contract, "hi", TURNS, "Be brief.", {"Temperature": 0.2})
    flat: list[JSONValue] = [
        {"role": "user", "metadata": None, "content": "u1", "options": None},
        {"role": "assistant", "metadata": None, "content": "a1", "options": None},
    ]
    assert call.seeds == (SeedCall(3, [flat]),)
    assert call.data == ["hi", None, "Be brief.", 512, 0.2, 0.95]
    assert build_call(contract, "hi").seeds == ()


def test_chat_interface_6_history_is_normalised() -> None:
    contract = derive_contract(config("6.31.0", "multimodal"))
    call = build_call(contract, "hi", TURNS)
    [seed] = call.seeds
    assert seed.data[0] == [
        {"role": "user", "metadata": None, "content": [{"type": "text", "text": "u1"}], "options": None},
        {"role": "assistant", "metadata": None, "content": [{"type": "text", "text": "a1"}], "options": None},
    ]
    assert call.data == [{"text": "hi", "files": []}, None]


def test_chat_interface_5_tuples() -> None:
    call = build_call(derive_contract(config("5.50.0", "plain_tuples")), "hi", TURNS)
    assert call == type(call)((SeedCall(3, [[["u1", "a1"]]]),), ["hi", None])


def test_chat_interface_4_chain() -> None:
    """4.44 stores the message first, then takes the Chatbot with it appended; its
    messages refuse ``"metadata": null``, so none is sent."""
    contract = derive_contract(config("4.44.1", "hub_template"))
    call = build_call(contract, "hi", TURNS, options={"Max new tokens": 64})
    assert call.seeds == (SeedCall(0, ["hi"]),)
    history = [
        {"role": "user", "content": "u1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "hi"},
    ]
    assert call.data == [None, history, "You are a friendly Chatbot.", 64, 0.7, 0.95]
    tuples = build_call(derive_contract(config("4.44.1", "plain_tuples")), "hi", TURNS)
    assert tuples.data == [None, [["u1", "a1"], ["hi", None]]]


def test_chat_interface_4_chain_with_files() -> None:
    upload: dict[str, JSONValue] = {"path": "/tmp/x/a.txt", "orig_name": "a.txt", "meta": {"_type": "gradio.FileData"}}
    call = build_call(derive_contract(config("4.44.1", "multimodal")), "", files=[upload])
    assert call.seeds == (SeedCall(0, [{"text": "", "files": [upload]}]),)
    assert call.data == [
        None,
        [{"role": "user", "content": {"file": upload, "alt_text": None}}, {"role": "user", "content": ""}],
    ]


def test_blocks_history_in_the_request() -> None:
    contract = derive_contract(config("5.50.0", "thinking_blocks"))
    call = build_call(contract, "hi", TURNS, options={"model": "beta-2"})
    assert call.seeds == ()
    assert call.data == [
        "hi",
        [
            {"role": "user", "metadata": None, "content": "u1", "options": None},
            {"role": "assistant", "metadata": None, "content": "a1", "options": None},
        ],
        "beta-2",
    ]
    four = derive_contract(config("4.44.1", "thinking_blocks"))
    # 4.44 refuses "metadata": null: the key is left out.
    assert build_call(four, "hi", TURNS).data[1] == [
        {"role": "user", "content": "u1"},
        {"role": "assistant", "content": "a1"},
    ]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"Temprature": 0.5}, "no option 'Temprature' .*'System message', 'Max new tokens', 'Temperature'"),
        ({"Temperature": "hot"}, r"'Temperature' \(slider\) takes a finite number, got 'hot'"),
        ({"Temperature": True}, "takes a finite number"),
        ({"Temperature": math.nan}, "takes a finite number"),
        ({"Temperature": 4.5}, "takes a number from 0.1 to 4, got 4.5"),
        ({"Max new tokens": 0}, "from 1 to 2048"),
        ({"System message": 3}, "takes text"),
        ({7: 1}, "labels are strings"),
    ],
)
def test_options_are_checked(options: dict[Any, object], match: str) -> None:
    contract = derive_contract(config("6.31.0", "hub_template"))
    with pytest.raises(ChatRequestError, match=match) as caught:
        build_call(contract, "hi", options=options)
    label = next(iter(options))
    if isinstance(label, str) and label != "Temprature":
        assert caught.value.label == label
    assert isinstance(caught.value, ValueError)


def test_option_labels_ignore_case_and_the_system_prompt_is_one_input() -> None:
    contract = derive_contract(config("6.31.0", "hub_template"))
    assert build_call(contract, "hi", options={"temperature": 1, "SYSTEM MESSAGE": "x"}).data[2:5] == ["x", 512, 1]
    with pytest.raises(ChatRequestError, match="give it once"):
        build_call(contract, "hi", system="a", options={"System message": "b"})


def test_choices_are_checked() -> None:
    contract = derive_contract(config("6.31.0", "thinking_blocks"))
    with pytest.raises(
        ChatRequestError, match=r"'Model' \(dropdown\) takes one of its choices \('alpha-1', 'beta-2'\)"
    ):
        build_call(contract, "hi", options={"Model": "gamma-3"})


@pytest.mark.parametrize(
    ("request_kwargs", "match"),
    [
        ({"system": "sys"}, "no system prompt input"),
        ({"files": [{"path": "/tmp/a.png"}]}, "text only"),
        ({"history": [("u", "a")]}, r"history\[0\] must be a Turn"),
        ({"history": "u1"}, "sequence of Turn"),
    ],
)
def test_requests_the_app_cannot_take(request_kwargs: dict[str, Any], match: str) -> None:
    contract = derive_contract(config("5.50.0", "plain_messages"))
    with pytest.raises(ChatRequestError, match=match):
        build_call(contract, "hi", **request_kwargs)


def test_files_need_an_upload_path() -> None:
    contract = derive_contract(config("5.50.0", "multimodal"))
    with pytest.raises(ChatRequestError, match=r"files\[0\]"):
        build_call(contract, "hi", files=[{"url": "https://example.com/a.png"}])


# Every option component, on the real thinking_blocks layout with inputs added to its chat event.
EXTRA_INPUTS: list[dict[str, Any]] = [
    {"id": 101, "type": "checkbox", "props": {"label": "Stream", "value": True}},
    {"id": 102, "type": "radio", "props": {"label": "Style", "value": "short", "choices": [["Short", "short"], ["Long", "long"]]}},
    {"id": 103, "type": "number", "props": {"label": "Seed", "value": 0, "minimum": None, "maximum": None}},
    {"id": 104, "type": "checkboxgroup", "props": {"label": "Tools", "value": [], "choices": [["Web", "web"], ["Code", "code"]]}},
    {"id": 105, "type": "dropdown", "props": {"label": "Size", "value": 1, "choices": [["1", 1], ["2", 2]], "multiselect": True}},
    {"id": 106, "type": "dropdown", "props": {"label": "Voice", "value": "a", "choices": [["A", "a"]], "allow_custom_value": True}},
    {"id": 107, "type": "image", "props": {"label": "Picture", "value": None}},
    {"id": 108, "type": "state", "props": {}},
    {"id": 109, "type": "slider", "props": {"value": 3, "minimum": 0, "maximum": 9}},
]  # fmt: skip


def every_option() -> ChatContract:
    changed = raw("6.31.0", "thinking_blocks")
    changed["components"].extend(EXTRA_INPUTS)
    for dependency in changed["dependencies"][:2]:
        dependency["inputs"].extend(c["id"] for c in EXTRA_INPUTS)
    return derive_contract(parse_config(changed))


def test_every_option_kind() -> None:
    contract = every_option()
    # An image is not an option; nor is an unlabelled slider: both keep their defaults.
    assert [s.role for s in contract.inputs[3:]] == [R.OPTION] * 6 + [R.CONSTANT, R.STATE, R.CONSTANT]
    data = build_call(
        contract,
        "hi",
        options={"Stream": False, "Style": "long", "Seed": -5.5, "Tools": ["code"], "Size": [2, 1], "Voice": "zz"},
    ).data
    assert data[3:] == [False, "long", -5.5, ["code"], [2, 1], "zz", None, None, 3]
    assert build_call(contract, "hi").data[3:] == [True, "short", 0, [], 1, "a", None, None, 3]


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"Stream": "yes"}, "takes true or false"),
        ({"Style": "Long"}, "takes one of its choices"),
        ({"Tools": "web"}, "takes a list of its choices"),
        ({"Tools": ["web", "maps"]}, "takes one of its choices"),
        ({"Size": [True]}, "takes one of its choices"),
        ({"Voice": 3}, "takes one of its choices"),
        ({"Seed": 2**70}, "a number JSON can carry"),
    ],
)
def test_every_option_kind_refuses(options: dict[str, object], match: str) -> None:
    with pytest.raises(ChatRequestError, match=match):
        build_call(every_option(), "hi", options=options)


@pytest.mark.parametrize(
    ("label", "text", "value"),
    [
        ("Stream", "off", False),
        ("Stream", "TRUE", True),
        ("Seed", "42", 42),
        ("Seed", "-0.5", -0.5),
        ("Style", "long", "long"),
        ("Tools", "web, code", ["web", "code"]),
        ("Tools", '["code"]', ["code"]),
        ("Size", "2,1", [2, 1]),
        ("Voice", "whisper", "whisper"),
    ],
)
def test_coerce_option_from_the_command_line(label: str, text: str, value: JSONValue) -> None:
    contract = every_option()
    spec = next(s for s in contract.inputs if s.label == label)
    assert coerce_option(spec, text) == value
    build_call(contract, "hi", options={label: value})


@pytest.mark.parametrize(("label", "text"), [("Stream", "maybe"), ("Seed", "ten"), ("Tools", "[oops")])
def test_coerce_option_refuses(label: str, text: str) -> None:
    spec = next(s for s in every_option().inputs if s.label == label)
    with pytest.raises(ChatRequestError, match=repr(label)):
        coerce_option(spec, text)


# -- the label rules ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("component", "label", "kind"),
    [
        ("textbox", "System message", OptionKind.SYSTEM),
        ("textbox", "System Prompt", OptionKind.SYSTEM),
        ("textbox", "system_prompt", OptionKind.SYSTEM),
        ("textbox", "System", OptionKind.SYSTEM),
        ("textbox", "Enter your system instructions", OptionKind.SYSTEM),
        ("textbox", "Systematic review", None),
        ("textbox", "Temperature", None),
        ("slider", "Temperature", OptionKind.TEMPERATURE),
        ("number", "temp", OptionKind.TEMPERATURE),
        ("slider", "Template", None),
        ("slider", "Top-p (nucleus sampling)", OptionKind.TOP_P),
        ("slider", "top_p", OptionKind.TOP_P),
        ("slider", "Top-k", None),
        ("slider", "Max new tokens", OptionKind.MAX_TOKENS),
        ("slider", "max_new_tokens", OptionKind.MAX_TOKENS),
        ("slider", "Maximum length", OptionKind.MAX_TOKENS),
        ("slider", "Max output tokens", OptionKind.MAX_TOKENS),
        ("slider", "Max images", None),
        ("dropdown", "Model", OptionKind.MODEL),
        ("radio", "Choose a model", OptionKind.MODEL),
        ("dropdown", "Language", None),
    ],
)
def test_label_rules(component: str, label: str, kind: OptionKind | None) -> None:
    found = next((r.kind for r in LABEL_RULES if component in r.components and r.pattern.search(label)), None)
    assert found is kind


# -- reasoning apart from the answer --------------------------------------------------

# The thinking_blocks replica's chatbot value as 4.44 and 6.31 send it (whole values
# are in tests/data/chat-history-probe.txt, sequence 6), shortened.
THINKING_4: list[JSONValue] = [
    {"role": "user", "metadata": {"title": None}, "content": "u1"},
    {"role": "assistant", "metadata": {"title": None}, "content": "a1"},
    {"role": "user", "metadata": {"title": None}, "content": "two"},
    {"role": "assistant", "metadata": {"title": "Thinking"}, "content": 'beta-2 is thinking about "two".'},
    {"role": "assistant", "metadata": {"title": None}, "content": "Message: done."},
]
THINKING_6: list[JSONValue] = [
    {"role": "user", "metadata": None, "content": [{"text": "two", "type": "text"}], "options": None},
    {"role": "assistant", "metadata": {"title": "Thinking", "status": "pending"}, "content": [{"text": "beta-2 is", "type": "text"}], "options": None},
]  # fmt: skip


def test_thoughts_apart_from_the_answer() -> None:
    assert split_reply(THINKING_4, ChatbotFormat.MESSAGES) == ReplyParts(
        (Thought("Thinking", 'beta-2 is thinking about "two".'),), "Message: done."
    )
    # Mid-stream: the thought is pending and there is no answer yet.
    assert split_reply(THINKING_6, ChatbotFormat.NORMALISED) == ReplyParts(
        (Thought("Thinking", "beta-2 is", "pending"),), ""
    )


def test_earlier_turns_thoughts_are_not_this_reply() -> None:
    later: list[JSONValue] = [*THINKING_4, {"role": "user", "content": "next"}, {"role": "assistant", "content": "ok"}]
    assert split_reply(later, ChatbotFormat.MESSAGES) == ReplyParts((), "ok")


@pytest.mark.parametrize(
    ("value", "parts"),
    [
        ("plain", ReplyParts((), "plain")),
        ({"role": "assistant", "content": "one"}, ReplyParts((), "one")),
        (
            [{"content": "hmm", "metadata": {"title": "Tool", "status": "done"}}, {"content": [{"type": "text", "text": "x"}]}],
            ReplyParts((Thought("Tool", "hmm", "done"),), "x"),
        ),
        (None, ReplyParts((), "")),
    ],
)  # fmt: skip
def test_chat_interface_api_replies(value: JSONValue, parts: ReplyParts) -> None:
    assert split_reply(value, ChatbotFormat.TEXT) == parts


def test_tuples_have_no_thoughts() -> None:
    assert split_reply([["hi", "there"]], ChatbotFormat.TUPLES) == ReplyParts((), "there")


# -- properties -----------------------------------------------------------------------

hostile = st.one_of(
    json_values,
    st.floats(),
    st.integers(),
    st.sets(st.integers(), max_size=3),
    st.tuples(json_values),
    st.binary(max_size=4),
    st.builds(object),
)
CONTRACTS = [every_option(), *(derive_contract(config(v, a)) for v, a in CAPTURED), derive_contract(qwen("4.44.1"))]


def settings_for(
    draw: Callable[[st.SearchStrategy[Any]], Any], contract: ChatContract
) -> tuple[dict[Any, object], object]:
    """Options set by the contract's own labels (and a few unknown ones) to hostile values,
    and a system prompt that is mostly left out."""
    known = [s.label for s in contract.inputs if s.label and s.role in (R.OPTION, R.SYSTEM)]
    label = st.one_of(st.sampled_from(known), st.text(max_size=8)) if known else st.text(max_size=8)
    options = draw(st.dictionaries(label, hostile, max_size=3))
    system = draw(st.one_of(st.none(), st.none(), st.text(max_size=5), hostile))
    return options, system


@given(data=st.data())
def test_build_call_raises_only_our_error(data: st.DataObject) -> None:
    contract = data.draw(st.sampled_from(CONTRACTS))
    options, system = settings_for(data.draw, contract)
    try:
        built = build_call(contract, "hi", [Turn("a", "b")], system, options).data  # type: ignore[arg-type]
    except ChatRequestError:
        return
    # What is built is JSON: the join can send it.
    json.dumps(built, allow_nan=False)


ODD: st.SearchStrategy[Any] = st.one_of(
    json_values, st.sampled_from(["abc", None, True, [], {}, [1], [[1, 2, 3]], -1, 1e308])
)
# The constraints an option is checked against come up most.
PROPS = ["minimum", "maximum", "choices"] * 3 + [
    "label",
    "value",
    "step",
    "multiselect",
    "allow_custom_value",
    "visible",
]


@given(data=st.data())
def test_option_props_of_any_shape(data: st.DataObject) -> None:
    """Options whose declared props are anything still derive, and build or refuse with our error."""
    document = raw("6.31.0", "hub_template") if data.draw(st.booleans()) else raw("6.31.0", "thinking_blocks")
    document["components"].extend(copy.deepcopy(EXTRA_INPUTS))
    for dependency in document["dependencies"]:
        if dependency["api_name"] in ("respond", "generate", "generate_1"):
            dependency["inputs"].extend(c["id"] for c in EXTRA_INPUTS)
    for component in document["components"]:
        if component["type"] not in ("state", "chatbot", "json") and data.draw(st.booleans()):
            component["props"][data.draw(st.sampled_from(PROPS))] = data.draw(ODD)
    contract = derive_contract(parse_config(document))
    labels = [s.label for s in contract.inputs if s.label and s.role in (R.OPTION, R.SYSTEM)]
    # One option at a time: the first refused value would hide the rest.
    for label in labels:
        value = data.draw(st.one_of(st.floats(), st.integers(), hostile))
        with contextlib.suppress(ChatRequestError):
            json.dumps(build_call(contract, "hi", (), None, {label: value}).data, allow_nan=False)


def mutate(draw: st.DrawFn, document: dict[str, Any]) -> None:
    """Change what derivation reads, mostly the props of the components events take."""
    components, dependencies = document["components"], document["dependencies"]
    used = {i for d in dependencies for i in d.get("inputs", [])}
    inputs = [c for c in components if c["id"] in used] or components
    for _ in range(draw(st.integers(1, 4))):
        what = draw(st.sampled_from(["prop", "prop", "prop", "component", "dependency", "ids", "flag"]))
        if what == "component" and inputs:
            target = draw(st.sampled_from(inputs))
            target["type"] = draw(st.sampled_from(["textbox", "chatbot", "state", "json", "slider", "dropdown", "x"]))
        elif what == "prop" and inputs:
            target = draw(st.sampled_from(inputs))
            key = draw(st.sampled_from(["label", "value", "choices", "minimum", "maximum", "step", "type", "visible"]))
            target.setdefault("props", {})[key] = draw(ODD)
        elif what == "dependency" and dependencies:
            dependencies.remove(draw(st.sampled_from(dependencies)))
        elif what == "ids" and dependencies:
            target = draw(st.sampled_from(dependencies))
            key = draw(st.sampled_from(["inputs", "outputs"]))
            target[key] = draw(st.lists(st.integers(-1, 40), max_size=6))
        elif what == "flag" and dependencies:
            target = draw(st.sampled_from(dependencies))
            key = draw(st.sampled_from(["queue", "backend_fn", "api_name", "trigger_after"]))
            target[key] = draw(ODD)


@st.composite
def mutated_configs(draw: st.DrawFn) -> dict[str, Any]:
    version, app = draw(st.sampled_from([*CAPTURED, ("5.50.0", "qwen")]))
    document = qwen_raw() if app == "qwen" else raw(version, app)
    mutate(draw, document)
    return document


@given(
    document=mutated_configs(),
    endpoint=st.one_of(st.none(), st.integers(-1, 40), st.text(max_size=12)),
    data=st.data(),
)
def test_derive_raises_only_contract_mismatch_or_a_missing_endpoint(
    document: dict[str, Any], endpoint: str | int | None, data: st.DataObject
) -> None:
    try:
        space = parse_config(document)
    except RemoteProtocolError:  # the parser's refusals are tested in test_config.py
        return
    refused: ChatRequestError | None = None
    try:
        contract = derive_contract(space, endpoint)
    except ContractMismatchError:
        return
    except ChatRequestError as error:
        refused = error
    if refused is not None:
        # Only the caller's name or index the Space lacks is the caller's error.
        assert endpoint is not None
        assert "no endpoint" in str(refused) or "no event with fn_index" in str(refused)
        return
    # Whatever was derived builds requests, or refuses them with our error.
    options, system = settings_for(data.draw, contract)
    with contextlib.suppress(ChatRequestError):
        json.dumps(build_call(contract, "hi", [Turn("a", "b")], system, options).data, allow_nan=False)  # type: ignore[arg-type]
