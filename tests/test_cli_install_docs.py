"""The README's install commands work from a clone (the package is not published, so
``pip install qwen-space`` cannot), and it says which Python they need."""

import re
import shlex
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def install_targets() -> list[str]:
    commands = re.findall(r"pip install ([^`\n&|;]+)", README)
    return [target for command in commands for target in shlex.split(command) if not target.startswith("-")]


def test_the_package_is_installed_from_the_clone() -> None:
    targets = install_targets()
    extras = set(PROJECT["optional-dependencies"])
    ours = [target for target in targets if target.startswith((".", PROJECT["name"]))]
    assert ours, "the README shows how to install the package"
    for target in ours:
        match = re.fullmatch(r"\.(?:\[([\w,-]+)\])?", target)
        assert match, f"pip install {target} does not work from a clone: the package is not published"
        assert set((match[1] or "").split(",")) - {""} <= extras, target
    assert {".", ".[g4f]", ".[hub]"} <= set(ours)


def test_the_readme_names_the_python_it_needs() -> None:
    minimum = re.fullmatch(r">=\s*(\d+\.\d+)", PROJECT["requires-python"])
    assert minimum, PROJECT["requires-python"]
    assert f"Python {minimum[1]}" in README
