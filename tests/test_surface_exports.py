"""Each package's ``__all__`` agrees with its modules': what a package exports, the
module that defines it exports too, under the same name, and the other way round for
the public packages' own modules."""

import importlib
import pkgutil
from types import ModuleType

import pytest
import qwen_space.client
import qwen_space.protocol

# qwen_space.client.duplicate and qwen_space.client.g4f need optional extras: tests/hub and
# tests/g4f check their shims where those are installed.
PUBLIC_PACKAGES = ["qwen_space.client", "qwen_space.client.recording"]


def modules_under(*roots: ModuleType) -> list[ModuleType]:
    found: list[ModuleType] = []
    for root in roots:
        for info in pkgutil.walk_packages(root.__path__, prefix=f"{root.__name__}."):
            if info.name.endswith(".__main__"):  # importing it runs the command
                continue
            # g4f's shim and provider need gpt4free, the Hub's copy huggingface_hub: both
            # are optional, and their modules are checked where their extras are installed.
            try:
                found.append(importlib.import_module(info.name))
            except ImportError:
                continue
    return found


def is_package(module: ModuleType) -> bool:
    return hasattr(module, "__path__")


def exported_by_modules() -> dict[str, list[object]]:
    """Every name a (non-package) module lists in its ``__all__``, with the objects."""
    names: dict[str, list[object]] = {}
    for module in modules_under(qwen_space.protocol, qwen_space.client):
        if is_package(module) or not hasattr(module, "__all__"):
            continue
        for name in module.__all__:
            names.setdefault(name, []).append(getattr(module, name))
    return names


def test_every_module_lists_what_exists() -> None:
    for module in modules_under(qwen_space.protocol, qwen_space.client):
        missing = [name for name in getattr(module, "__all__", []) if not hasattr(module, name)]
        assert missing == [], module.__name__


@pytest.mark.parametrize("package_name", PUBLIC_PACKAGES)
def test_what_a_package_exports_its_module_exports(package_name: str) -> None:
    package = importlib.import_module(package_name)
    by_modules = exported_by_modules()
    strays = [
        name
        for name in package.__all__
        if not any(value is getattr(package, name) for value in by_modules.get(name, []))
    ]
    assert strays == [], f"{package_name} exports names no module of it exports"


def test_the_client_exports_the_openai_app_factory() -> None:
    from qwen_space.client.ways_in.serve import create_openai_app

    assert qwen_space.client.create_openai_app is create_openai_app
    assert "create_openai_app" in qwen_space.client.__all__
