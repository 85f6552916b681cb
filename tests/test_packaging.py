"""What an installed qwen-space brings into a process, and what it exports."""

import inspect
import json
import subprocess
import sys
from importlib.metadata import distribution
from pathlib import Path

import pytest
import qwen_space.client
import qwen_space.client.errors
import qwen_space.protocol
from qwen_space.protocol import QwenSpaceError

pytestmark = pytest.mark.installed

# Modules that do I/O, or that stand for a heavy optional dependency.
IO_MODULES = {"aiohttp", "asyncio", "socket", "ssl", "selectors", "http", "urllib", "vcr"}
OPTIONAL_MODULES = {"vcr", "g4f", "huggingface_hub", "openai", "gradio", "gradio_client"}


def modules_after_import(module: str, tmp_path: Path) -> set[str]:
    """The top-level modules a fresh, isolated interpreter gains by importing ``module``
    (run outside the source tree, so only the installed package can answer). What the
    interpreter loads before any import (site's .pth files, an editable install's finder)
    is not the package's doing, so it is left out."""

    def loaded(statement: str) -> set[str]:
        code = f"import sys, json; {statement}; print(json.dumps(sorted(sys.modules)))"
        output = subprocess.run(
            [sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
        )
        return {name.partition(".")[0] for name in json.loads(output.stdout)}

    return loaded(f"import {module}") - loaded("pass")


def test_protocol_imports_nothing_that_does_io(tmp_path: Path) -> None:
    assert modules_after_import("qwen_space.protocol", tmp_path) & IO_MODULES == set()


def test_the_client_imports_no_optional_dependency(tmp_path: Path) -> None:
    loaded = modules_after_import("qwen_space.client", tmp_path)
    assert "aiohttp" in loaded, "the check must see what the client really imports"
    assert loaded & OPTIONAL_MODULES == set()


def test_no_bare_top_level_modules_are_importable(tmp_path: Path) -> None:
    code = "import importlib.util as u; print([n for n in ('protocol', 'client', 'cassettes') if u.find_spec(n)])"
    output = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert output.stdout.strip() == "[]"


def test_exports_are_defined_and_unique() -> None:
    for package in (qwen_space.protocol, qwen_space.client):
        assert len(package.__all__) == len(set(package.__all__))
        # hasattr, not vars: the client exports create_openai_app lazily (its __getattr__).
        missing = [name for name in package.__all__ if not hasattr(package, name)]
        assert missing == []


def test_every_error_lives_in_its_packages_errors_module_and_the_client_offers_them_all() -> None:
    defined: set[type[QwenSpaceError]] = set()
    for module_name, module in list(sys.modules.items()):
        if module_name.startswith("qwen_space."):
            defined |= {
                value
                for value in vars(module).values()
                if inspect.isclass(value) and issubclass(value, QwenSpaceError) and value.__module__ == module_name
            }
    assert len(defined) > 20
    assert {cls.__module__ for cls in defined} == {"qwen_space.protocol.errors", "qwen_space.client.errors"}
    offered = {getattr(qwen_space.client.errors, name) for name in qwen_space.client.errors.__all__}
    assert sorted(cls.__name__ for cls in defined - offered) == []


def test_the_surface_is_small_enough_to_hold_in_your_head() -> None:
    """Issue 24's budget: about 30 names for the protocol, about 40 for the client (every
    error besides the roots is in the package's ``errors`` module)."""
    assert len(qwen_space.protocol.__all__) <= 32
    assert len(qwen_space.client.__all__) <= 42


def test_the_license_ships_with_the_package() -> None:
    files = distribution("qwen-space").files or []
    licenses = [file for file in files if file.name == "LICENSE"]
    assert licenses, "LICENSE is not in the installed distribution"
    assert "MIT License" in licenses[0].read_text()
