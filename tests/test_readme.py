"""The README's Python blocks run as written.

Blocks that talk to the Space run offline against the bundled recording of the same
conversation (the cassette's requests must match the block's byte for byte, so the
block really sent what it shows), each in a namespace of its own, so that it needs
nothing it does not import; the pytest plugin's block runs in a pytest session of its
own, in pytest-asyncio's default strict mode. The gpt4free block needs gpt4free: the g4f
envs run it against the replica (tests/g4f/test_g4f_readme.py).
"""

import asyncio
import contextlib
import io
import re
from pathlib import Path

import pytest
from qwen_space.client import SpaceClient
from qwen_space.client.recording import bundled_cassette, use_cassette

pytestmark = pytest.mark.installed

pytest_plugins = ["pytester"]

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


def run_replayed(block: str) -> str:
    """What ``block`` prints, run as a script with the bundled hello chat replayed."""
    out = io.StringIO()
    with use_cassette(bundled_cassette(HELLO)), contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {"__name__": "__main__"})
    return out.getvalue()


def test_every_block_is_checked() -> None:
    markers = ["async with SpaceClient()", "with SyncSpaceClient()", "from g4f.client", "def test_greeting"]
    assert [next(m for m in markers if m in block) for block in python_blocks()] == markers


@pytest.mark.parametrize("marker", ["async with SpaceClient()", "with SyncSpaceClient()"])
async def test_the_tour_prints_the_reply(marker: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QWEN_SPACE_URL", "http://cassette.invalid")
    # On a thread: the block runs its own event loop, as a script does.
    assert await asyncio.to_thread(run_replayed, block_with(marker)) == await recorded_reply()


def test_the_plugin_example_passes_in_strict_mode(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_readme_example=block_with("def test_greeting"))
    # An empty ini of its own: none of this repository's settings, asyncio_mode strict by default.
    pytester.makeini("[pytest]\n")
    result = pytester.runpytest_inprocess(
        "-o", "asyncio_mode=strict", "-o", "asyncio_default_fixture_loop_scope=function"
    )
    result.assert_outcomes(passed=1)
