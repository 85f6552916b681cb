"""Public classes report the package a user imports them from, in reprs and tracebacks,
and every error still pickles (across processes, as multiprocessing and pytest-xdist do)."""

from __future__ import annotations

import inspect
import pickle
import sys
import traceback
import typing
from types import ModuleType
from typing import Any

import pytest
import qwen_space.client
import qwen_space.client.errors
import qwen_space.protocol
import qwen_space.protocol.errors
from qwen_space.protocol import ProtocolError, QwenSpaceError
from qwen_space.protocol.errors import AppError

PACKAGES = (qwen_space.protocol, qwen_space.client, qwen_space.protocol.errors, qwen_space.client.errors)
#: Where a user imports from: the packages, and each one's module of errors.
PUBLIC_MODULES = ("qwen_space.protocol", "qwen_space.protocol.errors", "qwen_space.client", "qwen_space.client.errors")


def exported_classes(package: ModuleType) -> list[type]:
    return [value for name in package.__all__ if inspect.isclass(value := getattr(package, name))]


def test_app_error_names_its_public_package() -> None:
    assert AppError.__module__ == "qwen_space.protocol.errors"
    error = AppError("the Space said no", space_message="no")
    assert traceback.format_exception_only(error)[0].startswith(
        "qwen_space.protocol.errors.AppError: the Space said no"
    )


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_every_exported_class_names_a_public_package(package: ModuleType) -> None:
    private = {
        f"{cls.__module__}.{cls.__qualname__}"
        for cls in exported_classes(package)
        if cls.__module__.startswith("qwen_space.") and cls.__module__ not in PUBLIC_MODULES
    }
    assert private == set()
    for cls in exported_classes(package):
        home = sys.modules[cls.__module__]
        assert getattr(home, cls.__qualname__) is cls  # where pickle looks for it


SAMPLES: dict[str, object] = {"status": 503, "limit": 10, "size": 20, "with_token": True, "stage": "PAUSED"}


def sample(cls: type[QwenSpaceError]) -> QwenSpaceError:
    """An instance of ``cls`` with every argument it requires given a value of its type."""
    arguments: dict[str, Any] = {}
    positional: list[Any] = []
    for name, parameter in list(inspect.signature(cls.__init__).parameters.items())[1:]:
        if parameter.default is not inspect.Parameter.empty:
            continue
        value = SAMPLES.get(name, f"the {name}")
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            arguments[name] = value
        else:
            positional.append(value)
    return cls(*positional, **arguments)


ERRORS = sorted(
    {
        cls
        for module in PACKAGES
        for cls in exported_classes(module)
        if issubclass(cls, QwenSpaceError) and cls is not ProtocolError  # abstract: refuses to be made
    },
    key=lambda cls: cls.__name__,
)


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_pickles(cls: type[QwenSpaceError]) -> None:
    error = sample(cls).with_partial("half an answer")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls
    assert (str(copy), copy.args, vars(copy)) == (str(error), error.args, vars(error))
    assert f"{cls.__module__}.{cls.__qualname__}".startswith(("qwen_space.protocol.", "qwen_space.client."))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_the_annotations_of_every_exported_class_still_resolve(package: ModuleType) -> None:
    # get_type_hints looks names up in the module __module__ names (dataclass tools,
    # Hypothesis' from_type and documentation generators call it).
    for cls in exported_classes(package):
        typing.get_type_hints(cls)
    assert typing.get_type_hints(qwen_space.protocol.SpaceConfig)["components"] is not None
