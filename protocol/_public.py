"""Public classes named by their public package: a traceback says
``qwen_space.protocol.ChatStream`` (an error, ``qwen_space.protocol.errors.AppError``),
not the private module it happens to live in."""

from __future__ import annotations

import typing
from collections.abc import Mapping

__all__ = ["PUBLIC_PACKAGES", "publish"]

#: The packages a user imports from; a class already named by one keeps its name.
PUBLIC_PACKAGES = frozenset(
    {"qwen_space.protocol", "qwen_space.protocol.errors", "qwen_space.client", "qwen_space.client.errors"}
)


def publish(namespace: Mapping[str, object], package: str) -> None:
    """Set ``__module__`` to ``package`` on each class in ``namespace``'s ``__all__``
    that lives in a module of this project below the public packages.

    Pickle finds a class by ``__module__`` and ``__qualname__``: only top-level classes
    exported by that name are renamed, so ``package.<name>`` is the class itself."""
    exported = namespace.get("__all__", ())
    assert isinstance(exported, (list, tuple))
    for name in exported:
        value = namespace.get(name)
        if (
            isinstance(value, type)
            and value.__qualname__ == name
            and value.__module__.startswith("qwen_space.")
            and value.__module__ not in PUBLIC_PACKAGES
        ):
            _resolve_annotations(value)
            value.__module__ = package


def _resolve_annotations(cls: type) -> None:
    """Annotations (strings, under ``from __future__ import annotations``) as the types
    they name in the module that defines them: ``typing.get_type_hints`` would otherwise
    look them up in the public package, which lacks most (``Mapping``, private aliases)."""
    own = vars(cls).get("__annotations__")
    if not own:
        return
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except NameError:  # a name only imported for type checkers: left for them
        return
    cls.__annotations__ = {name: hints.get(name, annotation) for name, annotation in own.items()}
