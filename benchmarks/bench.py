"""qwen-space side by side with gradio_client 2.7.2 and the original provider (gpt4free 7.4.7).

Run with ``tox -e bench`` (its env installs gradio 6.31.0, which pins gradio_client
2.7.2, and g4f 7.4.7). Parts, all measured in this one run on this machine:

* ``cpu``: CPU seconds per streamed token of the client process, against a loopback
  server (a separate process) replaying Gradio streams at full speed; the floor is
  aiohttp reading the body, splitting events and orjson-decoding each data line.
* ``latency``: against the real Gradio replica with a fake model yielding a token
  every 20 ms: time to first delta, and the delay between the server's yield and
  the client's delta (p50, p99).
* ``scale``: 500 concurrent chats against the replica (concurrency_limit 40); chats
  that raise are counted by exception type.
* ``memory``: peak RSS above the baseline while streaming a 1 MB answer, each client
  in a fresh process.
* ``serve``: what ``qwen-space serve`` adds over the client it runs on: the server
  process's CPU per streamed token, and the yield-to-chunk delay of an OpenAI client.
* ``chatinterface``: against the Hub's ChatInterface template (a replica on real Gradio):
  time to first delta and client CPU per chat, single-turn for both clients (gradio_client
  cannot send a ChatInterface a history) and multi-turn for qwen-space.

``python benchmarks/bench.py [cpu|latency|scale|memory|serve|chatinterface|all] [--quick]`` prints tables
and writes ``benchmarks/results.json`` and ``benchmarks/cpu_per_token.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from qwen_space.client import SpaceClient, Timeouts
from streams import QUERY, SYSTEM, answer, history

HERE = Path(__file__).resolve().parent
REPLICA = HERE.parent / "tests" / "replica" / "app.py"
CLIENTS = ("floor", "qwen-space", "gradio_client", "original")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def server(argv: list[str], probe: str, env: dict[str, str] | None = None) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, *argv, str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=HERE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(url + probe, timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"{argv} did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def set_scenario(url: str, **spec: Any) -> None:
    request = urllib.request.Request(url + "/bench/scenario", data=json.dumps(spec).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=120) as answer_:
        answer_.read()


def messages_for(history_turns: int) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for turn in history(history_turns):
        out += [{"role": "user", "content": turn.user}, {"role": "assistant", "content": turn.assistant}]
    return [*out, {"role": "user", "content": QUERY}]


# --- the clients, each consuming one whole chat and returning the reply text ----------


async def run_floor(url: str, session: aiohttp.ClientSession, **_: Any) -> str:
    async with session.post(url + "/gradio_api/queue/join", data=b"{}") as response:
        await response.read()
    async with session.get(url + "/gradio_api/queue/data?session_hash=x") as response:
        buffer = b""
        last: Any = None
        async for chunk in response.content.iter_any():
            buffer += chunk
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                if event.startswith(b"data: "):
                    last = orjson.loads(event[6:])
    return str(last)


async def run_ours(url: str, client: SpaceClient, history_turns: int, **_: Any) -> str:
    return "".join([delta async for delta in client.chat(messages_for(history_turns))])


def run_gradio_client(url: str, client: Any, history_turns: int, chatbot_format: str, **_: Any) -> str:
    turns = history(history_turns)
    if chatbot_format == "tuples":
        chat_history: list[Any] = [[t.user, t.assistant] for t in turns]
    else:
        chat_history = []
        for t in turns:
            chat_history += [
                {"role": "user", "content": [{"type": "text", "text": t.user}]},
                {"role": "assistant", "content": [{"type": "text", "text": t.assistant}]},
            ]
    job = client.submit(QUERY, chat_history, SYSTEM, api_name="/model_chat")
    for _ in job:
        pass
    result = job.result()
    return reply_text(result[1][-1])


def reply_text(last: Any) -> str:
    """The answer in the last chatbot entry gradio_client returns, in either format."""
    if isinstance(last, list):
        return str(last[1])
    content = last["content"]
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return str(content)


async def run_original(url: str, provider: Any, history_turns: int, **_: Any) -> str:
    return "".join([str(c) async for c in provider.create_async_generator("qwen-2.5-max", messages_for(history_turns))])


def original_provider(url: str) -> Any:
    from g4f.Provider.hf_space.Qwen_Qwen_2_5_Max import Qwen_Qwen_2_5_Max as Original

    class Retargeted(Original):  # type: ignore[misc]
        pass

    Retargeted.url = url
    Retargeted.api_endpoint = f"{url}/gradio_api/queue/join?"
    return Retargeted


# --- part 1: CPU per token -----------------------------------------------------------


def cpu(quick: bool) -> list[dict[str, Any]]:
    """Per token: CPU of a whole chat divided by its tokens; and the marginal cost, the
    same after subtracting a one-token chat (join, stream set-up, the first and final
    full values: what every chat costs whatever its length)."""
    sizes = (1_000, 4_000) if quick else (1_000, 4_000, 16_000, 64_000)
    rows: list[dict[str, Any]] = []
    with server(["replay_server.py"], "/config") as url:
        for chatbot_format in ("tuples", "normalised"):
            for history_turns in (0, 20):
                set_scenario(url, tokens=1, history=history_turns, format=chatbot_format)
                fixed: dict[str, float | None] = {}
                for name in CLIENTS:
                    try:
                        fixed[name] = measure_cpu(name, url, 1, history_turns, chatbot_format)
                    except Exception:  # the original crashes on Gradio 6 chatbots
                        fixed[name] = None
                print(f"{chatbot_format:<10} {history_turns:>3}  one-token chat (ms): {_ms(fixed)}", flush=True)
                for tokens in sizes:
                    set_scenario(url, tokens=tokens, history=history_turns, format=chatbot_format)
                    row: dict[str, Any] = {"format": chatbot_format, "history": history_turns, "tokens": tokens}
                    best: dict[str, float | None] = {}
                    # The ratio of these two is a target: each is measured twice, in turn,
                    # so that one slow moment of the machine cannot decide it.
                    for name in ("floor", "qwen-space", "floor", "qwen-space", "gradio_client", "original"):
                        try:
                            seconds = measure_cpu(name, url, tokens, history_turns, chatbot_format)
                        except Exception as exc:  # the original crashes on Gradio 6 chatbots
                            row[f"{name}_error"] = f"{type(exc).__name__}: {exc}"
                            seconds = None
                        earlier = best.get(name)
                        best[name] = seconds if earlier is None or seconds is None else min(earlier, seconds)
                    for name in CLIENTS:
                        seconds, base = best[name], fixed[name]
                        row[name] = None if seconds is None else seconds / tokens * 1e6
                        row[f"{name}_marginal"] = (
                            None if seconds is None or base is None else (seconds - base) / (tokens - 1) * 1e6
                        )
                        row[f"{name}_chat_ms"] = None if base is None else base * 1e3
                    rows.append(row)
                    print_cpu_row(row)
    return rows


def _ms(seconds: dict[str, float | None]) -> str:
    return " ".join(f"{name} {'-' if value is None else f'{value * 1e3:.2f}'}" for name, value in seconds.items())


def measure_cpu(name: str, url: str, tokens: int, history_turns: int, chatbot_format: str) -> float | None:
    """Best client CPU seconds over a few runs of one chat, in a fresh process: CPU time
    counts every thread of a process, and gradio_client leaves threads running."""
    if name == "gradio_client" and tokens > 16_000:
        return None  # minutes per run (quadratic): measured up to 16k tokens only
    output = subprocess.run(
        [sys.executable, __file__, "_cpu-child", name, url, str(tokens), str(history_turns), chatbot_format],
        capture_output=True,
        text=True,
        cwd=HERE,
    )
    if output.returncode != 0:
        raise RuntimeError(output.stderr.strip().splitlines()[-1] if output.stderr.strip() else "no output")
    seconds: float = json.loads(output.stdout.strip().splitlines()[-1])
    return seconds


def cpu_child(name: str, url: str, tokens: int, history_turns: int, chatbot_format: str) -> float:
    """Best client CPU seconds over a few runs of one chat (after one warm-up run)."""
    # Short chats are cheap and noisier: more runs for them.
    runs = {1: 20, 1_000: 10, 4_000: 8, 16_000: 4}.get(tokens, 3)
    expected = answer(tokens)

    async def scenario() -> float:
        async with aiohttp.ClientSession() as session, SpaceClient(url, timeouts=Timeouts(total=None)) as ours:
            gradio = None
            if name == "gradio_client":
                from gradio_client import Client

                gradio = Client(url, verbose=False)
            provider = original_provider(url) if name == "original" else None
            best = float("inf")
            for attempt in range(runs + 1):
                start = time.process_time()
                if name == "floor":
                    await run_floor(url, session)
                elif name == "qwen-space":
                    text = await run_ours(url, ours, history_turns)
                    assert text == expected, "qwen-space lost or duplicated text"
                elif name == "gradio_client":
                    text = await asyncio.to_thread(run_gradio_client, url, gradio, history_turns, chatbot_format)
                    assert text == expected, "gradio_client lost or duplicated text"
                else:
                    await run_original(url, provider, history_turns)
                elapsed = time.process_time() - start
                if attempt:  # the first run warms caches and connections
                    best = min(best, elapsed)
            if gradio is not None:
                gradio.close()
            return best

    return asyncio.run(scenario())


def print_cpu_row(row: dict[str, Any]) -> None:
    def show(value: float | None, name: str = "") -> str:
        if value is None:
            return " crash" if f"{name}_error" in row else "   n/a"
        return f"{value:6.2f}"

    ratio = row["qwen-space"] / row["floor"]
    versus = "" if row["gradio_client"] is None else f"{row['gradio_client'] / row['qwen-space']:5.1f}x"
    print(
        f"{row['format']:<10} {row['history']:>3} {row['tokens']:>6} | floor {show(row['floor'])} | "
        f"ours {show(row['qwen-space'])} ({ratio:4.2f}x floor) | gradio_client {show(row['gradio_client'])} "
        f"{versus} | original {show(row['original'], 'original')}  (us/token) | marginal: floor "
        f"{show(row['floor_marginal'])} ours {show(row['qwen-space_marginal'])}",
        flush=True,
    )


# --- part 2: latency -------------------------------------------------------------------


def latency(quick: bool) -> dict[str, Any]:
    tokens = 50 if quick else 500  # p99 of 500 delays or more: not decided by one hiccup
    # The floor and qwen-space take turns, three runs each, their delays pooled: the
    # machine's slow moments then fall on both.
    turns = ["floor", "qwen-space"] * (1 if quick else 3) + ["gradio_client", "original"]
    delays: dict[str, list[float]] = {}
    results: dict[str, Any] = {}
    log = HERE / ".replica-stamps.log"
    log.unlink(missing_ok=True)
    with server([str(REPLICA)], "/config", env={"REPLICA_LOG": str(log)}) as url:
        asyncio.run(_arrivals("qwen-space", url, "warm-up !tokens=2"))  # a cold server's first job is slow
        for run, name in enumerate(turns):
            marker = f"lat-{name}-{run}"
            started = time.time()
            try:
                arrivals = asyncio.run(_arrivals(name, url, f"!tokens={tokens} !delay=0.02 !id={marker}"))
            except Exception as exc:  # the original crashes on Gradio 6 chatbots
                results[name] = {"error": f"{type(exc).__name__}: {exc}"}
                continue
            stamps = [
                float(line.split()[2]) for line in log.read_text().splitlines() if line.startswith(f"yield {marker} ")
            ]
            # Each arrival shows the text up to some token: its delay is measured from
            # the server's yield of that token.
            delays.setdefault(name, []).extend(
                (at - stamps[count - 1]) * 1000 for at, count in arrivals if 0 < count <= len(stamps)
            )
            result = results.setdefault(name, {"runs": 0, "yields": 0, "text_updates_seen": 0, "first_delta_s": []})
            result["runs"] += 1
            result["yields"] += len(stamps)
            result["text_updates_seen"] += len(arrivals)
            result["first_delta_s"].append(round(arrivals[0][0] - started, 3) if arrivals else None)
    for name, pooled in delays.items():
        results[name]["p50_ms"] = round(statistics.median(pooled), 2)
        results[name]["p99_ms"] = round(statistics.quantiles(pooled, n=100)[98], 2)
    if "floor" in delays and "qwen-space" in delays:
        ours, floor = results["qwen-space"], results["floor"]
        ours["added_over_floor_p50_ms"] = round(ours["p50_ms"] - floor["p50_ms"], 2)
        ours["added_over_floor_p99_ms"] = round(ours["p99_ms"] - floor["p99_ms"], 2)
    for name, result in results.items():
        print(f"latency {name:<14} {result}", flush=True)
    log.unlink(missing_ok=True)
    return results


async def _arrivals(name: str, url: str, prompt: str) -> list[tuple[float, int]]:
    """(wall-clock time, tokens of text seen so far) at each update of the reply."""
    arrivals: list[tuple[float, int]] = []
    messages = [{"role": "user", "content": prompt}]
    if name == "floor":
        # aiohttp and orjson only: join, read the stream, count tokens in the full
        # chatbot value of each message (the replica here is Gradio 6: diffs apply to
        # the last text part; the floor just counts the appended tokens).
        async with aiohttp.ClientSession() as session:
            body = {"data": [prompt, [], SYSTEM], "fn_index": 0, "trigger_id": 11, "session_hash": "floorlatency"}
            async with session.post(url + "/gradio_api/queue/join", json=body) as response:
                await response.json()
            async with session.get(url + "/gradio_api/queue/data?session_hash=floorlatency") as response:
                buffer, count = b"", 0
                async for chunk in response.content.iter_any():
                    buffer += chunk
                    *events, buffer = buffer.split(b"\n\n")
                    for event in events:
                        message = orjson.loads(event[6:])
                        if message.get("msg") == "process_generating":
                            count += 1
                            arrivals.append((time.time(), count))
                        if message.get("msg") == "process_completed":
                            return arrivals
    elif name == "qwen-space":
        async with SpaceClient(url) as client:
            text = ""
            async for delta in client.chat(messages):
                text += delta
                arrivals.append((time.time(), text.count("tok")))
    elif name == "gradio_client":

        def consume() -> None:
            from gradio_client import Client

            client = Client(url, verbose=False)
            job = client.submit(prompt, [], SYSTEM, api_name="/model_chat")
            for output in job:
                arrivals.append((time.time(), reply_text(output[1][-1]).count("tok")))
            client.close()

        await asyncio.to_thread(consume)
    else:
        text = ""
        async for chunk in original_provider(url).create_async_generator("qwen-2.5-max", messages):
            text += str(chunk)
            arrivals.append((time.time(), text.count("tok")))
    return arrivals


# --- part 3: scale ----------------------------------------------------------------------


def scale(quick: bool) -> dict[str, Any]:
    chats = 100 if quick else 500
    results: dict[str, Any] = {}
    # gradio_client as a user gets it (max_workers=40, its default), and with a worker per
    # chat: the setting under which its shared event stream is not closed mid-run (see
    # _scale_one).
    for name, workers in (("qwen-space", 0), ("gradio_client", 40), ("gradio_client", chats)):
        label = name if workers in (0, 40) else f"{name} (max_workers={workers})"
        failures: list[str] = []
        while len(failures) < 2:  # a second chance, and any failure is reported
            # A fresh replica and a fresh client process each: peak RSS is per process.
            with server([str(REPLICA)], "/config") as url:
                output = subprocess.run(
                    [sys.executable, __file__, "_scale-child", name, url, str(chats), str(workers)],
                    capture_output=True,
                    text=True,
                    cwd=HERE,
                )
            try:
                results[label] = json.loads(output.stdout.strip().splitlines()[-1])
                break
            except (IndexError, ValueError):
                failures.append(output.stderr.strip().splitlines()[-1] if output.stderr.strip() else "no output")
                results[label] = {"error": failures[-1]}
        if failures:
            results[label]["failed_runs"] = failures
        print(f"scale {label:<14} {results[label]}", flush=True)
    return results


def _status_mib(field: str) -> float:
    """VmRSS or VmHWM of this process. Unlike ru_maxrss, VmHWM belongs to the address
    space, so a child started by fork and exec does not inherit its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _open_sockets() -> int:
    count = 0
    for fd in Path("/proc/self/fd").iterdir():
        with suppress(OSError):
            count += os.readlink(fd).startswith("socket:")
    return count


def _scale_one(name: str, url: str, chats: int, workers: int) -> dict[str, Any]:
    """One client's run of many concurrent chats. A chat that raises is counted by the type
    of its exception instead of ending the run: gradio_client 2.7.2 cancels some of its own
    jobs here. It reads every job of a Client from one event stream, and runs at most
    ``max_workers`` jobs at once, so the server sees the session's jobs drain between
    batches, sends ``close_stream`` after the last completion, and a job joined just then
    is attached to the reader that is closing: the reader's done-callback hands it
    ``None`` and the job raises ``concurrent.futures.CancelledError``."""
    prompts = [f"chat {i} !tokens={5 + i % 11} !delay=0.01" for i in range(chats)]
    expected = ["".join(f"tok{j} " for j in range(5 + i % 11)) for i in range(chats)]
    peak_sockets = 0
    done = False

    async def sample() -> None:
        nonlocal peak_sockets
        while not done:
            peak_sockets = max(peak_sockets, _open_sockets())
            await asyncio.sleep(0.05)

    async def ours() -> list[str]:
        async with SpaceClient(url, max_connections=chats + 10, timeouts=Timeouts(total=900)) as client:

            async def one(prompt: str) -> str:
                return "".join([d async for d in client.chat([{"role": "user", "content": prompt}])])

            return list(await asyncio.gather(*(one(p) for p in prompts)))

    failed: dict[str, int] = {}

    def gradio() -> list[str | None]:
        from gradio_client import Client

        client = Client(url, verbose=False, max_workers=workers)
        jobs = [client.submit(p, [], SYSTEM, api_name="/model_chat") for p in prompts]
        texts: list[str | None] = []
        for job in jobs:
            try:
                texts.append(reply_text(job.result()[1][-1]))
            except Exception as exc:
                kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
                failed[kind] = failed.get(kind, 0) + 1
                texts.append(None)
        client.close()
        return texts

    async def run() -> list[str] | list[str | None]:
        nonlocal done
        sampler = asyncio.create_task(sample())
        try:
            return await ours() if name == "qwen-space" else await asyncio.to_thread(gradio)
        finally:
            done = True
            await sampler

    rss_before = _status_mib("VmRSS")
    cpu_start, wall_start = time.process_time(), time.monotonic()
    texts = asyncio.run(run())
    wall, cpu_used = time.monotonic() - wall_start, time.process_time() - cpu_start
    rss = _status_mib("VmHWM")
    return {
        "chats": chats,
        "wall_s": round(wall, 2),
        "client_cpu_s": round(cpu_used, 2),
        "peak_rss_mib": round(rss, 1),
        "baseline_rss_mib": round(rss_before, 1),
        "peak_open_sockets": peak_sockets,
        "failed": failed,
        "wrong": sum(t is not None and t != e for t, e in zip(texts, expected, strict=True)),
    }


# --- part 4: memory ---------------------------------------------------------------------

ONE_MB_TOKENS = 100_000  # "w-token-1 " pieces of 10 bytes: a 1,000,000-byte answer


def memory(quick: bool) -> dict[str, Any]:
    """Each client in fresh processes. The peak depends on where the allocator puts a
    few large blocks, so qwen-space runs five times: the median and the range are
    reported. gradio_client runs once (it exhausts the machine's memory)."""
    results: dict[str, Any] = {}
    with server(["replay_server.py"], "/config") as url:
        set_scenario(url, tokens=ONE_MB_TOKENS, history=0, format="tuples", token_text="w-token-1 ")
        for name, runs in (("qwen-space", 1 if quick else 5), ("gradio_client", 1)):
            peaks: list[float] = []
            for _ in range(runs):
                output = subprocess.run(
                    [sys.executable, __file__, "_memory-child", name, url], capture_output=True, text=True, cwd=HERE
                )
                if output.returncode == 0:
                    report = json.loads(output.stdout.strip().splitlines()[-1])
                    peaks.append(report["above_baseline_mib"])
                    results[name] = {**report, "above_baseline_mib": statistics.median(peaks), "runs": peaks}
                else:
                    # gradio_client keeps every intermediate output: 100,000 growing copies.
                    killed = output.returncode == -9
                    results[name] = {
                        "error": "killed by the kernel (out of memory)" if killed else output.stderr[-300:]
                    }
                    break
            print(f"memory {name:<14} {results[name]}", flush=True)
    return results


def memory_child(name: str, url: str) -> None:
    """In a fresh process: baseline RSS after imports and set-up, then peak while streaming."""

    async def ours() -> float:
        async with SpaceClient(url, timeouts=Timeouts(total=None)) as client:
            await client.config()
            baseline = _status_mib("VmRSS")
            length = 0
            async for delta in client.chat([{"role": "user", "content": QUERY}]):
                length += len(delta)
            assert length == 1_000_000
            return baseline

    def gradio() -> float:
        from gradio_client import Client

        client = Client(url, verbose=False)
        baseline = _status_mib("VmRSS")
        job = client.submit(QUERY, [], SYSTEM, api_name="/model_chat")
        for _ in job:
            pass
        assert len(job.result()[1][-1][1]) == 1_000_000
        client.close()
        return baseline

    baseline = asyncio.run(ours()) if name == "qwen-space" else gradio()
    peak = _status_mib("VmHWM")
    report = {"answer_mb": 1.0, "baseline_mib": round(baseline, 1), "above_baseline_mib": round(peak - baseline, 1)}
    print(json.dumps(report))


# --- part 6: a gr.ChatInterface Space --------------------------------------------------

HUB_TEMPLATE = HERE.parent / "tests" / "replicas" / "serve.py"
CHAT_TOKENS = 50


def chatinterface(quick: bool) -> dict[str, Any]:
    """The Hub's ChatInterface template (tests/replicas/hub_template.py) served by real
    Gradio: time to first delta and client CPU per chat over a series of chats, each
    client in a fresh process. gradio_client sends a single turn: on Gradio 6 the
    ChatInterface's API event takes the message and the additional inputs, no history.
    qwen-space also sends a multi-turn chat (its history seeded into a fresh session)."""
    chats = 5 if quick else 20
    rows: dict[str, Any] = {}
    with server([str(HUB_TEMPLATE), "hub_template"], "/config") as url:
        for label, name, turns in (
            ("qwen-space, 1 turn", "qwen-space", 0),
            ("gradio_client, 1 turn", "gradio_client", 0),
            ("qwen-space, 10 earlier turns", "qwen-space", 10),
        ):
            output = subprocess.run(
                [sys.executable, __file__, "_chatinterface-child", name, url, str(chats), str(turns)],
                capture_output=True,
                text=True,
                cwd=HERE,
            )
            if output.returncode != 0:
                rows[label] = {
                    "error": output.stderr.strip().splitlines()[-1] if output.stderr.strip() else "no output"
                }
            else:
                rows[label] = json.loads(output.stdout.strip().splitlines()[-1])
            print(f"chatinterface {label:<30} {rows[label]}", flush=True)
    return {"tokens": CHAT_TOKENS, "chats": chats, "rows": rows}


def chatinterface_child(name: str, url: str, chats: int, turns: int) -> dict[str, Any]:
    """Per chat: the wall time to the first text; over all chats: client CPU per chat.
    One warm-up chat first (connections, the config, imports), not counted."""
    message = f"hello !tokens={CHAT_TOKENS}"
    earlier: list[dict[str, str]] = []
    for turn in history(turns):
        earlier += [{"role": "user", "content": turn.user}, {"role": "assistant", "content": turn.assistant}]
    messages = [*earlier, {"role": "user", "content": message}]
    # The scripted model names what it received: the count of earlier turns shows that
    # the history arrived, the last token that the whole answer did.
    marker, last = f"Earlier turns: {turns}", f"tok{CHAT_TOKENS - 1}"
    first: list[float] = []

    async def ours() -> float:
        async with SpaceClient(url, timeouts=Timeouts(total=None)) as client:
            start_cpu = 0.0
            for attempt in range(chats + 1):
                if attempt == 1:
                    start_cpu = time.process_time()
                started, text = time.monotonic(), ""
                async for delta in client.chat(messages, system=SYSTEM):
                    if not text:
                        first.append(time.monotonic() - started)
                    text += delta
                assert marker in text, f"qwen-space's reply lacks {marker!r}: {text[:200]!r}"
                assert text.endswith(last), f"qwen-space's reply is cut short: {text[-200:]!r}"
            return time.process_time() - start_cpu

    def gradio() -> float:
        from gradio_client import Client

        client = Client(url, verbose=False)
        start_cpu = 0.0
        for attempt in range(chats + 1):
            if attempt == 1:
                start_cpu = time.process_time()
            started = time.monotonic()
            job = client.submit(message, SYSTEM, api_name="/respond")
            seen = False
            for output in job:
                if output and not seen:
                    first.append(time.monotonic() - started)
                    seen = True
            text = str(job.result())
            assert marker in text, f"gradio_client's reply lacks {marker!r}: {text[:200]!r}"
            assert text.endswith(last), f"gradio_client's reply is cut short: {text[-200:]!r}"
        used = time.process_time() - start_cpu
        client.close()
        return used

    cpu_seconds = asyncio.run(ours()) if name == "qwen-space" else gradio()
    counted = first[1:]  # the warm-up chat's is left out
    return {
        "first_delta_ms_p50": round(statistics.median(counted) * 1e3, 1),
        "first_delta_ms_max": round(max(counted) * 1e3, 1),
        "cpu_ms_per_chat": round(cpu_seconds / chats * 1e3, 2),
    }


# --- report -----------------------------------------------------------------------------


# --- part 5: qwen-space serve ----------------------------------------------------------


def serve(quick: bool) -> dict[str, Any]:
    """What ``qwen-space serve`` adds over the client it runs on, measured in the server's
    own process: CPU per streamed token (marginal: a long chat minus a one-token chat,
    against the replay server), and the delay from the replica's yield to the OpenAI
    client's chunk, beside the client's own delay."""
    tokens = 4_000 if quick else 16_000
    runs = 3 if quick else 6
    results: dict[str, Any] = {}
    with server(["replay_server.py"], "/config") as url:
        seconds: dict[str, dict[int, float]] = {"serve": {}, "client": {}}
        with serve_child(url) as (base, cpu_seconds):
            for size in (1, tokens):
                set_scenario(url, tokens=size, history=0, format="tuples")
                best = float("inf")
                for attempt in range(runs + 1):
                    before = cpu_seconds()
                    text, _ = asyncio.run(_via_server(base, QUERY))
                    assert text == answer(size), "qwen-space serve lost or duplicated text"
                    if attempt:  # the first run warms caches and connections
                        best = min(best, cpu_seconds() - before)
                seconds["serve"][size] = best
                seconds["client"][size] = measure_cpu("qwen-space", url, size, 0, "tuples") or float("nan")
    marginal = {name: (s[tokens] - s[1]) / (tokens - 1) * 1e6 for name, s in seconds.items()}
    results["cpu_us_per_token"] = {
        "tokens": tokens,
        "server_marginal": round(marginal["serve"], 3),
        "client_marginal": round(marginal["client"], 3),
        "added_marginal": round(marginal["serve"] - marginal["client"], 3),
        "server_one_token_chat_ms": round(seconds["serve"][1] * 1e3, 3),
        "client_one_token_chat_ms": round(seconds["client"][1] * 1e3, 3),
    }
    print(f"serve cpu {results['cpu_us_per_token']}", flush=True)

    count = 50 if quick else 300
    delays: dict[str, list[float]] = {"client": [], "serve": []}
    log = HERE / ".replica-stamps.log"
    log.unlink(missing_ok=True)
    with server([str(REPLICA)], "/config", env={"REPLICA_LOG": str(log)}) as url, serve_child(url) as (base, _):
        asyncio.run(_via_server(base, "warm-up !tokens=2"))
        for run, name in enumerate(["client", "serve"] * (1 if quick else 3)):
            marker = f"serve-{name}-{run}"
            prompt = f"!tokens={count} !delay=0.02 !id={marker}"
            if name == "client":
                arrivals = asyncio.run(_arrivals("qwen-space", url, prompt))
            else:
                arrivals = asyncio.run(_via_server(base, prompt))[1]
            lines = log.read_text().splitlines()
            stamps = [float(line.split()[2]) for line in lines if line.startswith(f"yield {marker} ")]
            delays[name].extend((at - stamps[n - 1]) * 1000 for at, n in arrivals if 0 < n <= len(stamps))
    log.unlink(missing_ok=True)
    for name, pooled in delays.items():
        results[f"{name}_delay_ms"] = {
            "p50": round(statistics.median(pooled), 2),
            "p99": round(statistics.quantiles(pooled, n=100)[98], 2),
        }
    results["added_delay_ms"] = {
        q: round(results["serve_delay_ms"][q] - results["client_delay_ms"][q], 2) for q in ("p50", "p99")
    }
    print(f"serve latency {results}", flush=True)
    return results


@contextmanager
def serve_child(space_url: str) -> Iterator[tuple[str, Callable[[], float]]]:
    """``qwen-space serve``'s app in a process of its own; the callable asks it for its CPU seconds."""
    process = subprocess.Popen(
        [sys.executable, __file__, "_serve-child", space_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=HERE,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    stdin, stdout = process.stdin, process.stdout

    def cpu_seconds() -> float:
        stdin.write("\n")
        stdin.flush()
        return float(stdout.readline())

    try:
        yield f"http://127.0.0.1:{int(stdout.readline())}/v1", cpu_seconds
    finally:
        process.terminate()
        process.wait(timeout=20)


def serve_child_main(space_url: str) -> None:
    import threading

    from aiohttp import web
    from qwen_space.client.ways_in.serve import create_openai_app, make_runner

    def report() -> None:  # a thread of its own: it answers while the loop serves
        for _ in sys.stdin:
            print(time.process_time(), flush=True)

    async def run() -> None:
        runner = make_runner(create_openai_app(spaces={"bench": space_url}, timeouts=Timeouts(total=None)))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        threading.Thread(target=report, daemon=True).start()
        await asyncio.Event().wait()

    asyncio.run(run())


async def _via_server(base: str, prompt: str) -> tuple[str, list[tuple[float, int]]]:
    """One streamed chat through the server, read as an OpenAI client reads it (aiohttp and
    orjson only, so that the reader's own cost stays small): the text, and its arrivals."""
    body = {"model": "bench", "messages": [{"role": "user", "content": prompt}], "stream": True}
    text = ""
    arrivals: list[tuple[float, int]] = []
    async with aiohttp.ClientSession() as session, session.post(base + "/chat/completions", json=body) as response:
        buffer = b""
        async for chunk in response.content.iter_any():
            buffer += chunk
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                if event == b"data: [DONE]":
                    return text, arrivals
                delta = orjson.loads(event[6:])["choices"][0]["delta"].get("content")
                if delta:
                    text += delta
                    arrivals.append((time.time(), text.count("tok")))
    raise RuntimeError(f"the server's stream ended without [DONE] (status {response.status})")


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for axis, history_turns in zip(axes, (0, 20), strict=True):
        for name, style in zip(CLIENTS, ("k--", "b-o", "r-s", "g-^"), strict=True):
            for chatbot_format, alpha in (("tuples", 1.0), ("normalised", 0.5)):
                points = [
                    (r["tokens"], r[name])
                    for r in rows
                    if r["history"] == history_turns and r["format"] == chatbot_format and r[name]
                ]
                if points:
                    xs, ys = zip(*points, strict=True)
                    axis.plot(xs, ys, style, alpha=alpha, label=f"{name} ({chatbot_format})")
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("answer length (tokens)")
        axis.set_title(f"{history_turns} turns of history")
        axis.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("client CPU per token (µs)")
    axes[1].legend(fontsize=7)
    fig.suptitle("CPU per streamed token (lower is better)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "aiohttp": version("aiohttp"),
        "gradio (replica)": version("gradio"),
        "gradio_client": version("gradio_client"),
        "g4f": version("g4f"),
    }


def main() -> None:
    if len(sys.argv) == 7 and sys.argv[1] == "_cpu-child":
        name, url, tokens, history_turns, chatbot_format = sys.argv[2:]
        print(json.dumps(cpu_child(name, url, int(tokens), int(history_turns), chatbot_format)))
        return
    if len(sys.argv) == 4 and sys.argv[1] == "_memory-child":
        memory_child(sys.argv[2], sys.argv[3])
        return
    if len(sys.argv) == 3 and sys.argv[1] == "_serve-child":
        serve_child_main(sys.argv[2])
        return
    if len(sys.argv) in (5, 6) and sys.argv[1] == "_scale-child":
        workers = int(sys.argv[5]) if len(sys.argv) == 6 else 40  # gradio_client's default
        print(json.dumps(_scale_one(sys.argv[2], sys.argv[3], int(sys.argv[4]), workers)))
        return
    if len(sys.argv) == 6 and sys.argv[1] == "_chatinterface-child":
        name, url, chats, turns = sys.argv[2:]
        print(json.dumps(chatinterface_child(name, url, int(chats), int(turns))))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "part", nargs="?", default="all", choices=["cpu", "latency", "scale", "memory", "serve", "chatinterface", "all"]
    )
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    saved = HERE / "results.json"
    results: dict[str, Any] = json.loads(saved.read_text()) if saved.exists() else {}
    results["machine"] = machine()
    print(json.dumps(results["machine"]))
    parts: dict[str, Callable[[bool], Any]] = {
        "cpu": cpu,
        "latency": latency,
        "scale": scale,
        "memory": memory,
        "serve": serve,
        "chatinterface": chatinterface,
    }
    for name, part in parts.items():
        if args.part in (name, "all"):
            results[name] = part(args.quick)
            # A part run alone leaves the others' numbers from earlier runs: the page says which.
            results.setdefault("measured", {})[name] = time.strftime("%Y-%m-%d", time.gmtime())
            saved.write_text(json.dumps(results, indent=2) + "\n")  # each part kept as it completes
    if "cpu" in results:
        plot(results["cpu"], HERE / "cpu_per_token.png")


if __name__ == "__main__":
    main()
