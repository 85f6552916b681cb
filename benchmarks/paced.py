"""Client CPU per chat at a model's pace: each token its own network read.

bench.py's ``cpu`` part replays streams at full speed, so one read carries many
tokens and a client's fixed cost per read hardly shows. Here real Gradio streams a
reply of 4,000 tokens, one yield per token with a short sleep before each, so the
server is slower than every client and each token reaches the client in a read of
its own (the bare reader counts the reads; the results say how many per token).

Two apps: a ``gr.ChatInterface`` (benchmarks/paced_app.py) and the replica of the
Qwen Space's layout (tests/replica/app.py, ``!delay=0.001``, its whole history as
each output). Six ways to read the same chat, measured in the same run, taking
turns, each in a fresh process (pinned to a core of its own where there are two or
more: see ``_cores``), after a short warm-up chat in that process:

* ``bare``: aiohttp joins the queue, reads the SSE stream and orjson-decodes each
  event, nothing else: the floor any Python client pays;
* ``protocol``: the bare reader's loop, each read fed to the protocol as the client
  runs it (``ChatStream`` + ``HeldReply``), without the client around it: where a gap
  between bare and qwen-space lies (in the protocol, or in the client's read loop);
* ``qwen-space``: ``SpaceClient.chat``, the reply's deltas;
* ``relay``: the floor of any OpenAI-style server in front of the app: an aiohttp
  server running the bare reader's loop and writing each token as a chunk, nothing
  else, read by a bare aiohttp client; the CPU counted is the server process's;
* ``serve``: ``qwen-space serve --url`` in front of the app, read the same way (what
  serving adds on top of the client it runs is ``serve / qwen-space``, over what any
  server must do ``serve / relay``);
* ``gradio_client``: ``Client.submit`` iterated to the end.

CPU is the measured process's (every thread), per chat; the Gradio server's is not
counted. ``python benchmarks/paced.py [--rounds N] [--chats N] [--server-python
PYTHON ...]`` (a server python per Gradio release; default this one) writes
``benchmarks/paced-results.json``; ``benchmarks/report.py`` puts it in
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from qwen_space.protocol import ChatContract, SpaceConfig, TextDelta, chat_stream, derive_contract, parse_config
from qwen_space.protocol._held import HeldReply

HERE = Path(__file__).resolve().parent
OUT = HERE / "paced-results.json"
APPS = {
    "chatinterface": (HERE / "paced_app.py", "tokens={n}"),
    "qwen-layout": (HERE.parent / "tests" / "replica" / "app.py", "!tokens={n} !delay=0.001"),
}
CLIENTS = ("bare", "protocol", "qwen-space", "relay", "serve", "gradio_client")


def _cores() -> tuple[set[int], set[int]] | None:
    """The core of the measured process, and the cores of the rest (the Gradio server;
    for ``serve``, the reader in front of it), where the machine has two or more. A
    Space runs on another machine; sharing this one, the server on the reader's core
    would evict its caches at every token, or not, as the scheduler happens to place
    them, and the figures would measure that."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    return ({cores[-1]}, set(cores[:-1])) if len(cores) >= 2 else None


CORES = _cores()


def pinned(measured: bool) -> Any:
    """A ``preexec_fn`` keeping a process to its cores (see ``_cores``); None where there are none."""
    if CORES is None:
        return None
    cores = CORES[0] if measured else CORES[1]
    return lambda: os.sched_setaffinity(0, cores)


WARM_UP_TOKENS = 20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(url: str, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 600  # a loaded machine starts Gradio slowly
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.2)


@contextmanager
def process_serving(argv: list[str], probe: str, what: str, *, measured: bool = False) -> Iterator[tuple[str, int]]:
    """A server in a process of its own on a free port: its base URL and pid."""
    port = free_port()
    process = subprocess.Popen(
        [*argv, str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=HERE.parent,
        preexec_fn=pinned(measured),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(url + probe, process, what)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def cpu_of(pid: int) -> float:
    """CPU seconds of another process, all its threads (clock ticks, usually 10 ms)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the readers, each running one chat to its end and returning the reply ----------


async def bare_chat(session: aiohttp.ClientSession, url: str, join: dict[str, Any]) -> tuple[str, int, int]:
    """Join, read the stream, decode each event: the reply, the reads and the events."""
    session_hash = secrets.token_hex(6)
    async with session.post(url + "/queue/join", json={**join, "session_hash": session_hash}) as response:
        await response.read()
    reads = events = 0
    last: Any = None
    async with session.get(url + "/queue/data", params={"session_hash": session_hash}) as response:
        buffer = b""
        async for chunk in response.content.iter_any():
            reads += 1
            buffer += chunk
            *messages, buffer = buffer.split(b"\n\n")
            for message in messages:
                if message.startswith(b"data: "):
                    events += 1
                    last = orjson.loads(message[6:])
                    if last.get("msg") == "process_completed":
                        return str(last["output"].get("data")), reads, events
    raise RuntimeError(f"the stream ended before the job did: {last!r}")


async def protocol_chat(
    session: aiohttp.ClientSession, url: str, join: dict[str, Any], config: SpaceConfig, contract: ChatContract
) -> str:
    """The bare reader's loop, each read through ``ChatStream`` and ``HeldReply``: the reply."""
    session_hash = secrets.token_hex(6)
    async with session.post(url + "/queue/join", json={**join, "session_hash": session_hash}) as response:
        event_id = (await response.json())["event_id"]
    stream, held = chat_stream(config, contract, event_id), HeldReply()
    job = stream.job
    text: list[str] = []
    async with session.get(url + "/queue/data", params={"session_hash": session_hash}) as response:
        async for chunk in response.content.iter_any():
            text += [event.text for event in held.batch(stream.feed(chunk)) if type(event) is TextDelta]
            if job.state.is_terminal:
                return "".join(text)
    raise RuntimeError("the stream ended before the job did")


def chat_dependency(dependencies: list[dict[str, Any]]) -> dict[str, Any]:
    """A ChatInterface's API event: ``chat`` on 5.x, named after the function on 6.x."""
    return next(d for d in dependencies if d.get("api_name") in ("chat", "respond"))


def join_body(base: str, app: str, prompt: str) -> tuple[str, dict[str, Any]]:
    """The queue's URL and the join a browser sends for the app's chat event."""
    with urllib.request.urlopen(base + "/config", timeout=30) as answer:
        config = json.loads(answer.read())
    dependencies = config["dependencies"]
    if app == "chatinterface":
        index = dependencies.index(chat_dependency(dependencies))
        data: list[Any] = [prompt, None]  # the message, and the history's gr.State (kept by the server)
    else:
        index = 0  # textbox.submit: model_chat(query, history, system)
        data = [prompt, [], "You are a helpful assistant."]
    dependency = dependencies[index]
    join = {"data": data, "fn_index": index, "trigger_id": dependency["targets"][0][0], "event_data": None}
    return base + config.get("api_prefix", ""), join


async def serve_chat(session: aiohttp.ClientSession, base: str, model: str, prompt: str) -> str:
    body = {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": True}
    text = ""
    async with session.post(base + "/v1/chat/completions", json=body) as response:
        buffer = b""
        async for chunk in response.content.iter_any():
            buffer += chunk
            *events, buffer = buffer.split(b"\n\n")
            for event in events:
                if event == b"data: [DONE]":
                    return text
                text += orjson.loads(event[6:])["choices"][0]["delta"].get("content") or ""
    raise RuntimeError(f"serve's stream ended without [DONE] (status {response.status})")


def relay(app: str, url: str, port: int) -> None:
    """The floor of ``serve``: an aiohttp server that relays each token of the app's chat
    as an OpenAI chunk and does nothing else (no history, no checks, no errors: the bare
    reader's loop with a write per token)."""
    from aiohttp import web

    queue, join = join_body(url, app, "")  # the config once, as serve reads it once

    async def models(_: web.Request) -> web.Response:
        return web.json_response({"data": [{"id": "relay"}]})

    async def completions(request: web.Request) -> web.StreamResponse:
        prompt = (await request.json())["messages"][-1]["content"]
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        session = request.app["session"]
        session_hash = secrets.token_hex(6)
        body = {**join, "data": [prompt, *join["data"][1:]], "session_hash": session_hash}
        async with session.post(queue + "/queue/join", json=body) as answer:
            await answer.read()
        async with session.get(queue + "/queue/data", params={"session_hash": session_hash}) as stream:
            buffer = b""
            async for chunk in stream.content.iter_any():
                buffer += chunk
                *messages, buffer = buffer.split(b"\n\n")
                for message in messages:
                    if not message.startswith(b"data: "):
                        continue
                    decoded = orjson.loads(message[6:])
                    if decoded.get("msg") == "process_completed":
                        await response.write(b"data: [DONE]\n\n")
                        return response
                    for edits in (
                        decoded.get("output", {}).get("data", []) if decoded.get("msg") == "process_generating" else []
                    ):
                        for edit in edits if isinstance(edits, list) else []:
                            if (
                                isinstance(edit, list)
                                and len(edit) == 3
                                and edit[0] == "append"
                                and isinstance(edit[2], str)
                            ):
                                delta = {"choices": [{"index": 0, "delta": {"content": edit[2]}}]}
                                await response.write(b"data: " + orjson.dumps(delta) + b"\n\n")
        return response

    async def session_context(application: web.Application) -> Any:
        async with aiohttp.ClientSession() as session:
            application["session"] = session
            yield

    application = web.Application()
    application.cleanup_ctx.append(session_context)
    application.router.add_get("/v1/models", models)
    application.router.add_post("/v1/chat/completions", completions)
    web.run_app(application, host="127.0.0.1", port=port, print=None)


# --- one client in a fresh process: a warm-up chat, then the measured ones -------------


def child(client: str, app: str, url: str, tokens: int, chats: int) -> dict[str, Any]:
    prompt = APPS[app][1].format(n=tokens)
    warm_up = APPS[app][1].format(n=WARM_UP_TOKENS)
    last = f"tok{tokens - 1}"
    if client == "gradio_client":
        return gradio_child(app, url, prompt, warm_up, last, chats)
    if client == "serve":
        script = Path(sys.executable).parent / "qwen-space"
        return asyncio.run(serve_child([str(script), "serve", "--url", url, "--port"], prompt, warm_up, last, chats))
    if client == "relay":
        return asyncio.run(serve_child([sys.executable, __file__, "_relay", app, url], prompt, warm_up, last, chats))
    return asyncio.run(async_child(client, app, url, prompt, warm_up, last, chats))


async def async_child(
    client: str, app: str, url: str, prompt: str, warm_up: str, last: str, chats: int
) -> dict[str, Any]:
    from qwen_space.client import SpaceClient, Timeouts

    cpu: list[float] = []
    reads: list[int] = []
    events: list[int] = []
    async with aiohttp.ClientSession() as session, SpaceClient(url, timeouts=Timeouts(total=None)) as space:
        for attempt in range(chats + 1):
            message = warm_up if attempt == 0 else prompt
            started = time.process_time()
            if client == "bare":
                queue, join = join_body(url, app, message)  # outside the count below
                started = time.process_time()
                text, read_count, event_count = await bare_chat(session, queue, join)
                reads.append(read_count)
                events.append(event_count)
            elif client == "protocol":
                queue, join = join_body(url, app, message)  # as the bare reader's
                with urllib.request.urlopen(url + "/config", timeout=30) as answer:
                    config = parse_config(answer.read())  # read once by the client too
                started = time.process_time()
                contract = derive_contract(config, api_name(app, url))
                text = await protocol_chat(session, queue, join, config, contract)
            else:
                text = "".join([d async for d in space.chat([{"role": "user", "content": message}])])
            used = time.process_time() - started
            if attempt:
                assert last in text, f"{client}: the reply is cut short: {text[-200:]!r}"
                cpu.append(used)
    return {"cpu_s": cpu, "reads": reads[1:], "events": events[1:]}


async def serve_child(argv: list[str], prompt: str, warm_up: str, last: str, chats: int) -> dict[str, Any]:
    """An OpenAI-style server (``argv`` and a port) in front of the app, read by a bare
    client: the server process's CPU per chat."""
    cpu: list[float] = []
    if CORES is not None:  # serve is the measured process here; its reader goes with the rest
        os.sched_setaffinity(0, CORES[1])
    with process_serving(argv, "/v1/models", " ".join(argv[:3]), measured=True) as (
        base,
        pid,
    ):
        async with aiohttp.ClientSession() as session:
            async with session.get(base + "/v1/models") as response:
                model = (await response.json())["data"][0]["id"]
            for attempt in range(chats + 1):
                before = cpu_of(pid)
                text = await serve_chat(session, base, model, warm_up if attempt == 0 else prompt)
                used = cpu_of(pid) - before
                if attempt:
                    assert last in text, f"serve: the reply is cut short: {text[-200:]!r}"
                    cpu.append(used)
    return {"cpu_s": cpu}


def gradio_child(app: str, url: str, prompt: str, warm_up: str, last: str, chats: int) -> dict[str, Any]:
    from gradio_client import Client

    client = Client(url, verbose=False)
    name = api_name(app, url)
    cpu: list[float] = []
    for attempt in range(chats + 1):
        message = warm_up if attempt == 0 else prompt
        started = time.process_time()
        if app == "chatinterface":
            job = client.submit(message, api_name=name)
        else:
            job = client.submit(message, [], "You are a helpful assistant.", api_name=name)
        for _ in job:
            pass
        text = json.dumps(job.result())
        used = time.process_time() - started
        if attempt:
            assert last in text, f"gradio_client: the reply is cut short: {text[-300:]!r}"
            cpu.append(used)
    client.close()
    return {"cpu_s": cpu}


def api_name(app: str, url: str) -> str:
    if app != "chatinterface":
        return "/model_chat"
    with urllib.request.urlopen(url + "/config", timeout=30) as answer:
        return "/" + str(chat_dependency(json.loads(answer.read())["dependencies"])["api_name"])


# --- the run ---------------------------------------------------------------------------


def spread(seconds: list[float]) -> dict[str, Any]:
    ms = sorted(round(s * 1e3, 1) for s in seconds)
    return {"median_ms": round(statistics.median(ms), 1), "min_ms": ms[0], "max_ms": ms[-1], "samples_ms": ms}


def measure_app(python: str, app: str, tokens: int, rounds: int, chats: int) -> dict[str, Any]:
    script = APPS[app][0]
    with process_serving([python, str(script)], "/config", f"{app} under {python}") as (url, _):
        with urllib.request.urlopen(url + "/config", timeout=30) as answer:
            version = json.loads(answer.read())["version"]
        samples: dict[str, list[float]] = {name: [] for name in CLIENTS}
        reads: list[int] = []
        events: list[int] = []
        for round_ in range(rounds):
            # Taking turns, the order rotating: a slow moment of the machine falls on each.
            for name in CLIENTS[round_ % len(CLIENTS) :] + CLIENTS[: round_ % len(CLIENTS)]:
                argv = [sys.executable, __file__, "_child", name, app, url, str(tokens), str(chats)]
                done = subprocess.run(
                    argv, capture_output=True, text=True, cwd=HERE, check=False, preexec_fn=pinned(measured=True)
                )
                if done.returncode != 0:
                    raise RuntimeError(f"{name} on {app} failed:\n{done.stderr[-3000:]}")
                result = json.loads(done.stdout.strip().splitlines()[-1])
                samples[name] += result["cpu_s"]
                reads += result.get("reads", [])
                events += result.get("events", [])
                print(f"paced {version} {app} round {round_ + 1} {name}: {spread(result['cpu_s'])}", flush=True)
    rows = {name: spread(values) for name, values in samples.items()}
    median = {name: row["median_ms"] for name, row in rows.items()}
    return {
        "gradio": version,
        "app": app,
        "tokens": tokens,
        "reads_per_chat": {"min": min(reads), "max": max(reads)},
        "events_per_chat": {"min": min(events), "max": max(events)},
        "clients": rows,
        "ratios": {
            "qwen-space / bare": round(median["qwen-space"] / median["bare"], 2),
            "protocol / bare": round(median["protocol"] / median["bare"], 2),
            "serve / qwen-space": round(median["serve"] / median["qwen-space"], 2),
            "relay / bare": round(median["relay"] / median["bare"], 2),
            "serve / relay": round(median["serve"] / median["relay"], 2),
            "gradio_client / qwen-space": round(median["gradio_client"] / median["qwen-space"], 2),
        },
    }


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "aiohttp": version("aiohttp"),
        "gradio_client": version("gradio_client"),
        "qwen-space": version("qwen-space"),
        "pinning": "the measured process on a core of its own, the rest on the others" if CORES else "not pinned",
    }


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "_relay":
        relay(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    if len(sys.argv) == 7 and sys.argv[1] == "_child":
        _, _, name, app, url, tokens, chats = sys.argv
        print(json.dumps(child(name, app, url, int(tokens), int(chats))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3, help="turns of every client (default 3)")
    parser.add_argument("--chats", type=int, default=2, help="measured chats per client process (default 2)")
    parser.add_argument("--server-python", action="append", help="a python with the Gradio to serve the apps")
    parser.add_argument("--app", action="append", choices=list(APPS), help="default: both")
    args = parser.parse_args()
    command = ("python benchmarks/paced.py " + " ".join(sys.argv[1:])).strip()
    for python in args.server_python or [sys.executable]:
        for app in args.app or list(APPS):
            started, load = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), os.getloadavg()[0]
            run = measure_app(python, app, args.tokens, args.rounds, args.chats)
            save({**run, "date": started, "command": command, "load_average_at_start": round(load, 1)})
            print(f"paced {run['gradio']} {run['app']}: {run['ratios']}", flush=True)


def save(run: dict[str, Any]) -> None:
    """Into OUT, replacing an earlier run of the same Gradio and app (several invocations,
    one app each, may fill it)."""
    results = json.loads(OUT.read_text()) if OUT.exists() else {"runs": []}
    runs = [r for r in results["runs"] if (r["gradio"], r["app"]) != (run["gradio"], run["app"])]
    results = {"machine": machine(), "runs": sorted([*runs, run], key=lambda r: (r["gradio"], r["app"]))}
    temporary = OUT.with_suffix(".tmp")
    temporary.write_text(json.dumps(results, indent=2) + "\n")
    temporary.replace(OUT)
    print(f"wrote {OUT}", flush=True)


if __name__ == "__main__":
    main()
