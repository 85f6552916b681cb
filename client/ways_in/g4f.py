"""gpt4free providers: ``Qwen_Qwen_2_5_Max``, and :func:`provider_for` any chat Space
(``pip install "qwen-space[g4f]"``).

The class subclasses gpt4free's ``AsyncGeneratorProvider`` and ``ProviderModelMixin``
with the original's attributes and runs on :class:`~qwen_space.client.SpaceClient`, so
gpt4free's own entry points take it like one of theirs::

    from g4f.client import AsyncClient
    from qwen_space.client.g4f import Qwen_Qwen_2_5_Max

    client = AsyncClient(provider=Qwen_Qwen_2_5_Max)
    reply = await client.chat.completions.create(model="qwen-2.5-max", messages=[...])

The Space's failures raise the package's typed errors through gpt4free (never an
empty answer). ``import qwen_space.client`` does not import this module or gpt4free.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
from collections.abc import AsyncGenerator, Callable, Coroutine, Mapping
from typing import Any, ClassVar

from ...protocol import ChatContract, QwenSpaceError
from ...protocol._chat_contract import OptionKind
from ..core.client import SpaceClient
from ..core.timeouts import Timeouts
from ..errors import InvalidMessagesError, UsageError
from ..extras import missing_extra
from ..hub.space import check_space_id, space_url
from . import original as _provider
from .routing import (
    dropdown_choice,
    file_markdown,
    is_image,
    model_dropdown,
    reply_pieces,
    sampling_options,
    with_media,
)

try:
    from g4f.errors import ModelNotFoundError
    from g4f.providers.base_provider import AsyncGeneratorProvider, ProviderModelMixin
    from g4f.providers.response import ImageResponse, Reasoning
except ImportError as exc:  # the message is for installs without the extra
    raise missing_extra("g4f", "g4f>=7.4.7", "the gpt4free provider") from exc

__all__ = ["Qwen_Qwen_2_5_Max", "SpaceProvider", "UnknownModelError", "provider_for", "register"]

#: Seconds ``get_models()`` waits for the Space's ``/config`` (for its dropdown's choices).
MODELS_WAIT = 10.0


class UnknownModelError(InvalidMessagesError, ModelNotFoundError):  # type: ignore[misc]
    """A model name this provider does not serve: gpt4free's error and ours, so gpt4free's
    API answers 404 and ``except QwenSpaceError`` still catches it."""


class Qwen_Qwen_2_5_Max(_provider.Qwen_Qwen_2_5_Max, AsyncGeneratorProvider, ProviderModelMixin):  # type: ignore[misc]
    """Qwen2.5-Max through the Hugging Face Space, as a gpt4free provider.

    Set ``url`` on the class (or override it in a subclass) to use a mirror.
    """

    @classmethod
    def get_model(cls, model: str, **kwargs: Any) -> str:
        try:
            return super().get_model(model)
        except InvalidMessagesError as error:
            raise UnknownModelError(error.message) from None

    @classmethod
    def create_async_generator(
        cls, model: str, messages: _provider.Messages, proxy: str | None = None, **kwargs: Any
    ) -> _provider.AsyncResult:
        return super().create_async_generator(model, messages, proxy, **kwargs)


def register() -> None:
    """Make gpt4free's lookups by name (``provider="Qwen_Qwen_2_5_Max"``, the ``provider``
    field of its OpenAI-compatible API) find this provider rather than gpt4free's own."""
    from g4f import Provider

    name = Qwen_Qwen_2_5_Max.__name__
    Provider.ProviderUtils.convert[name] = Qwen_Qwen_2_5_Max  # gpt4free 7's registry
    loader = getattr(Provider, "ProviderLoader", None)  # gpt4free 8 resolves names through it
    if loader is not None:
        loader.loaded[name] = loader.loaded[name.lower().replace("_", "")] = Qwen_Qwen_2_5_Max


class SpaceProvider(AsyncGeneratorProvider, ProviderModelMixin):  # type: ignore[misc]
    """A gpt4free provider for one chat Space: made by :func:`provider_for`."""

    #: The Space: an id (``OWNER/NAME``) or a URL.
    space: ClassVar[str]
    endpoint: ClassVar[str | int | None] = None
    options: ClassVar[Mapping[str, object]] = {}
    working = True
    supports_stream = True
    supports_system_message = True
    supports_message_history = True
    #: Set once the Space's model dropdown choices are known (``models`` then holds them).
    choices_known: ClassVar[bool] = False

    @classmethod
    def get_models(cls, **kwargs: Any) -> list[str]:
        """The default model and, once the Space's ``/config`` has been read (here, for up
        to :data:`MODELS_WAIT` seconds, or by an earlier chat), its dropdown's choices."""
        if not cls.choices_known:
            _blocking(cls._learn_choices)
        return list(cls.models)

    @classmethod
    async def _learn_choices(cls) -> None:
        try:
            async with cls._client() as client:
                async with asyncio.timeout(MODELS_WAIT):
                    await cls._contract(client)
        except (QwenSpaceError, TimeoutError):
            pass  # not known yet: the default model alone, and asked again next time

    @classmethod
    async def _contract(cls, client: SpaceClient) -> ChatContract:
        """The Space's contract, its dropdown's choices learnt as models on the way."""
        contract = await client.contract()
        slot = model_dropdown(contract)
        cls.models = [cls.default_model, *(str(choice) for choice in (slot.choices or () if slot else ()))]
        cls.choices_known = True
        return contract

    @classmethod
    def _client(
        cls, proxy: str | None = None, hf_token: str | None = None, timeouts: Timeouts | None = None
    ) -> SpaceClient:
        return SpaceClient(
            cls.space, endpoint=cls.endpoint, options=cls.options, proxy=proxy, hf_token=hf_token, timeouts=timeouts
        )

    @classmethod
    async def create_async_generator(
        cls,
        model: str,
        messages: list[dict[str, Any]],
        proxy: str | None = None,
        *,
        hf_token: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        **kwargs: Any,
    ) -> AsyncGenerator[str | Reasoning, None]:
        """Stream the answer as text and the Space's thoughts as gpt4free's ``Reasoning``.

        ``model`` is the default model or a choice of the Space's model dropdown;
        ``temperature``, ``top_p`` and ``max_tokens`` go to the inputs whose labels say
        so (ignored where the Space has none); ``hf_token`` (or ``api_key``) reaches
        private Spaces; ``timeout`` bounds the whole answer. Images are refused.
        """
        messages = with_media(cls.__name__, messages, kwargs)  # type: ignore[assignment]
        timeouts = Timeouts(total=timeout) if timeout is not None else None
        async with cls._client(proxy, hf_token or api_key, timeouts) as client:
            options: dict[str, object] = {}
            if model and model != cls.default_model:
                found = dropdown_choice(await cls._contract(client), model)
                if found is None or found[0].label is None:
                    known = ", ".join(cls.models)
                    raise UnknownModelError(f"unknown model {model!r} for {cls.__name__}; known models: {known}")
                options[found[0].label] = found[1]
            sampling = {OptionKind.TEMPERATURE: temperature, OptionKind.TOP_P: top_p, OptionKind.MAX_TOKENS: max_tokens}
            if any(value is not None for value in sampling.values()):
                options.update(sampling_options(await client.contract(), sampling))
            async with contextlib.aclosing(reply_pieces(client, messages, options)) as pieces:
                async for piece in pieces:
                    if not isinstance(piece, tuple):
                        # gpt4free's image providers answer with ImageResponse; another
                        # file is a Markdown link, as gpt4free renders its media.
                        yield ImageResponse(piece.url, piece.name) if is_image(piece) else file_markdown(piece, True)
                    else:
                        yield Reasoning(token=piece[1]) if piece[0] else piece[1]


def provider_for(
    space: str,
    *,
    name: str | None = None,
    endpoint: str | int | None = None,
    options: Mapping[str, object] | None = None,
) -> type[SpaceProvider]:
    """A gpt4free provider class for the chat Space ``space`` (an id ``OWNER/NAME`` or a URL).

    Its default model is ``space`` as given (the Space with its own settings); a Space
    with a model dropdown also serves each choice as a model (``get_models()`` reads
    them from ``/config``). ``name`` is the class's name (default: from ``space``);
    ``endpoint`` and ``options`` go to its :class:`SpaceClient`. Nothing is sent
    until it is used. Raises :class:`UsageError` for a malformed id or URL.
    """
    if "://" in space:
        SpaceClient(space)  # checks the URL; sends nothing
    else:
        check_space_id(space)
    class_name = name or re.sub(r"\W+", "_", re.sub(r"^\w+://", "", space)).strip("_")
    if name is None and not class_name.isidentifier():
        class_name = f"Space_{class_name}"  # a host like 127.0.0.1 starts with a digit
    if not class_name.isidentifier():
        raise UsageError(f"{class_name!r} cannot be a provider's name: give name= as a Python identifier")
    attributes: dict[str, Any] = {
        "space": space,
        "endpoint": endpoint,
        "options": dict(options or {}),
        "label": space,
        "url": f"https://huggingface.co/spaces/{space}" if "://" not in space else space_url(space),
        "default_model": space,
        "models": [space],
        "model_aliases": {},
        "choices_known": False,
        "__module__": __name__,
        "__doc__": f"The chat Space {space} as a gpt4free provider (made by provider_for).",
    }
    return type(class_name, (SpaceProvider,), attributes)


def _blocking(work: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """Run the coroutine function ``work`` to its end on a private loop in a thread of
    its own: gpt4free's ``get_models`` is synchronous and may be called from a running loop."""
    thread = threading.Thread(target=lambda: asyncio.run(work()), daemon=True)
    thread.start()
    thread.join()
