"""The Spaces ``serve`` answers for, and which one a model id names: each Space's model
ids (an alias, the Space's id or host, or the Qwen Space's names), its model dropdown's
choices, the inputs OpenAI's sampling parameters go to, and a fresh read of its
``/config`` when the one in use has gone stale."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable

from yarl import URL

from ....protocol import ChatContract, QwenSpaceError
from ....protocol._chat_contract import ChatInput
from ....protocol.errors import AuthenticationError, ContractMismatchError, RequestRejectedError, ServerError
from ...core.client import DEFAULT_SPACE_ID, DEFAULT_URL, SpaceClient, default_url
from ..original import Qwen_Qwen_2_5_Max
from ..routing import dropdown_choice, model_dropdown, sampling_value
from .wire import Asked, Refusal

__all__ = [
    "MODEL_IDS",
    "Route",
    "ServedSpace",
    "known_models",
    "learn_dropdowns",
    "may_be_stale",
    "route",
    "served_name",
]

#: The model ids the Qwen Space is served under (the original provider's).
MODEL_IDS: tuple[str, ...] = (Qwen_Qwen_2_5_Max.default_model, *Qwen_Qwen_2_5_Max.models)

logger = logging.getLogger("qwen_space.serve")

# Seconds GET /v1/models waits for a Space's /config (for its dropdown's choices).
_MODELS_WAIT = 10.0

# Seconds between two fresh reads of a Space's /config: a request the Space refuses for
# its own reasons (a 422 for a value) must not make every request read it again.
_REREAD_EVERY = 10.0


def served_name(url: str | None) -> str | None:
    """The model id of the one Space of ``url``: its id (``OWNER/NAME``), else its URL's
    host; ``None`` for the Qwen Space (or the mirror set as ``$QWEN_SPACE_URL``), served
    under :data:`MODEL_IDS`."""
    if url is None or url in (DEFAULT_SPACE_ID, DEFAULT_URL, default_url()):
        return None
    if "://" not in url:
        return url
    return URL(url).host or url


class ServedSpace:
    """One Space this server answers for: its client, its model ids, its contract."""

    __slots__ = ("_make", "_reread_at", "_retired", "_users", "alias", "client", "contract", "name", "target")

    def __init__(self, alias: str | None, target: str | None, make: Callable[[str | None], SpaceClient]) -> None:
        #: ``None`` for the one Space of ``url``.
        self.alias = alias
        self.target = target
        #: The model id it answers to; ``None``: the Qwen Space's :data:`MODEL_IDS`.
        self.name = alias if alias is not None else served_name(target)
        self._make = make
        self.client = make(target)
        #: Clients replaced by a fresh read of /config, until their last chat ends.
        self._retired: list[SpaceClient] = []
        self._users: dict[SpaceClient, int] = {}
        self._reread_at = float("-inf")
        self.contract: ChatContract | None = None

    @property
    def ids(self) -> tuple[str, ...]:
        return MODEL_IDS if self.name is None else (self.name,)

    @property
    def owner(self) -> str:
        return self.alias or ("qwen" if self.name is None else "space")

    async def chat_contract(self) -> ChatContract:
        if self.contract is None:
            self.contract = await self.client.contract()
        return self.contract

    def choice_id(self, choice: object) -> str:
        """The model id of a dropdown choice: ``ALIAS/CHOICE``, or the choice itself for
        the one Space of ``url``."""
        return f"{self.alias}/{choice}" if self.alias is not None else str(choice)

    def choice_ids(self) -> list[str]:
        """The model ids of the dropdown's choices, once the contract is known (the
        Qwen Space's names have none)."""
        slot = model_dropdown(self.contract) if self.contract is not None and self.name is not None else None
        return [self.choice_id(choice) for choice in slot.choices or ()] if slot is not None else []

    def choice_for(self, model: str) -> str | None:
        """The dropdown choice ``model`` would name on this Space, if it names one here."""
        if self.name is None:
            return None
        if self.alias is None:
            return model
        alias, _, wanted = model.partition("/")
        return wanted if alias == self.alias and wanted else None

    @contextlib.asynccontextmanager
    async def using(self) -> AsyncIterator[SpaceClient]:
        """The client for one chat; one replaced meanwhile is closed after its last chat."""
        client = self.client
        self._users[client] = self._users.get(client, 0) + 1
        try:
            yield client
        finally:
            self._users[client] -= 1
            if not self._users[client]:
                del self._users[client]
                if client in self._retired:
                    self._retired.remove(client)
                    await client.aclose()

    async def reread(self, failed: SpaceClient) -> bool:
        """Use a fresh client, which reads ``/config`` again, in place of ``failed``;
        ``False`` if it was read again moments ago (the failure is then not a stale
        reading). The old client keeps the chats it runs until they end."""
        if failed is not self.client:
            return True  # another request has read it again already
        now = time.monotonic()
        if now - self._reread_at < _REREAD_EVERY:
            return False
        self._reread_at = now
        self.client, self.contract = self._make(self.target), None
        if self._users.get(failed):
            self._retired.append(failed)
        else:
            await failed.aclose()
        return True

    async def close(self) -> None:
        """Close its clients, cancelling the chats still running."""
        clients, self._retired = (*self._retired, self.client), []
        await asyncio.gather(*(client.aclose() for client in clients))


def may_be_stale(error: QwenSpaceError) -> bool:
    """Whether ``error`` is what a Space answers to a request built from a ``/config``
    it has since changed (a restart with another app): its chat event gone, a refused
    join, or the crash a stale ``fn_index`` causes (docs/chat-spaces.md)."""
    if isinstance(error, AuthenticationError):
        return False
    return isinstance(error, (ContractMismatchError, RequestRejectedError, ServerError))


class Route:
    """The Space a request goes to and the inputs its parameters set (label: (param, value))."""

    __slots__ = ("options", "params", "space")

    def __init__(self, space: ServedSpace) -> None:
        self.space = space
        self.options: dict[str, object] = {}
        #: Which OpenAI parameter set each label, to name it in a refusal.
        self.params: dict[str, str] = {}

    def set(self, slot: ChatInput, param: str, value: object) -> None:
        assert slot.label is not None  # options are labelled inputs
        self.options[slot.label] = value
        self.params[slot.label] = param


async def route(spaces: tuple[ServedSpace, ...], asked: Asked) -> Route:
    """The Space ``asked.model`` names (and its dropdown's choice), with OpenAI's
    sampling parameters mapped to the inputs whose labels say so (docs/ways-in.md).
    Raises :class:`Refusal` for an unknown model, the package error for a Space that
    cannot say its contract."""
    model = asked.model
    space = next((space for space in spaces if model in space.ids), None)
    choice: tuple[ChatInput, object] | None = None
    if space is None:
        space = next((space for space in spaces if space.choice_for(model) is not None), None)
        wanted = space.choice_for(model) if space is not None else None
        if space is None or wanted is None:
            raise unknown_model(model, spaces)
        choice = dropdown_choice(await space.chat_contract(), wanted)
        if choice is None:
            raise unknown_model(model, spaces)
    found = Route(space)
    if choice is not None:
        found.set(choice[0], "model", choice[1])
    if asked.sampling:
        contract = await space.chat_contract()
        for kind, (param, value) in asked.sampling.items():
            slot = contract.option_for(kind)
            if slot is not None:
                found.set(slot, param, sampling_value(slot, value))
    return found


def known_models(spaces: Iterable[ServedSpace]) -> list[tuple[str, ServedSpace]]:
    return [(model, space) for space in spaces for model in (*space.ids, *space.choice_ids())]


def unknown_model(model: str, spaces: Iterable[ServedSpace]) -> Refusal:
    spaces = tuple(spaces)
    known = [known for known, _ in known_models(spaces)]
    hint = ""
    if any(space.name is not None and space.contract is None for space in spaces):
        hint = " (GET /v1/models also lists the choices of each Space's model dropdown)"
    return Refusal(
        404,
        f"The model {model!r} does not exist here; this server serves " + ", ".join(known) + hint,
        "invalid_request_error",
        "model_not_found",
        param="model",
    )


async def learn_dropdowns(spaces: Iterable[ServedSpace]) -> None:
    """Read the contracts not yet known, for their dropdown choices; a Space that
    cannot say within :data:`_MODELS_WAIT` seconds (asleep, down) is listed by its
    name alone, and its choices are asked again next time."""

    async def learn(space: ServedSpace) -> None:
        try:
            async with asyncio.timeout(_MODELS_WAIT):
                await space.chat_contract()
        except (QwenSpaceError, TimeoutError) as error:
            logger.info("%s: its model choices are not known yet (%s)", space.name, error or "no answer in time")

    await asyncio.gather(*(learn(space) for space in spaces if space.name is not None and space.contract is None))
