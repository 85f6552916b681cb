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

from ._chat_contract import ChatContract
from ._chatbot import ChatbotFormat
from ._config import SpaceConfig
from ._derive import derive_contract
from .errors import ContractMismatchError

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
    wanted = contract.api_name if contract.api_name.startswith("/") else f"/{contract.api_name}"
    if wanted not in config.endpoint_names():
        drift(DriftKind.ENDPOINT_MISSING, contract.api_name, config.endpoint_names(), breaking=True)
        return drifts
    actual = _actual(config, wanted)
    if actual.fn_index != contract.fn_index:
        drift(DriftKind.FN_INDEX, contract.fn_index, actual.fn_index, breaking=False)
    if actual.trigger_id != contract.trigger_id:
        drift(DriftKind.TRIGGER_ID, contract.trigger_id, actual.trigger_id, breaking=False)
    if actual.input_types != contract.input_types:
        drift(DriftKind.INPUT_TYPES, contract.input_types, actual.input_types, breaking=True)
    if actual.output_types != contract.output_types:
        drift(DriftKind.OUTPUT_TYPES, contract.output_types, actual.output_types, breaking=True)
    elif actual.chatbot_format is not contract.chatbot_format:
        found = actual.chatbot_format and actual.chatbot_format.value
        drift(DriftKind.CHATBOT_FORMAT, contract.chatbot_format.value, found, breaking=False)
    return drifts


@dataclass(frozen=True, slots=True)
class _Found:
    fn_index: int
    trigger_id: int | None
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    #: ``None``: the event is no chat the client can hold.
    chatbot_format: ChatbotFormat | None


def _actual(config: SpaceConfig, api_name: str) -> _Found:
    """What the Space has at ``api_name``: the chat contract the client derives there, seen
    as a :class:`SpaceContract`; for an event that is no chat, its own types."""
    try:
        chat = derive_contract(config, api_name)
    except ContractMismatchError:
        chat = None
    if chat is not None and chat.api_name == api_name:
        return _Found(chat.fn_index, chat.trigger_id, chat.input_types, chat.output_types, chat.reply_format)
    event = next(d for d in config.dependencies if d.api_name is not None and f"/{d.api_name}" == api_name)

    def types(ids: tuple[int, ...]) -> tuple[str, ...]:
        return tuple(config.components[i].type if i in config.components else "missing" for i in ids)

    found_format = chat.reply_format if chat is not None else None
    return _Found(event.fn_index, event.trigger_id, types(event.inputs), types(event.outputs), found_format)


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
