"""Running the ``qwen-space`` command in a subprocess, as a user would."""

import asyncio
import os
import sys
from dataclasses import dataclass


@dataclass
class Result:
    code: int
    out: str
    err: str


async def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "qwen_space.client",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NO_PROXY": "*", **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout)
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())
