"""What the operator of ``serve`` gives, checked before it listens: the API key, the
Spaces by alias, and each Space's chat event and input values (``--endpoint``,
``--option``), the last two against the Space's own contract."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ....protocol import ChatContract, build_call
from ....protocol._chat_request import coerce_option, find_option
from ....protocol.errors import ChatRequestError, ContractMismatchError
from ...core.client import SpaceClient
from ...errors import UsageError

__all__ = ["Presets", "check_api_key", "check_spaces", "parse_endpoints", "parse_options", "resolve_presets"]

#: Input values by label, for each served Space (``None``: the one Space of ``--url``).
Presets = dict[str | None, dict[str, object]]

_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def check_api_key(key: str) -> str:
    """``key`` if a client can send it as ``Authorization: Bearer <key>``; else
    :class:`UsageError` (an empty key would otherwise read as "no key at all")."""
    if not key.strip():
        raise UsageError(
            "the API key is empty: give a key, or leave out --api-key (and $QWEN_SPACE_API_KEY) to need none"
        )
    if key != key.strip() or any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise UsageError(
            "the API key starts or ends with a space or holds a control character, which an Authorization "
            "header cannot carry: give the key without them"
        )
    return key


def check_spaces(spaces: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``(alias, Space id or URL)`` pairs as a mapping; :class:`UsageError` for an alias
    that cannot be a model id (letters, digits, ``.``, ``_``, ``-``; no ``/``, which
    separates a dropdown choice), one given twice, or an empty Space."""
    checked: dict[str, str] = {}
    for alias, target in spaces:
        if not _ALIAS.fullmatch(alias):
            raise UsageError(
                f"{alias!r} cannot be a model alias: use letters, digits, '.', '_' and '-' (no '/'), "
                "like --space qwen3=Qwen/Qwen3-Demo"
            )
        if alias in checked:
            raise UsageError(f"the alias {alias!r} is given twice: give each Space its own alias")
        if not target.strip():
            raise UsageError(f"no Space given for the alias {alias!r}: write ALIAS=OWNER/NAME or ALIAS=URL")
        checked[alias] = target
    if not checked:
        raise UsageError("no Space to serve: give at least one ALIAS=OWNER/NAME")
    return checked


def _alias_of(flag: str, text: str, aliases: Sequence[str], separator: str, form: str) -> tuple[str | None, str]:
    """The alias a flag's ``text`` names and the rest; ``None`` for ``--url``'s one Space."""
    if not aliases:
        return None, text
    alias, found, rest = text.partition(separator)
    if not found or not rest.strip():
        raise UsageError(f"{flag} {text!r} is not {form}")
    if alias.strip() not in aliases:
        raise UsageError(f"{flag} {text!r} names {alias.strip()!r}, which is not one of the --space aliases")
    return alias.strip(), rest


def parse_endpoints(flags: Sequence[str], aliases: Sequence[str] = ()) -> dict[str | None, str | int]:
    """``--endpoint`` values: ``ALIAS=NAME`` with ``--space``, else ``NAME``; a NAME of
    digits is a ``fn_index``."""
    endpoints: dict[str | None, str | int] = {}
    for text in flags:
        alias, name = _alias_of("--endpoint", text, aliases, "=", "ALIAS=NAME, like qwen=/chat")
        name = name.strip()
        if not name.strip("/"):
            raise UsageError(f"--endpoint {text!r} names no endpoint: give an api_name like /chat, or a fn_index")
        if alias in endpoints:
            raise UsageError(f"--endpoint {text!r}: {'the Space' if alias is None else alias} has one already")
        endpoints[alias] = int(name) if name.isdigit() else name
    return endpoints


def parse_options(flags: Sequence[str], aliases: Sequence[str] = ()) -> dict[str | None, list[tuple[str, str]]]:
    """``--option`` values: ``ALIAS:LABEL=VALUE`` with ``--space``, else ``LABEL=VALUE``."""
    options: dict[str | None, list[tuple[str, str]]] = {}
    form = "ALIAS:LABEL=VALUE, like qwen:Temperature=0.2" if aliases else "LABEL=VALUE, like Temperature=0.2"
    for text in flags:
        alias, setting = _alias_of("--option", text, aliases, ":", form)
        label, equals, value = setting.partition("=")
        if not equals or not label.strip():
            raise UsageError(f"--option {text!r} is not {form}")
        options.setdefault(alias, []).append((label.strip(), value))
    return options


async def resolve_presets(
    targets: Mapping[str | None, str | None],
    endpoints: Mapping[str | None, str | int],
    options: Mapping[str | None, Sequence[tuple[str, str]]],
    **client_options: Any,
) -> Presets:
    """Check each Space's ``--endpoint`` and ``--option`` against its contract (read
    from its ``/config`` now) and type the values as its inputs take them.
    :class:`UsageError` naming the flag for one the Space cannot take."""
    presets: Presets = {}
    for alias in {*endpoints, *options}:
        endpoint = endpoints.get(alias)
        async with SpaceClient(targets[alias], **{**client_options, "endpoint": endpoint}) as client:
            try:
                contract = await client.contract()
            except (ContractMismatchError, ChatRequestError) as error:
                if endpoint is None:
                    raise
                flag = f"--endpoint {endpoint}" if alias is None else f"--endpoint {alias}={endpoint}"
                raise UsageError(f"{flag}: {error.message}") from None
        presets[alias] = _typed(contract, alias, options.get(alias, ()))
    return presets


def _typed(contract: ChatContract, alias: str | None, given: Sequence[tuple[str, str]]) -> dict[str, object]:
    typed: dict[str, object] = {}
    for label, text in given:
        flag = f"--option {label}={text}" if alias is None else f"--option {alias}:{label}={text}"
        try:
            slot = find_option(contract, label)
            assert slot.label is not None  # found by its label
            typed[slot.label] = coerce_option(slot, text)
            build_call(contract, "hi", options={slot.label: typed[slot.label]})  # its range and choices
        except ChatRequestError as error:
            raise UsageError(f"{flag}: {error.message}") from None
    return typed
