"""Run the live suite against many Gradio releases, each in its own virtualenv.

``tox -e live-matrix`` runs it for one release of every line from 4.28 to 6.31, and
for the first releases of the older protocols the client accepts (sse_v1, sse_v2,
sse_v2.1). Name releases to run only those: ``tox -e live-matrix -- 4.29.0 6.0.2``.
Environments are kept under ``.tox/live-matrix-releases`` and reused.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENVS = ROOT / ".tox" / "live-matrix-releases"

#: The last patch release of each line from 4.28 to 6.31, and 4.9.1 (sse_v1),
#: 4.17.0 (sse_v2) and 4.21.0 (sse_v2.1).
RELEASES = [
    *("4.9.1", "4.17.0", "4.21.0"),
    *("4.28.3", "4.29.0", "4.31.5", "4.32.2", "4.33.0", "4.35.0", "4.36.1", "4.37.2", "4.38.1"),
    *("4.39.0", "4.40.0", "4.41.0", "4.42.0", "4.43.0", "4.44.1"),
    *("5.0.2", "5.1.0", "5.3.0", "5.4.0", "5.5.0", "5.6.0", "5.7.1", "5.8.0", "5.9.1", "5.10.0", "5.11.0"),
    *("5.12.0", "5.13.2", "5.14.0", "5.15.0", "5.16.2", "5.17.1", "5.18.0", "5.19.0", "5.20.1", "5.21.0"),
    *("5.22.0", "5.23.3", "5.24.0", "5.25.2", "5.26.0", "5.27.1", "5.28.0", "5.29.1", "5.30.0", "5.31.0"),
    *("5.32.1", "5.33.2", "5.34.2", "5.35.0", "5.36.2", "5.37.0", "5.38.2", "5.39.0", "5.40.0", "5.41.1"),
    *("5.42.0", "5.43.1", "5.44.1", "5.45.0", "5.46.1", "5.47.2", "5.48.0", "5.49.1", "5.50.0"),
    *("6.0.2", "6.1.0", "6.2.0", "6.3.0", "6.4.0", "6.5.1", "6.6.0", "6.7.0", "6.8.0", "6.9.0", "6.10.0"),
    *("6.11.0", "6.12.0", "6.13.0", "6.14.0", "6.15.2", "6.16.0", "6.17.3", "6.18.0", "6.19.0", "6.20.0"),
    *("6.21.0", "6.22.0", "6.23.1", "6.24.0", "6.25.0", "6.26.0", "6.27.0", "6.28.0", "6.29.1", "6.30.0"),
    "6.31.0",
]
#: As tox.ini's [testenv] deps (trustme aside: no live test uses it).
TEST_DEPS = ["pytest>=8", "pytest-asyncio>=0.24", "hypothesis>=6.100", "openai>=1.40"]


def pins(release: str) -> list[str]:
    """What a release needs beside it to install and run today."""
    major, minor = (int(part) for part in release.split(".")[:2])
    extra = [f"gradio=={release}"]
    if major == 4 or (major == 5 and minor <= 6):
        extra.append("huggingface_hub<0.26")  # they import HfFolder, which 0.26 removed
    if major == 5 and 9 <= minor <= 35:
        extra.append("requests")  # imported but not declared
    return extra


def run(release: str, wheel: Path) -> tuple[bool, str]:
    env_dir = ENVS / release
    python = env_dir / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    install = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--force-reinstall"]
    subprocess.run([*install, "--no-deps", str(wheel)], check=True)
    setup = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            str(wheel),
            *TEST_DEPS,
            *pins(release),
        ],
        capture_output=True,
        text=True,
    )
    if setup.returncode != 0:
        return False, "install failed: " + setup.stderr.strip().splitlines()[-1]
    started = time.monotonic()
    tests = subprocess.run(
        [str(python), "-m", "pytest", "tests/live", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_PROXY": "127.0.0.1"},
    )
    summary = tests.stdout.strip().splitlines()[-1] if tests.stdout.strip() else tests.stderr.strip()[-300:]
    if tests.returncode != 0:
        (ENVS / f"{release}.log").write_text(tests.stdout + tests.stderr, encoding="utf-8")
    return tests.returncode == 0, f"{summary} ({time.monotonic() - started:.0f} s)"


def main(argv: list[str]) -> int:
    releases = argv or RELEASES
    ENVS.mkdir(parents=True, exist_ok=True)
    wheels = ENVS / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(wheels), str(ROOT)],
        check=True,
    )
    [wheel] = sorted(wheels.glob("qwen_space-*.whl"))
    results = []
    for release in releases:
        ok, summary = run(release, wheel)
        print(f"gradio {release:8} {'passed' if ok else 'FAILED'}: {summary}", flush=True)
        results.append(ok)
    print(f"{sum(results)} of {len(results)} releases passed")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
