"""qwen-space's CPU per streamed token under two installs, measured in turn in one run.

``python benchmarks/ab.py BEFORE_PYTHON AFTER_PYTHON [--rounds N] [--out FILE --what TEXT]``: each interpreter
has its own qwen-space installed (a release, a branch, this checkout). The loopback
replay server of ``bench.py`` replays the same Gradio streams to both; each chat runs in
a fresh child process of the interpreter under test (``bench.py _cpu-child``), and the
two take turns, so that a slow moment of the machine falls on both. Per row: the best
of the rounds for each, and after/before. ``--out benchmarks/ab-NAME.json`` keeps the run
(with ``--what``, what the two installs are) for ``report.py`` to put in docs/benchmarks.md.

This is how a change is checked against the "nothing slower" budget (per-token CPU
within 10%) without trusting numbers from two different runs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

from bench import server, set_scenario

HERE = Path(__file__).resolve().parent
ROWS = [(fmt, turns, tokens) for fmt in ("tuples", "normalised") for turns in (0, 20) for tokens in (4_000, 16_000)]


def child_cpu(python: str, url: str, tokens: int, turns: int, fmt: str) -> float:
    output = subprocess.run(
        [python, str(HERE / "bench.py"), "_cpu-child", "qwen-space", url, str(tokens), str(turns), fmt],
        capture_output=True,
        text=True,
        cwd=HERE,
        check=True,
    )
    seconds: float = json.loads(output.stdout.strip().splitlines()[-1])
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("before", help="the interpreter with the qwen-space to compare against")
    parser.add_argument("after", help="the interpreter with the qwen-space under test")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write the run here as JSON (benchmarks/ab-NAME.json)")
    parser.add_argument("--what", default="", help="what BEFORE and AFTER are, for the page")
    args = parser.parse_args()
    started, load = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()[0]
    results: list[dict[str, object]] = []
    ratios: list[float] = []
    with server(["replay_server.py"], "/config") as url:
        for fmt, turns, tokens in ROWS:
            set_scenario(url, tokens=tokens, history=turns, format=fmt)
            best = {"before": float("inf"), "after": float("inf")}
            for _ in range(args.rounds):
                for name in ("before", "after"):
                    seconds = child_cpu(getattr(args, name), url, tokens, turns, fmt)
                    best[name] = min(best[name], seconds)
            row = {
                "format": fmt,
                "history": turns,
                "tokens": tokens,
                "before_us": round(best["before"] / tokens * 1e6, 2),
                "after_us": round(best["after"] / tokens * 1e6, 2),
                "after_over_before": round(best["after"] / best["before"], 3),
            }
            results.append(row)
            ratios.append(best["after"] / best["before"])
            print(json.dumps(row), flush=True)
    summary = {"worst_after_over_before": round(max(ratios), 3), "median": round(sorted(ratios)[len(ratios) // 2], 3)}
    print(json.dumps(summary))
    if args.out is not None:
        run = {
            "date": started,
            "load_average_at_start": round(load, 1),
            "machine": f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}",
            "command": f"python benchmarks/ab.py {args.before} {args.after} --rounds {args.rounds} --out {args.out}",
            "what": args.what,
            "rounds": args.rounds,
            "rows": results,
        }
        temporary = args.out.with_suffix(".tmp")
        temporary.write_text(json.dumps(run, indent=2) + "\n")
        temporary.replace(args.out)


if __name__ == "__main__":
    main()
