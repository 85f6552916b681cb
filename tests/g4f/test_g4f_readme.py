"""The README's gpt4free block runs as written, against the replica under real Gradio."""

import os
import subprocess
import sys
from pathlib import Path

from qwen_space.client import SpaceClient

from ..live.conftest import Replica
from ..test_readme import block_with


async def test_the_readme_block_prints_the_reply(replica: Replica, tmp_path: Path) -> None:
    async with SpaceClient(replica.url) as space:
        expected = (await space.complete([{"role": "user", "content": "Hello! Who are you?"}])).text
    script = tmp_path / "block.py"
    # gpt4free would ask PyPI for a newer release of itself: not from a test.
    script.write_text("import g4f.debug\ng4f.debug.version_check = False\n" + block_with("from g4f.client"))
    env = {**os.environ, "QWEN_SPACE_URL": replica.url, "NO_PROXY": "*"}
    output = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert output.returncode == 0, output.stderr
    assert output.stdout == expected + "\n"
