"""``qwen-space info``: a Space's stage on the Hub, Gradio version, endpoints and the
chat contract derived from its ``/config``. Everything printed is the Space's or the
Hub's text: printed, never obeyed (``one_line``)."""

from __future__ import annotations

import argparse

from ....protocol import ChatContract, derive_contract
from ....protocol._chat_contract import LABEL_RULES, SYSTEM_COPY_RULE
from ....protocol.errors import ContractMismatchError
from ...core.client import SpaceClient
from ...core.qwen import QWEN_CONTRACT
from ...errors import HubError
from ...hub.space import SpaceInfo
from ._arguments import auth_option, connection_options, endpoint_option
from ._space import client
from ._terminal import one_line
from .contract import describe

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    info = commands.add_parser("info", help="describe a Space: its stage on the Hub, Gradio version, endpoints")
    info.add_argument("space", nargs="?", help="a Space id (OWNER/NAME) or URL; the same as --url")
    connection_options(info)
    auth_option(info)
    endpoint_option(info)
    info.set_defaults(run=run)


async def run(args: argparse.Namespace) -> int:
    args.url = args.space or args.url
    async with client(args) as space:
        hub = await _hub_info(space)
        if hub is not None and hub.stage not in (None, "RUNNING"):
            print(f"url:       {one_line(space.url)}")
            print(f"/config:   not read: the Space is {one_line(hub.stage)}")
            return 0
        config = await space.fetch_config()
    print(f"url:       {one_line(space.url)}")
    print(f"gradio:    {one_line(config.version or 'unknown')}")
    print(f"protocol:  {one_line(str(config.protocol))}")
    print(f"prefix:    {one_line(config.api_prefix or '(none)')}")
    print(f"endpoints: {one_line(', '.join(config.endpoint_names()) or '(none)')}")
    if args.endpoint is None and QWEN_CONTRACT.api_name in config.endpoint_names():
        try:
            qwen = derive_contract(config, QWEN_CONTRACT.api_name)
        except ContractMismatchError:
            pass
        else:
            fmt = qwen.reply_format.value
            print(f"chat:      /model_chat = fn {qwen.fn_index}, trigger {qwen.trigger_id}, chatbot format {fmt}")
    try:
        contract = derive_contract(config, args.endpoint)
    except ContractMismatchError as error:
        if args.endpoint is not None:
            raise
        print(f"contract:  none derived: {one_line(str(error))}")
        return 0
    _print_contract(contract)
    return 0


def _print_contract(contract: ChatContract) -> None:
    """The derived contract, then the label rules that gave the inputs their roles."""
    lines = describe(contract)
    print(f"contract:  {lines[0]}")
    for line in lines[1:]:
        print(f"  {line}")
    print("label rules (first match wins, case-insensitive):")
    for rule in LABEL_RULES:
        print(f"  {rule.kind.value}: {rule.says}")
    print(f"  {LABEL_RULES[0].kind.value}, also: {SYSTEM_COPY_RULE}")


async def _hub_info(space: SpaceClient) -> SpaceInfo | None:
    """Print what the Hub says about a Space given by id (nothing for a URL)."""
    try:
        hub = await space.space_info()
    except HubError as error:
        if not error.unreachable:
            raise
        print(f"hub:       not reachable ({one_line(str(error))})")
        return None
    if hub is None:
        return None
    requested = hub.requested_hardware
    requested_text = f" (requested: {one_line(requested)})" if requested and requested != hub.hardware else ""
    reason = f" ({one_line(hub.hub_message)})" if hub.hub_message else ""
    sdk = " ".join(part for part in (hub.sdk, hub.sdk_version) if part) or "unknown"
    print(f"space:     {one_line(hub.space_id)}{' (private)' if hub.private else ''}")
    print(f"stage:     {one_line(hub.stage or 'unknown')}{reason}")
    print(f"hardware:  {one_line(hub.hardware or 'none yet')}{requested_text}")
    print(f"sdk:       {one_line(sdk)}")
    return hub
