"""A Space's contract (what a client was written against) and a precise report of
how a config drifts from it.

Some drifts a client absorbs, because it reads them from ``/config`` on every run:
the prefix, the fn index, the trigger id, the chatbot format and a supported older
protocol. Those are reported with ``breaking=False``. A missing endpoint or changed
input/output types mean the client can no longer build a correct request or read
the reply: ``breaking=True``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from ._chat_contract import ChatContract, derive_contract
from ._chatbot import ChatbotFormat
from ._config import SpaceConfig
from ._errors import ChatRequestError, ContractMismatchError

__all__ = ["Drift", "DriftKind", "SpaceContract", "check_contract", "require_contract", "space_contract_of"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SpaceContract:
    """The interface a client expects of a Space's chat endpoint."""

    api_name: str
    api_prefix: str
    protocol: str
    fn_index: int
    trigger_id: int | None
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    chatbot_format: ChatbotFormat


class DriftKind(enum.Enum):
    PROTOCOL = "protocol"
    PREFIX = "prefix"
    ENDPOINT_MISSING = "endpoint missing"
    FN_INDEX = "fn_index"
    TRIGGER_ID = "trigger id"
    INPUT_TYPES = "input types"
    OUTPUT_TYPES = "output types"
    CHATBOT_FORMAT = "chatbot format"


@dataclass(frozen=True, slots=True, kw_only=True)
class Drift:
    kind: DriftKind
    expected: str
    actual: str
    #: Whether the client can no longer talk to the Space correctly.
    breaking: bool

    def __str__(self) -> str:
        effect = "breaking" if self.breaking else "handled by the client"
        return f"{self.kind.value}: expected {self.expected}, found {self.actual} ({effect})"


def check_contract(config: SpaceConfig, contract: SpaceContract) -> list[Drift]:
    """Every difference between ``config`` and ``contract``; empty when they agree."""
    drifts: list[Drift] = []

    def drift(kind: DriftKind, expected: object, actual: object, *, breaking: bool) -> None:
        drifts.append(Drift(kind=kind, expected=_show(expected), actual=_show(actual), breaking=breaking))

    if config.protocol != contract.protocol:
        drift(DriftKind.PROTOCOL, contract.protocol, config.protocol, breaking=False)
    if config.api_prefix != contract.api_prefix:
        drift(DriftKind.PREFIX, contract.api_prefix, config.api_prefix, breaking=False)
    try:
        endpoint = config.endpoint(contract.api_name)
    except ChatRequestError:
        drift(DriftKind.ENDPOINT_MISSING, contract.api_name, config.endpoint_names(), breaking=True)
        return drifts
    if endpoint.fn_index != contract.fn_index:
        drift(DriftKind.FN_INDEX, contract.fn_index, endpoint.fn_index, breaking=False)
    if endpoint.trigger_id != contract.trigger_id:
        drift(DriftKind.TRIGGER_ID, contract.trigger_id, endpoint.trigger_id, breaking=False)
    input_types = tuple(c.type for c in endpoint.inputs)
    output_types = tuple(c.type for c in endpoint.outputs)
    if input_types != contract.input_types:
        drift(DriftKind.INPUT_TYPES, contract.input_types, input_types, breaking=True)
    if output_types != contract.output_types:
        drift(DriftKind.OUTPUT_TYPES, contract.output_types, output_types, breaking=True)
    else:
        actual = _reply_format(config, contract.api_name)
        if actual is not contract.chatbot_format:
            drift(DriftKind.CHATBOT_FORMAT, contract.chatbot_format.value, actual and actual.value, breaking=False)
    return drifts


def _reply_format(config: SpaceConfig, api_name: str) -> ChatbotFormat | None:
    """How the chat at ``api_name`` lays out its reply, as the client reads it
    (``None``: the event is no chat the client can hold)."""
    try:
        return derive_contract(config, api_name).reply_format
    except ContractMismatchError:
        return None


def require_contract(config: SpaceConfig, contract: SpaceContract) -> list[Drift]:
    """Return the non-breaking drifts, or raise :class:`ContractMismatchError` on a breaking one."""
    drifts = check_contract(config, contract)
    breaking = [d for d in drifts if d.breaking]
    if breaking:
        raise ContractMismatchError(
            "the Space no longer matches the contract the client was written for: "
            + "; ".join(str(d) for d in breaking)
            + ". The client cannot build a correct request or read the reply "
            "until its contract follows the Space's API.",
            drifts=tuple(breaking),
        )
    return drifts


def space_contract_of(contract: ChatContract, config: SpaceConfig) -> SpaceContract | None:
    """The contract as :class:`SpaceContract`, for :func:`check_contract` drift reports
    (``None`` for an unnamed event: drift is checked by name)."""
    if contract.api_name is None:
        return None
    return SpaceContract(
        api_name=contract.api_name,
        api_prefix=config.api_prefix,
        protocol=config.protocol,
        fn_index=contract.fn_index,
        trigger_id=contract.trigger_id,
        input_types=contract.input_types,
        output_types=contract.output_types,
        chatbot_format=contract.reply_format,
    )


def _show(value: object) -> str:
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if value == "":
        return "'' (no prefix)"
    return str(value)
