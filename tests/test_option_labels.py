"""Option labels are matched by one rule everywhere (:func:`find_option`): exact first,
else trimmed, NFC-normalised and case-folded; an input set twice is named once."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import replace
from pathlib import Path

import pytest
from qwen_space.protocol import ChatContract, build_call, derive_contract, parse_config
from qwen_space.protocol._chat_contract import ChatInput, InputRole
from qwen_space.protocol._chat_request import find_option
from qwen_space.protocol.errors import ChatRequestError

CONFIGS = Path(__file__).parent / "data" / "configs"
HUB_TEMPLATE = CONFIGS / "replicas" / "6.31.0" / "hub_template.json"
QWEN_DEMO = CONFIGS / "gradio-5.50.0.json"


def hub_template(**relabel: str) -> ChatContract:
    """The Hub's chat template (System message, Max new tokens, Temperature, Top-p), some labels changed."""
    contract = derive_contract(parse_config(json.loads(HUB_TEMPLATE.read_text(encoding="utf-8"))))
    inputs = tuple(replace(s, label=relabel.get(s.label or "", s.label)) for s in contract.inputs)
    return replace(contract, inputs=inputs)


@pytest.mark.parametrize("given", ["Temperature", "temperature", "  TEMPERATURE ", "Temperature\n", "tEmPeRaTuRe"])
def test_trimmed_and_case_insensitive(given: str) -> None:
    contract = hub_template(Temperature="Temperature ")
    found = find_option(contract, given)
    assert found.label == "Temperature "
    assert build_call(contract, "hi", options={given: 0.3}).data[4] == 0.3


def test_nfc_either_way() -> None:
    composed, decomposed = "Café", unicodedata.normalize("NFD", "Café")
    assert composed != decomposed
    for label, given in ((composed, decomposed), (decomposed, composed)):
        contract = hub_template(Temperature=label)
        assert find_option(contract, given).label == label
        assert build_call(contract, "hi", options={given: 0.3}).data[4] == 0.3


def test_an_exact_label_wins_over_a_folded_one() -> None:
    contract = hub_template(Temperature="top-p", **{"Top-p (nucleus sampling)": "Top-p"})
    assert find_option(contract, "top-p").label == "top-p"
    assert find_option(contract, "Top-p").label == "Top-p"
    with pytest.raises(ChatRequestError, match="2 inputs of this Space are labelled 'TOP-P'"):
        find_option(contract, "TOP-P")


def test_an_unknown_label_names_unlabelled_inputs_by_type_and_slot() -> None:
    with pytest.raises(ChatRequestError) as caught:
        find_option(derive_contract(parse_config(QWEN_DEMO.read_bytes())), "Nope")
    message = str(caught.value)
    assert "None" not in message
    assert (
        "no option 'Nope' (it has no labelled option to set; not settable by label: input 2 (an unlabelled textbox))"
        in message
    )
    assert caught.value.label == "Nope"
    with pytest.raises(
        ChatRequestError,
        match="its options: 'System message', 'Max new tokens', 'Temperature', 'Top-p \\(nucleus sampling\\)'\\)",
    ):
        find_option(hub_template(), "Nope")


def test_only_options_and_the_system_prompt_are_found() -> None:
    contract = hub_template()
    message_label = next(s for s in contract.inputs if s.role is InputRole.MESSAGE)
    assert isinstance(message_label, ChatInput)
    with pytest.raises(ChatRequestError, match="no option"):
        find_option(contract, message_label.label or "Message")


@pytest.mark.parametrize(
    "options",
    [{"Temperature": 0.2, "temperature": 0.9}, {"temperature": 0.2, " TEMPERATURE": 0.9}],
)
def test_an_option_given_twice_says_both_keys_reach_one_input(options: dict[str, object]) -> None:
    first, second = options
    with pytest.raises(ChatRequestError) as caught:
        build_call(hub_template(), "hi", options=options)
    assert str(caught.value) == f"options {first!r} and {second!r} both set the input 'Temperature': give it once"
    assert "system" not in str(caught.value)
    assert caught.value.label == second


def test_the_system_prompt_as_an_option_and_as_system_is_still_named_so() -> None:
    with pytest.raises(ChatRequestError, match="'system message' is the system prompt, also given as system="):
        build_call(hub_template(), "hi", system="a", options={"system message": "b"})
