"""What ``describe`` prints of a Space's values is bounded in depth and length."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given
from qwen_space.protocol import JSONValue, build_call, derive_contract, parse_config
from qwen_space.protocol._chat_contract import ChatInput, InputRole
from qwen_space.protocol.errors import ChatRequestError

from .strategies import json_values

HUB_TEMPLATE = Path(__file__).parent / "data" / "configs" / "replicas" / "6.31.0" / "hub_template.json"


def nested(depth: int) -> JSONValue:
    value: JSONValue = []
    for _ in range(depth):
        value = [value]
    return value


def option(**fields: object) -> ChatInput:
    base = ChatInput(role=InputRole.OPTION, component_id=7, component="dropdown", label="Model", default=None)
    return replace(base, **fields)  # type: ignore[arg-type]


def test_a_default_nested_past_the_recursion_limit() -> None:
    line = option(default=nested(1010)).describe()
    assert line == "option 'Model' (dropdown) default [[[[[...]]]]]"


def test_a_contract_with_a_deep_default_describes_itself() -> None:
    contract = derive_contract(parse_config(json.loads(HUB_TEMPLATE.read_text(encoding="utf-8"))))
    inputs = tuple(replace(s, default=nested(5000)) if s.label == "System message" else s for s in contract.inputs)
    lines = replace(contract, inputs=inputs).describe()
    assert any(line.endswith("'System message' (textbox) default [[[[[...]]]]]") for line in lines), lines


def test_long_values_and_many_choices_are_cut() -> None:
    line = option(default="x" * 100_000, choices=tuple(f"model-{i}" for i in range(1000))).describe()
    assert len(line) < 1500
    assert "... (980 more)" in line
    assert option(default=10**5000).describe().endswith("default <int of 16610 bits>")
    assert option(label="L" * 10_000).describe().count("L") < 300


def test_numbers_read_as_before() -> None:
    line = option(component="slider", default=0.7, minimum=0.0, maximum=2.0, step=0.1).describe()
    assert line == "option 'Model' (slider) default 0.7 range 0..2 step 0.1"


@given(json_values)
def test_any_value_describes_within_bounds(value: JSONValue) -> None:
    line = option(default=value, choices=(value, value)).describe()
    assert len(line) < 1000


def test_a_refused_value_of_any_depth_is_named_in_the_error() -> None:
    contract = derive_contract(parse_config(json.loads(HUB_TEMPLATE.read_text(encoding="utf-8"))))
    with pytest.raises(ChatRequestError, match=r"takes text, got \[\[\[\[\[\.\.\.\]\]\]\]\]$"):
        build_call(contract, "hi", options={"System message": nested(3000)})
