"""gpt4free's original provider, ``Qwen_Qwen_2_5_Max`` (the *original*: the class this
package replaces, shipped until gpt4free 7.4.7), rebuilt on :class:`SpaceClient`.

Its public surface is kept: the original's class attributes,
``create_async_generator(model, messages, proxy=None, **kwargs)``, ``format_prompt``
and ``generate_session_hash()`` (the protocol's ``new_session_hash``: 12 hex
characters, the shape of the original's). What changed is underneath: it streams real deltas,
sends earlier turns as the Space's own chatbot history, honours the proxy, and
raises a typed error instead of ending with an empty answer.

``create_async_generator`` returns an object that works both ways gpt4free code
uses it: ``async for chunk in Provider.create_async_generator(...)`` and the original's
usage example, ``result = await provider.create_async_generator(...)`` followed by
``async for chunk in result.response``.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Generator, Mapping, Sequence
from typing import Any, ClassVar

from ...protocol import new_session_hash as generate_session_hash
from ...protocol._chatbot import content_text
from ..core.client import DEFAULT_URL, SpaceClient, default_url
from ..core.timeouts import Timeouts
from ..errors import InvalidMessagesError, UsageError
from .routing import with_media

__all__ = ["AsyncResult", "Messages", "Qwen_Qwen_2_5_Max", "format_prompt", "generate_session_hash"]

_DEFAULT_ENDPOINT = f"{DEFAULT_URL}/gradio_api/queue/join?"
_JOIN_PATHS = ("/gradio_api/queue/join", "/queue/join")

#: gpt4free's ``Messages``: a list of ``{"role": ..., "content": ...}`` dicts.
Messages = list[dict[str, Any]]


def format_prompt(
    messages: Sequence[Mapping[str, Any]], add_special_tokens: bool = False, do_continue: bool = False
) -> str:
    """gpt4free's ``format_prompt``: the whole conversation flattened into one prompt.

    One message (without special tokens) is returned as its bare content; more become
    ``"Role: content"`` lines followed by ``"Assistant:"`` unless ``do_continue``.
    Messages with blank content are skipped; list contents are reduced to their text.
    No messages, or one without its ``role`` or ``content``, raise :class:`InvalidMessagesError`.
    """
    if not add_special_tokens and len(messages) <= 1:
        if not messages:
            raise InvalidMessagesError("there is no message to format: give at least one")
        return _to_string(_field(messages[0], "content"))
    lines = [
        f"{str(_field(message, 'role')).capitalize()}: {_to_string(message['content'])}"
        for message in messages
        if _to_string(message.get("content")).strip()
    ]
    formatted = "\n".join(lines)
    return formatted if do_continue else f"{formatted}\nAssistant:"


def _field(message: Mapping[str, Any], name: str) -> Any:
    try:
        return message[name]
    except KeyError:
        raise InvalidMessagesError(
            f"a message has no {name!r}: each is a dict like {{'role': 'user', 'content': 'Hi'}}"
        ) from None


def _to_string(content: object) -> str:
    """gpt4free's reading of a content: its text parts, or the value as a string."""
    read = content_text(content)
    if read is not None:
        return read[0]
    return "" if content is None else str(content)


class AsyncResult:
    """The reply stream: iterate it, or await it and iterate ``.response``."""

    def __init__(self, chunks: AsyncGenerator[str, None]) -> None:
        self._chunks = chunks

    @property
    def response(self) -> AsyncIterator[str]:
        return self._chunks

    def __aiter__(self) -> AsyncIterator[str]:
        return self._chunks

    async def __anext__(self) -> str:
        return await self._chunks.__anext__()

    def __await__(self) -> Generator[Any, None, AsyncResult]:
        async def itself() -> AsyncResult:
            return self

        return itself().__await__()

    async def aclose(self) -> None:
        await self._chunks.aclose()


class Qwen_Qwen_2_5_Max:
    """Qwen2.5-Max through the Hugging Face Space, as a gpt4free-style provider.

    Setting ``url`` (or only ``api_endpoint``) on the class, or overriding it in a
    subclass, points it at that mirror (see :meth:`space_url`).
    """

    label: ClassVar[str] = "Qwen Qwen-2.5-Max"
    url: ClassVar[str] = DEFAULT_URL
    api_endpoint: ClassVar[str] = _DEFAULT_ENDPOINT
    working: ClassVar[bool] = True
    supports_stream: ClassVar[bool] = True
    supports_system_message: ClassVar[bool] = True
    # True, unlike the original: earlier turns reach the Space as its chatbot history.
    supports_message_history: ClassVar[bool] = True

    default_model: ClassVar[str] = "qwen-qwen2-5-max"
    # The original's alias and gpt4free's later spelling both name the one model.
    model_aliases: ClassVar[dict[str, str]] = {"qwen-2.5-max": default_model, "qwen-2-5-max": default_model}
    models: ClassVar[list[str]] = list(model_aliases.keys())

    @classmethod
    def get_model(cls, model: str) -> str:
        """Resolve ``model`` (empty means the default); unknown names are an error."""
        if not model:
            return cls.default_model
        if model == cls.default_model:
            return model
        if model in cls.model_aliases:
            return cls.model_aliases[model]
        known = ", ".join([cls.default_model, *cls.models])
        raise InvalidMessagesError(f"unknown model {model!r} for {cls.__name__}; known models: {known}")

    @classmethod
    def space_url(cls) -> str:
        """The Space to talk to.

        A ``url`` or ``api_endpoint`` set on the class (``Provider.url = ...``) or
        overridden by a subclass wins, the most derived first (``url`` before
        ``api_endpoint`` within one class); only while both still hold the values this
        class ships with does ``$QWEN_SPACE_URL`` (or else the Qwen Space) apply.
        """
        for klass in cls.__mro__:
            attributes = vars(klass)
            shipped = klass in _SHIPPED
            url = attributes.get("url")
            if isinstance(url, str) and not (shipped and url == DEFAULT_URL):
                return url.rstrip("/")
            endpoint = attributes.get("api_endpoint")
            if isinstance(endpoint, str) and not (shipped and endpoint == _DEFAULT_ENDPOINT):
                return _endpoint_base(endpoint)
        return default_url()

    @classmethod
    def create_async_generator(
        cls,
        model: str,
        messages: Messages,
        proxy: str | None = None,
        *,
        flatten_history: bool = False,
        hf_token: str | None = None,
        api_key: str | None = None,
        timeout: float | None = None,
        **kwargs: Any,
    ) -> AsyncResult:
        """Stream the reply to ``messages``.

        ``flatten_history=True`` sends the original's single prompt built by
        :func:`format_prompt` instead of native history. ``hf_token`` (or gpt4free's
        ``api_key``) reaches private Spaces; ``timeout`` bounds the whole answer.
        Files (gpt4free's ``media``, ``images``, ``image``) go to the client, which
        refuses them: the Space takes text only. Other
        gpt4free keyword arguments (sampling, ``stop``...) are accepted and ignored.
        """
        cls.get_model(model)
        # Files go to the client as content parts; the Qwen Space takes none, so the
        # client refuses them before the queue is contacted (as for provider_for's Spaces).
        messages = with_media(cls.__name__, messages, kwargs)  # type: ignore[assignment]
        if flatten_history:
            system = [m for m in messages if m.get("role") == "system"]
            others = [m for m in messages if m.get("role") != "system"]
            if not others:
                raise InvalidMessagesError("messages has no user message to answer")
            messages = [*system, {"role": "user", "content": format_prompt(others)}]
        timeouts = Timeouts(total=timeout) if timeout is not None else None
        client = SpaceClient(cls.space_url(), proxy=proxy, hf_token=hf_token or api_key, timeouts=timeouts)
        return AsyncResult(_stream(client, messages))


#: Provider classes whose own ``url``/``api_endpoint`` are the shipped defaults, not a retargeting.
_SHIPPED: set[type] = {Qwen_Qwen_2_5_Max}


def _endpoint_base(endpoint: str) -> str:
    """The Space URL of an original-style ``api_endpoint`` (``.../gradio_api/queue/join?``)."""
    path = endpoint.split("?", 1)[0].rstrip("/")
    for suffix in _JOIN_PATHS:
        if path.endswith(suffix):
            return path[: -len(suffix)]
    raise UsageError(
        f"api_endpoint {endpoint!r} does not end with /gradio_api/queue/join or /queue/join; "
        "set the provider's url to the Space's address instead"
    )


async def _stream(client: SpaceClient, messages: Messages) -> AsyncGenerator[str, None]:
    async with client:
        stream = client.chat(messages)
        try:
            async for delta in stream:
                yield delta
        finally:
            await stream.aclose()
