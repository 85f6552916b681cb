"""A missing extra is an ImportError that says how to install it from a clone."""

from __future__ import annotations

import importlib
import sys

import pytest


@pytest.mark.parametrize(
    ("module", "dependency", "extra"),
    [("qwen_space.client.g4f", "g4f", "g4f"), ("qwen_space.client.duplicate", "huggingface_hub", "hub")],
)
def test_a_missing_extra_names_the_install_line(
    monkeypatch: pytest.MonkeyPatch, module: str, dependency: str, extra: str
) -> None:
    # As if the dependency were not installed; the modules that need it are imported afresh.
    monkeypatch.setitem(sys.modules, dependency, None)
    for name in [m for m in sys.modules if m.startswith(("qwen_space.client.g4f", "qwen_space.client.duplicate"))]:
        monkeypatch.delitem(sys.modules, name)
    for name in ("qwen_space.client.ways_in.g4f", "qwen_space.client.hub.duplicate"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(ImportError) as raised:
        importlib.import_module(module)
    assert f'pip install ".[{extra}]"' in str(raised.value)
    assert "clone" in str(raised.value)
