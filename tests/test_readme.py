"""The README's Python blocks run as written.

Blocks that talk to the Space run offline against the bundled recording of the same
conversation (the cassette's requests must match the block's byte for byte, so the
block really sent what it shows); the pytest plugin's block runs in its own pytest,
in pytest-asyncio's default strict mode. The gpt4free block needs gpt4free: the g4f
envs run it against the replica (tests/g4f/test_g4f_readme.py).
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from qwen_space.client import SpaceClient
from qwen_space.client.recording import bundled_cassette, use_cassette

README = Path(__file__).resolve().parent.parent / "README.md"
HELLO = "gradio-5.50.0/hello.yaml"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def block_with(marker: str) -> str:
    matches = [block for block in python_blocks() if marker in block]
    assert len(matches) == 1, f"one README block should contain {marker!r}"
    return matches[0]


async def recorded_reply() -> str:
    with use_cassette(bundled_cassette(HELLO)):
        async with SpaceClient("http://cassette.invalid") as space:
            completion = await space.complete([{"role": "user", "content": "Hello! Who are you?"}])
    return completion.text


def run_replayed(block: str, tmp_path: Path) -> str:
    """Run ``block`` in a fresh interpreter with the bundled hello chat replayed."""
    script = tmp_path / "block.py"
    script.write_text(
        "from qwen_space.client.recording import bundled_cassette, use_cassette\n"
        f"with use_cassette(bundled_cassette({HELLO!r})):\n"
        f"    exec(compile({block!r}, 'README.md', 'exec'), {{'__name__': '__main__'}})\n",
        encoding="utf-8",
    )
    env = {**os.environ, "QWEN_SPACE_URL": "http://cassette.invalid"}
    output = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert output.returncode == 0, output.stderr
    return output.stdout


def test_every_block_is_checked() -> None:
    markers = ["async with SpaceClient()", "with SyncSpaceClient()", "from g4f.client", "def test_greeting"]
    assert [next(m for m in markers if m in block) for block in python_blocks()] == markers


@pytest.mark.parametrize("marker", ["async with SpaceClient()", "with SyncSpaceClient()"])
async def test_the_tour_prints_the_reply(marker: str, tmp_path: Path) -> None:
    assert run_replayed(block_with(marker), tmp_path) == await recorded_reply()


def test_the_plugin_example_passes_in_strict_mode(tmp_path: Path) -> None:
    (tmp_path / "test_readme_example.py").write_text(block_with("def test_greeting"), encoding="utf-8")
    # An empty ini of its own: none of this repository's settings, asyncio_mode strict by default.
    (tmp_path / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    output = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "asyncio_mode=strict", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert output.returncode == 0, output.stdout + output.stderr
    assert "1 passed" in output.stdout
