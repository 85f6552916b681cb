import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from qwen_space.client import QWEN_CONTRACT
from qwen_space.protocol import SpaceConfig, check_contract, derive_contract, parse_config
from qwen_space.protocol._chatbot import ChatbotFormat
from qwen_space.protocol._config import Visibility
from qwen_space.protocol._contract import DriftKind, require_contract
from qwen_space.protocol.errors import ChatRequestError, ContractMismatchError, RemoteProtocolError

CONFIGS = Path(__file__).parent / "data" / "configs"
# Captured from the replica (tests/replica/app.py) served by each Gradio version.
VERSIONS = ["4.44.1", "5.50.0", "6.31.0"]


def raw_config(version: str) -> dict[str, Any]:
    loaded = json.loads((CONFIGS / f"gradio-{version}.json").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("version", VERSIONS)
def test_replica_configs_resolve_model_chat(version: str) -> None:
    config = parse_config((CONFIGS / f"gradio-{version}.json").read_bytes())
    assert config.version == version
    assert config.protocol == "sse_v3"
    contract = derive_contract(config, "/model_chat")
    assert (contract.fn_index, contract.trigger_id) == (0, 11)
    assert contract.input_types == ("textbox", "chatbot", "textbox")
    assert contract.output_types == ("textbox", "chatbot", "textbox")
    assert contract.reply_slot == 1
    assert derive_contract(config, "model_chat_1").fn_index == 1


@pytest.mark.parametrize(
    ("version", "prefix", "chatbot_format", "drifts"),
    [
        ("4.44.1", "", ChatbotFormat.TUPLES, {DriftKind.PREFIX}),
        ("5.50.0", "/gradio_api", ChatbotFormat.TUPLES, set()),
        ("6.31.0", "/gradio_api", ChatbotFormat.NORMALISED, {DriftKind.CHATBOT_FORMAT}),
    ],
)
def test_version_differences_are_handled_drifts(
    version: str, prefix: str, chatbot_format: ChatbotFormat, drifts: set[DriftKind]
) -> None:
    config = parse_config(raw_config(version))
    assert config.api_prefix == prefix
    assert derive_contract(config, "/model_chat").reply_format is chatbot_format
    found = require_contract(config, QWEN_CONTRACT)
    assert {d.kind for d in found} == drifts
    assert not any(d.breaking for d in found)


def mutated(change: Any) -> SpaceConfig:
    raw = copy.deepcopy(raw_config("5.50.0"))
    change(raw)
    return parse_config(raw)


def dependency(raw: dict[str, Any], fn: int) -> dict[str, Any]:
    found = next(d for d in raw["dependencies"] if d["id"] == fn)
    assert isinstance(found, dict)
    return found


def component(raw: dict[str, Any], component_id: int) -> dict[str, Any]:
    found = next(c for c in raw["components"] if c["id"] == component_id)
    assert isinstance(found, dict)
    return found


def test_drift_endpoint_missing_is_breaking() -> None:
    config = mutated(lambda raw: dependency(raw, 0).update(api_name="chat"))
    [drift] = check_contract(config, QWEN_CONTRACT)
    assert drift.kind is DriftKind.ENDPOINT_MISSING
    assert drift.breaking
    assert "/chat" in drift.actual
    with pytest.raises(ContractMismatchError, match="endpoint missing") as caught:
        require_contract(config, QWEN_CONTRACT)
    assert caught.value.drifts == (drift,)


def test_drift_fn_index_and_trigger_moved() -> None:
    def move(raw: dict[str, Any]) -> None:
        dependency(raw, 0).update(id=7, targets=[[12, "submit"]])

    kinds = {(d.kind, d.expected, d.actual, d.breaking) for d in check_contract(mutated(move), QWEN_CONTRACT)}
    assert kinds == {(DriftKind.FN_INDEX, "0", "7", False), (DriftKind.TRIGGER_ID, "11", "12", False)}


def test_drift_input_and_output_types() -> None:
    def retype(raw: dict[str, Any]) -> None:
        dependency(raw, 0).update(inputs=[11, 10], outputs=[11, 10, 4, 1])

    drifts = check_contract(mutated(retype), QWEN_CONTRACT)
    assert [(d.kind, d.actual, d.breaking) for d in drifts] == [
        (DriftKind.INPUT_TYPES, "[textbox, chatbot]", True),
        (DriftKind.OUTPUT_TYPES, "[textbox, chatbot, textbox, markdown]", True),
    ]


def test_drift_chatbot_format() -> None:
    config = mutated(lambda raw: component(raw, 10)["props"].update(type="messages"))
    [drift] = check_contract(config, QWEN_CONTRACT)
    assert (drift.kind, drift.expected, drift.actual) == (DriftKind.CHATBOT_FORMAT, "tuples", "messages")


def test_drift_prefix_and_protocol() -> None:
    config = mutated(lambda raw: raw.update(api_prefix=None, protocol="sse_v2"))
    assert {d.kind for d in check_contract(config, QWEN_CONTRACT)} == {DriftKind.PREFIX, DriftKind.PROTOCOL}


@pytest.mark.parametrize("protocol", ["ws", "sse", "sse_v4"])
def test_unsupported_protocols_are_refused(protocol: str) -> None:
    raw = raw_config("5.50.0")
    raw["protocol"] = protocol
    with pytest.raises(ContractMismatchError, match=repr(protocol)):
        parse_config(raw)


def test_missing_protocol_means_gradio_3() -> None:
    raw = raw_config("5.50.0")
    del raw["protocol"]
    with pytest.raises(ContractMismatchError, match="'ws'"):
        parse_config(raw)


def test_private_endpoints_are_not_resolved() -> None:
    config = mutated(lambda raw: dependency(raw, 0).update(api_name=False))
    assert config.dependencies[0].visibility is Visibility.PRIVATE
    assert "/model_chat" not in config.endpoint_names()
    with pytest.raises(ChatRequestError, match="no endpoint /model_chat"):
        derive_contract(config, "/model_chat")
    assert [d.kind for d in check_contract(config, QWEN_CONTRACT)] == [DriftKind.ENDPOINT_MISSING]


@pytest.mark.parametrize("hidden", [{"show_api": False}, {"api_visibility": "undocumented"}])
def test_endpoints_left_out_of_the_api_docs_are_public(hidden: dict[str, Any]) -> None:
    config = mutated(lambda raw: dependency(raw, 0).update(hidden))
    assert config.dependencies[0].visibility is Visibility.PUBLIC
    assert "/model_chat" in config.endpoint_names()
    assert check_contract(config, QWEN_CONTRACT) == []


def test_contract_messages_say_what_changed_without_app_advice() -> None:
    """The protocol layer names no command of an application built on it."""
    config = mutated(lambda raw: dependency(raw, 0).update(api_name="chat"))
    with pytest.raises(ChatRequestError) as missing:
        derive_contract(config, "/model_chat")
    with pytest.raises(ContractMismatchError) as drifted:
        require_contract(config, QWEN_CONTRACT)
    assert "/chat" in str(missing.value)
    assert "endpoint missing" in str(drifted.value)
    for error in (missing.value, drifted.value):
        assert "qwen-space" not in str(error)


def test_fn_index_is_position_before_ids_existed() -> None:
    def drop_ids(raw: dict[str, Any]) -> None:
        for dep in raw["dependencies"]:
            del dep["id"]

    assert [d.fn_index for d in mutated(drop_ids).dependencies] == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b"not json",
        {"protocol": 3},
        {"protocol": "sse_v3", "api_prefix": "gradio_api"},
        {"protocol": "sse_v3", "dependencies": {}},
        {"protocol": "sse_v3", "components": [{"id": "x", "type": "textbox"}]},
        {"protocol": "sse_v3", "dependencies": [{"id": 0, "targets": [[1]]}]},
        {"protocol": "sse_v3", "dependencies": [{"id": 0, "inputs": ["a"]}]},
    ],
)
def test_malformed_configs(raw: Any) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_config(raw)


def test_dangling_component_reference_is_no_chat_and_a_type_drift() -> None:
    config = parse_config({"protocol": "sse_v3", "dependencies": [{"id": 0, "api_name": "f", "inputs": [99]}]})
    with pytest.raises(ContractMismatchError, match="missing component 99"):
        derive_contract(config, "/f")
    expected = replace(QWEN_CONTRACT, api_name="/f", api_prefix="", trigger_id=None, input_types=("textbox",))
    drifts = {d.kind: d for d in check_contract(config, replace(expected, output_types=()))}
    assert drifts[DriftKind.INPUT_TYPES].actual == "[missing]"
    assert drifts[DriftKind.INPUT_TYPES].breaking


def test_contract_pins_the_real_space() -> None:
    assert QWEN_CONTRACT.api_name == "/model_chat"
    assert (QWEN_CONTRACT.fn_index, QWEN_CONTRACT.trigger_id) == (0, 11)
