"""``Qwen_Qwen_2_5_Max`` as a real gpt4free provider: ``pip install "qwen-space[g4f]"``.

The class subclasses gpt4free's ``AsyncGeneratorProvider`` and ``ProviderModelMixin``
with the seed's attributes and runs on :class:`~qwen_space.client.SpaceClient`, so
gpt4free's own entry points take it like one of theirs::

    from g4f.client import AsyncClient
    from qwen_space.client.g4f import Qwen_Qwen_2_5_Max

    client = AsyncClient(provider=Qwen_Qwen_2_5_Max)
    reply = await client.chat.completions.create(model="qwen-2.5-max", messages=[...])

The Space's failures raise the package's typed errors through gpt4free (never an
empty answer). ``import qwen_space.client`` does not import this module or gpt4free.
"""

from __future__ import annotations

from typing import Any

from g4f.errors import ModelNotFoundError
from g4f.providers.base_provider import AsyncGeneratorProvider, ProviderModelMixin

from ..core.errors import InvalidMessagesError
from . import seed as _provider

__all__ = ["Qwen_Qwen_2_5_Max", "UnknownModelError", "register"]


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


def register() -> None:
    """Make gpt4free's lookups by name (``provider="Qwen_Qwen_2_5_Max"``, the ``provider``
    field of its OpenAI-compatible API) find this provider rather than gpt4free's own."""
    from g4f import Provider

    name = Qwen_Qwen_2_5_Max.__name__
    Provider.ProviderUtils.convert[name] = Qwen_Qwen_2_5_Max  # gpt4free 7's registry
    loader = getattr(Provider, "ProviderLoader", None)  # gpt4free 8 resolves names through it
    if loader is not None:
        loader.loaded[name] = loader.loaded[name.lower().replace("_", "")] = Qwen_Qwen_2_5_Max
