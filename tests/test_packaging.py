import importlib.util
from pathlib import Path

import qwen_space.client
import qwen_space.protocol


def test_protocol_never_imports_io_libraries() -> None:
    source_dir = Path(qwen_space.protocol.__file__).parent
    for module in source_dir.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        for forbidden in ("import aiohttp", "import asyncio", "from aiohttp", "from asyncio", "open("):
            assert forbidden not in text, f"{module.name} contains {forbidden!r}"


def test_no_bare_top_level_modules_are_importable() -> None:
    assert importlib.util.find_spec("protocol") is None
    assert importlib.util.find_spec("client") is None


def test_public_names_resolve() -> None:
    for package in (qwen_space.protocol, qwen_space.client):
        for name in package.__all__:
            assert getattr(package, name) is not None
