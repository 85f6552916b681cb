"""Write docs/benchmarks.md from benchmarks/results.json: every number quoted there comes
from one ``bench.py all`` run, written by this script, never copied by hand.

Run: ``python benchmarks/report.py`` (``tox -e bench`` runs it after the benchmark).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.json"
OUT = HERE.parent / "docs" / "benchmarks.md"
# The A/B runs of benchmarks/ab.py behind the "nothing slower" check, each a run of its
# own: the file's name, the section's title.
AB = {
    "ab-restructuring.json": "Before and after the restructuring",
    "ab-issue24-paced.json": "Before and after issue 24 item 9 (the paced read)",
    "ab-issue24-token-read.json": "Before and after the token read (issue 24 item 9)",
}
# benchmarks/paced.py's run: real Gradio at a model's pace, a token per read.
PACED = HERE / "paced-results.json"
PARTS = ("cpu", "latency", "scale", "memory", "serve", "chatinterface")


def number(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def cpu_section(rows: list[dict[str, Any]]) -> list[str]:
    out = [
        "## CPU per streamed token",
        "",
        "µs of client-process CPU per token, best of several runs, each client in a fresh process (CPU",
        "time counts every thread, and gradio_client leaves threads running). A loopback server in another",
        "process replays Gradio streams at full speed. The *floor* is the least any client can do: aiohttp",
        "reading the body, splitting events and orjson-decoding each data line, nothing else. *Marginal*",
        "is the same after subtracting the CPU of a one-token chat (join, stream set-up, the first and",
        "final full values): the cost of one more token.",
        "",
        "| chatbot | history | tokens | floor | qwen-space | x floor | marginal floor | marginal ours "
        "| gradio_client | gradio_client / ours | original provider |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        ours, floor, gradio = row["qwen-space"], row["floor"], row["gradio_client"]
        original = row["original"]
        out.append(
            f"| {row['format']} | {row['history']} | {row['tokens'] // 1000}k | {number(floor)} | {number(ours)} "
            f"| {number(ours / floor if ours and floor else None)} | {number(row['floor_marginal'])} "
            f"| {number(row['qwen-space_marginal'])} | {number(gradio) if gradio else 'not run'} "
            f"| {number(gradio / ours, 1) if gradio and ours else ''} | {number(original) if original else 'crashes'} |"
        )
    out += [
        "",
        "CPU of a one-token chat (ms), the fixed cost every chat pays:",
        "",
        "| chatbot | history | floor | qwen-space | gradio_client | original provider |",
        "|---|---|---|---|---|---|",
    ]
    seen = set()
    for row in rows:
        key = (row["format"], row["history"])
        if key in seen:
            continue
        seen.add(key)
        original = row.get("original_chat_ms")
        out.append(
            f"| {row['format']} | {row['history']} | {number(row['floor_chat_ms'])} "
            f"| {number(row['qwen-space_chat_ms'])} | {number(row['gradio_client_chat_ms'], 1)} "
            f"| {number(original) if original else 'crashes'} |"
        )
    out += [
        "",
        "gradio_client is not run past 16k tokens (a run takes minutes: it deep-copies the whole output",
        "for every message). The original provider does not stream (it drops every diff) and crashes on",
        "Gradio 6 chatbots.",
        "",
        "![CPU per streamed token](../benchmarks/cpu_per_token.png)",
        "",
    ]
    return out


def targets(results: dict[str, Any]) -> list[str]:
    rows = results["cpu"]
    at_4k_20 = [r for r in rows if r["tokens"] == 4000 and r["history"] == 20]
    versus_gradio = [r["gradio_client"] / r["qwen-space"] for r in at_4k_20 if r["gradio_client"]]
    ratios = [r["qwen-space"] / r["floor"] for r in rows]
    marginal: dict[tuple[str, int], list[float]] = {}
    for r in rows:
        marginal.setdefault((r["format"], r["history"]), []).append(r["qwen-space_marginal"])
    spread = max(max(m) / min(m) - 1 for m in marginal.values())
    floors = [r["floor_marginal"] for r in rows]
    latency = results["latency"]["qwen-space"]
    memory = results["memory"]["qwen-space"]
    return [
        "## Targets",
        "",
        "| target | result |",
        "|---|---|",
        f"| per-token CPU at least 5x below gradio_client at 4k tokens with 20 turns "
        f"| {' and '.join(f'{v:.1f}x' for v in versus_gradio)} (tuples, normalised) |",
        f"| within 4x of the floor | {min(ratios):.2f}x to {max(ratios):.2f}x over every row |",
        f"| flat from 1k to 64k tokens | the marginal cost of a token varies by at most {spread:.0%} within a series |",
        f"| added latency p99 at most 0.5 ms | {latency['added_over_floor_p99_ms']:.2f} ms at p99 "
        f"({latency['added_over_floor_p50_ms']:.2f} ms at p50) over the floor |",
        f"| memory for a 1 MB answer at most 4x its size | {memory['above_baseline_mib']:.1f} MiB above the "
        f"baseline (median of {len(memory['runs'])} fresh processes: "
        f"{', '.join(f'{r:.1f}' for r in memory['runs'])}) |",
        "",
        "How steady the machine was: the floor does the same work per token in every row, yet its",
        f"marginal cost ranged from {min(floors):.2f} to {max(floors):.2f} µs across this run; ratios to it",
        "move with it, and the rows measured with fewest runs (64k tokens: three) move most.",
        "",
    ]


def latency_section(latency: dict[str, Any]) -> list[str]:
    out = [
        "## Latency",
        "",
        "The replica yields a token every 20 ms; the delay runs from the moment it hands a token to Gradio",
        "(stamped by the replica) to the client seeing it. The floor and qwen-space take turns and their",
        "delays are pooled over the runs.",
        "",
        "| client | runs | first delta (s) | p50 (ms) | p99 (ms) |",
        "|---|---|---|---|---|",
    ]
    for name, result in latency.items():
        if "error" in result:
            out.append(f"| {name} | | crashes: `{result['error']}` | | |")
            continue
        first = ", ".join(f"{s:.3f}" for s in result["first_delta_s"])
        out.append(f"| {name} | {result['runs']} | {first} | {result['p50_ms']:.2f} | {result['p99_ms']:.2f} |")
    return [*out, ""]


def scale_section(scale: dict[str, Any]) -> list[str]:
    out = [
        "## Scale",
        "",
        "500 concurrent chats against the replica (concurrency_limit 40), each client in a fresh process.",
        "A chat that raises is counted by the type of its exception; the run goes on.",
        "",
        "| client | wall (s) | client CPU (s) | peak RSS (MiB) | open sockets (peak) | failed chats | wrong answers |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in scale.items():
        if "error" in r:
            out.append(f"| {name} | {r['error']} | | | | | |")
            continue
        failed = ", ".join(f"{count} `{kind}`" for kind, count in r.get("failed", {}).items()) or "0"
        out.append(
            f"| {name} | {r['wall_s']} | {r['client_cpu_s']} | {r['peak_rss_mib']} | {r['peak_open_sockets']} "
            f"| {failed} | {r['wrong']} |"
        )
    out += [
        "",
        "The `CancelledError` earlier runs showed in gradio_client's row is gradio_client's own, not the harness's. Its",
        "traceback ends in `gradio_client/utils.py` (`stream_sse_v1plus` raises",
        "`concurrent.futures.CancelledError` when its message queue hands it `None`; `asyncio.to_thread`",
        "turned it into `asyncio.exceptions.CancelledError` in the earlier harness, which let one failed",
        "chat end the run). gradio_client 2.7.2 reads every job of a `Client` from one event stream per",
        "session and runs at most `max_workers` jobs at once (40 by default), so the 500 chats go in",
        "batches. Between batches the server sees the session's jobs drain and, after the last completion,",
        "sends `close_stream` (Gradio 6.31, `routes.py`, `sse_stream`). A job whose `queue/join` lands in",
        "that moment finds the old reader still marked open, is attached to it, and the reader's",
        "done-callback (`close_stream` in `Client.send_data`) appends `None` to its queue: the job is",
        "cancelled although the server ran it. In a diagnosis on this machine (2026-12-02), 3 of 6 runs of",
        "500 chats had chats cancelled this way; in the three runs with gradio_client's stream reader",
        "instrumented, 3, 1 and 0 chats were, and the stream was closed and reopened 10, 9 and 11 times.",
        "The race depends on timing: some runs lose no chat to it.",
        "`max_workers` at least the number of chats (the last gradio_client row) joins every job before the",
        "first completes: one reader serves all and none is cancelled (two of two diagnostic runs: 500 of",
        "500). It costs three threads per chat, and the joins then go out all at once, each through httpx's",
        "default 5 s timeout (`send_data`): on this loaded machine a run can lose chats to",
        "`httpx.ReadTimeout` instead. Passing a longer timeout in `httpx_kwargs` is gradio_client's knob for",
        "that; no setting removes the race itself.",
        "",
    ]
    return out


def chatinterface_section(part: dict[str, Any]) -> list[str]:
    out = [
        "## A `gr.ChatInterface` Space",
        "",
        f"The Hub's ChatInterface template (`tests/replicas/hub_template.py`) on real Gradio: {part['chats']}",
        f"chats of {part['tokens']} tokens per client after one warm-up chat, each client in a fresh process.",
        "First delta: the wall time from the call to the first text. CPU: the client process's, per chat.",
        "",
        "| client | first delta p50 (ms) | first delta max (ms) | client CPU per chat (ms) |",
        "|---|---|---|---|",
    ]
    for name, r in part["rows"].items():
        if "error" in r:
            out.append(f"| {name} | fails: `{r['error']}` | | |")
            continue
        out.append(f"| {name} | {r['first_delta_ms_p50']} | {r['first_delta_ms_max']} | {r['cpu_ms_per_chat']} |")
    out += [
        "",
        "gradio_client cannot send a ChatInterface a history: on Gradio 6 the API event",
        "(`/respond` here) takes the message and the additional inputs (`predict(message, system_message,",
        "max_tokens, temperature, top_p)` in its `view_api()`), and the history lives in the session's",
        "`gr.State`, which no input of that event sets. Both clients are measured single-turn; qwen-space",
        "also with 10 earlier turns, seeded into a fresh session before the message",
        "([chat-spaces.md](chat-spaces.md)). Its reply names the count of earlier turns it received,",
        "and the benchmark checks it.",
        "",
        "gradio_client's CPU per chat is not steady: in a 5-chat smoke run on the same day it was 70 ms",
        "per chat, in the 20-chat run above (the machine's load average near 10) far more. Where its",
        "threads spend it was not investigated.",
        "",
    ]
    return out


def ab_section(title: str, ab: dict[str, Any]) -> list[str]:
    load = f", load average {ab['load_average_at_start']} at the start" if "load_average_at_start" in ab else ""
    out = [
        f"## {title}",
        "",
        f"Measured on {ab['date']} on {ab['machine']}{load}: `{ab['command']}`. {ab['what']} Each row is the best",
        f"of {ab['rounds']} rounds per install, the two taking turns; µs of client CPU per streamed token",
        "(qwen-space against the replay server, as in the CPU table).",
        "",
        "| chatbot | history | tokens | before | after | after / before |",
        "|---|---|---|---|---|---|",
    ]
    for r in ab["rows"]:
        out.append(
            f"| {r['format']} | {r['history']} | {r['tokens'] // 1000}k | {r['before_us']:.2f} | {r['after_us']:.2f} "
            f"| {r['after_over_before']:.3f} |"
        )
    ratios = sorted(r["after_over_before"] for r in ab["rows"])
    verdict = "within" if max(ratios) <= 1.1 else "outside"
    out += [
        "",
        f"Worst after/before {max(ratios):.3f}, median {ratios[len(ratios) // 2]:.3f}: {verdict} the 10% budget.",
        "",
    ]
    return out


def paced_section(paced: dict[str, Any]) -> list[str]:
    machine = paced["machine"]
    readers = ("bare", "protocol", "qwen-space", "relay", "serve", "gradio_client")
    ratios = (
        "qwen-space / bare",
        "protocol / bare",
        "serve / qwen-space",
        "relay / bare",
        "serve / relay",
        "gradio_client / qwen-space",
    )
    out = [
        "## Paced: a token per read",
        "",
        "The CPU and memory tables above replay streams at full speed, so one read carries many tokens: a",
        "*burst*. A model streams one token at a time, and each reaches the client in a read of its own;",
        "what a client pays per read then dominates. `benchmarks/paced.py` (in `tox -e bench`) measures",
        f"that *paced* case: real Gradio streams a reply of {paced['runs'][0]['tokens']:,} tokens, one yield per",
        "token after a 1 ms sleep, from a `gr.ChatInterface` (benchmarks/paced_app.py) and from the Qwen",
        "layout's replica (tests/replica/app.py, `!delay=0.001`). The readers of the same chat take",
        "turns, each in a fresh process after a short warm-up chat: *bare* (aiohttp joins, reads the",
        "stream and orjson-decodes each event, nothing else: the floor), *protocol* (the bare reader's",
        "loop with each read fed to `ChatStream` and `HeldReply`, as the client feeds them: what the",
        "protocol costs in place, without the client's read loop around it), qwen-space",
        "(`SpaceClient.chat`), *relay* (the floor of any OpenAI-style server in front of the app: an",
        "aiohttp server running the bare reader's loop and writing each token as a chunk, nothing else),",
        "`qwen-space serve` in front of the app, both read by a bare aiohttp client (the server process's",
        "CPU is counted, from /proc in clock ticks of 10 ms), and gradio_client. CPU of the measured",
        "process only, all its threads, per chat; the Gradio server's is not counted.",
        "",
        f"Machine: {machine['cores']} cores, Python {machine['python']}, aiohttp {machine['aiohttp']}, "
        f"gradio_client {machine['gradio_client']}, {machine['platform']}; cores: "
        f"{machine.get('pinning', 'not pinned')} (a Space runs on another machine: sharing this one, the",
        "server on the reader's core evicts its caches at every token, or not, as the scheduler places",
        "them). Each row's run: its date, the machine's load average when it started and its command below.",
        "",
        "| Gradio | app | reads / events per chat | " + " | ".join(readers) + " | " + " | ".join(ratios) + " |",
        "|---|---|---|" + "---|" * (len(readers) + len(ratios)),
    ]
    for run in paced["runs"]:
        clients, values = run["clients"], run["ratios"]
        cells = [
            f"{clients[name]['median_ms']:.0f} ({clients[name]['min_ms']:.0f}-{clients[name]['max_ms']:.0f})"
            if name in clients
            else "-"
            for name in readers
        ]
        reads, events = run["reads_per_chat"], run["events_per_chat"]
        out.append(
            f"| {run['gradio']} | {run['app']} | {reads['min']}-{reads['max']} / {events['max']} | "
            + " | ".join(cells)
            + " | "
            + " | ".join(f"{values[name]:.2f}" if name in values else "-" for name in ratios)
            + " |"
        )
    samples = len(paced["runs"][0]["clients"]["bare"]["samples_ms"])
    out += [
        "",
        f"ms of CPU per chat: median (min-max) of {samples} chats per reader; a run without a reader",
        "shows `-` (it came later). Reads and events per chat: the bare reader's network",
        "reads and SSE events (an event per token, and a few for the start and the end of the job); where",
        "there are fewer reads than events, the machine's load let events queue up and arrive together.",
        "",
        *(
            f"**{r['gradio']} {r['app']} was not paced**: {r['reads_per_chat']['min']:,} to "
            f"{r['reads_per_chat']['max']:,} reads for {r['events_per_chat']['max']:,} events, so many reads "
            "carried several tokens and each reader may have seen a different share of them; its ratios do "
            "not measure the cost per read alone (it needs a longer pace, or a quieter machine).\n"
            for r in paced["runs"]
            if r["reads_per_chat"]["min"] < 0.9 * r["events_per_chat"]["max"]
        ),
        "",
        *(
            f"- {r['gradio']} {r['app']}: {r['date']}, load average {r['load_average_at_start']}: `{r['command']}`"
            for r in paced["runs"]
        ),
        "",
    ]
    return out


def memory_section(memory: dict[str, Any]) -> list[str]:
    out = ["## Memory", "", "Peak RSS above the baseline after set-up, streaming a 1 MB answer in 100,000 tokens.", ""]
    for name, r in memory.items():
        if "error" in r:
            out.append(f"- {name}: {r['error']}")
        else:
            runs = ", ".join(f"{x:.1f}" for x in r["runs"])
            out.append(f"- {name}: {r['above_baseline_mib']:.1f} MiB (median of fresh processes: {runs})")
    return [*out, ""]


def serve_section(serve: dict[str, Any]) -> list[str]:
    return [
        "## `qwen-space serve`",
        "",
        "The OpenAI-compatible server beside the client alone (the server's own CPU; the delay to an",
        "OpenAI client's chunk against the delay to the client's delta).",
        "",
        "```json",
        json.dumps(serve, indent=2),
        "```",
        "",
    ]


def measured_note(measured: dict[str, str]) -> list[str]:
    """Which parts a later run of one part (``bench.py scale``) replaced, and when."""
    if not measured or (len(measured) == len(PARTS) and len(set(measured.values())) == 1):
        return []
    dates = ", ".join(f"{part} on {date}" for part, date in measured.items())
    return [
        f"Parts measured later, on their own (`bench.py PART`): {dates}. The other parts' numbers come from",
        "the earlier full run.",
    ]


def main() -> None:
    results = json.loads(RESULTS.read_text())
    machine = results["machine"]
    lines = [
        "# Benchmarks",
        "",
        "Every number here comes from one run of `tox -e bench` (`python benchmarks/bench.py all`), written",
        "into this page by `benchmarks/report.py` from `benchmarks/results.json`. Machine: "
        + ", ".join(f"{k} {v}" for k, v in machine.items())
        + ". The replica is the copy of the Qwen Space's app (tests/replica/app.py) served by real Gradio;",
        "the original provider is gpt4free 7.4.7's `Qwen_Qwen_2_5_Max`, retargeted by a subclass.",
        *measured_note(results.get("measured", {})),
        "",
        *targets(results),
        *cpu_section(results["cpu"]),
        *latency_section(results["latency"]),
        *scale_section(results["scale"]),
        *memory_section(results["memory"]),
    ]
    if "serve" in results:
        lines += serve_section(results["serve"])
    if "chatinterface" in results:
        lines += chatinterface_section(results["chatinterface"])
    if PACED.exists():
        lines += paced_section(json.loads(PACED.read_text()))
    for name, title in AB.items():
        if (HERE / name).exists():
            lines += ab_section(title, json.loads((HERE / name).read_text()))
    if OUT.exists():
        lines += measured_by_hand(OUT.read_text(encoding="utf-8"), lines)
    OUT.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {OUT}")


def measured_by_hand(page: str, generated: list[str]) -> list[str]:
    """The page's sections this script does not write (one-off measurements such as
    ``chain_cost.py``'s and ``upload.py``'s, written into the page by hand): kept, so
    that regenerating the page does not lose them."""
    ours = {line for line in generated if line.startswith("## ")}
    kept: list[str] = []
    keeping = False
    for line in page.split("\n"):
        if line.startswith("## "):
            keeping = line not in ours
        if keeping:
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return ["", *kept, ""] if kept else []


if __name__ == "__main__":
    main()
