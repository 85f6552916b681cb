"""``qwen-space contract check``: how a Space differs from the pinned Qwen2.5-Max
contract (drift), or, for another chat app, the contract qwen-space derives for it."""

from __future__ import annotations

import argparse

from ....protocol import ChatContract, check_contract, derive_contract
from ....protocol._chat_contract import AppKind
from ....protocol.errors import ContractMismatchError
from ...core.qwen import QWEN_CONTRACT
from ._arguments import auth_option, connection_options, endpoint_option
from ._space import client
from ._terminal import EXIT_DRIFT, one_line

__all__ = ["add_parser", "describe", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    contract = commands.add_parser("contract", help="compare a Space with the pinned Qwen2.5-Max contract")
    contract_commands = contract.add_subparsers(dest="contract_command", required=True)
    check = contract_commands.add_parser(
        "check", help="report drift; exit 11 if the client cannot handle it (any drift with --strict)"
    )
    connection_options(check)
    auth_option(check)
    endpoint_option(check)
    check.add_argument("--strict", action="store_true", help="exit 11 on any drift, even one the client handles")
    check.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    async with client(args) as space:
        config = await space.fetch_config()
    # The version and every drift line quote the Space's /config: printed, never obeyed.
    gradio = one_line(config.version or "unknown")
    url = one_line(space.url)
    try:
        derived: ChatContract | None = derive_contract(config, args.endpoint)
    except ContractMismatchError:
        if args.endpoint is not None:
            raise
        derived = None  # as before: reported as drift from the Qwen contract
    if derived is not None and not _is_qwen_layout(derived):
        print(f"{url}: a {derived.kind.value} qwen-space can talk to (Gradio {gradio}):")
        for line in describe(derived):
            print(f"  {line}")
        return 0
    drifts = check_contract(config, QWEN_CONTRACT)
    if not drifts:
        print(f"{url}: matches the Qwen2.5-Max contract (Gradio {gradio})")
        return 0
    print(f"{url}: {len(drifts)} difference(s) from the Qwen2.5-Max contract (Gradio {gradio}):")
    for drift in drifts:
        print(f"  - {one_line(str(drift))}" if drift.breaking else f"  - note: {one_line(str(drift))}")
    if any(d.breaking for d in drifts):
        print("The client cannot talk to this Space until it is updated; re-record cassettes after that.")
        return EXIT_DRIFT
    print("The client handles every difference (--strict makes them fail).")
    return EXIT_DRIFT if args.strict else 0


def describe(contract: ChatContract) -> list[str]:
    """The contract's own description (bounded by the protocol), each line printable."""
    return [one_line(line) for line in contract.describe()]


def _is_qwen_layout(contract: ChatContract) -> bool:
    """The Qwen demo's layout (``[query, chatbot, system] -> [textbox, chatbot, system]``),
    whatever its event is called: drift there is reported against the Qwen contract."""
    return (
        contract.kind is AppKind.BLOCKS
        and contract.input_types == QWEN_CONTRACT.input_types
        and contract.output_types == QWEN_CONTRACT.output_types
    )
