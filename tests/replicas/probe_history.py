"""How a ChatInterface keeps history, asked over raw HTTP (queue/join + queue/data, run/predict).

``python tests/replicas/probe_history.py PYTHON...`` serves the replica apps with each
interpreter (one per Gradio release), runs the request sequences below against them and
prints every request and the final reply, the transcript quoted by ``docs/chat-spaces.md``
(kept in ``tests/data/chat-history-probe.txt``). Needs aiohttp (the project's own dependency).

Sequences, each on fresh session hashes:

1. the API event, twice on one session: does the server keep the history?
2. the API event with a history in its State slot on a new session: is it read?
3. the API event without the State slot: is the slot required?
4. 5.x and 6.x: the synchronising event (inputs exactly the Chatbot, outputs the API's
   State) through ``run/predict``, then the API event on the same session (4b: 6.x
   refuses string content; 4c: a multimodal message with an uploaded file);
5. 4.44: the UI's own chain: the message-saving event through ``run/predict``, then the
   queued chat event with the Chatbot (earlier turns and the new message) in the request
   (5b: with an uploaded file);
6. the Blocks app with a model dropdown: its chat event with the history in the request.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.replicas.capture import config_of, free_port
from tests.replicas.serve import NOT_BUILDABLE

HERE = Path(__file__).resolve().parent


class Space:
    def __init__(self, http: aiohttp.ClientSession, base: str, config: dict[str, Any]) -> None:
        self.http, self.base, self.config = http, base, config
        self.prefix = config.get("api_prefix") or ""
        self.major = int(config["version"].split(".")[0])
        self.components = {c["id"]: c for c in config["components"]}

    def kind(self, component_id: int) -> str:
        return str(self.components[component_id]["type"])

    def deps(self) -> list[dict[str, Any]]:
        return [{**d, "id": d.get("id", i)} for i, d in enumerate(self.config["dependencies"])]

    async def predict(self, fn_index: int, data: list[Any], session: str) -> Any:
        body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": None}
        print(f"  POST {self.prefix}/run/predict {json.dumps(body, ensure_ascii=False)}")
        async with self.http.post(f"{self.base}{self.prefix}/run/predict", json=body) as answer:
            text = await answer.text()
            print(f"    -> {answer.status} {text[:300]}")
            return json.loads(text) if answer.status == 200 else None

    async def upload(self, name: str, content: bytes) -> dict[str, Any]:
        """The FileData of ``content`` uploaded as ``name``."""
        form = aiohttp.FormData()
        form.add_field("files", content, filename=name)
        async with self.http.post(f"{self.base}{self.prefix}/upload", data=form) as answer:
            [path] = await answer.json()
        print(f"  POST {self.prefix}/upload ({name}) -> {answer.status} [{path!r}]")
        return {"path": path, "orig_name": name, "meta": {"_type": "gradio.FileData"}}

    async def chat(self, fn_index: int, data: list[Any], session: str, trigger: int | None = None) -> Any:
        """Join, read the session's stream to the end, return the last output data (or the failure)."""
        body = {"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None, "trigger_id": trigger}
        print(f"  POST {self.prefix}/queue/join {json.dumps(body, ensure_ascii=False)}")
        async with self.http.post(f"{self.base}{self.prefix}/queue/join", json=body) as answer:
            print(f"    -> {answer.status} {(await answer.text())[:200]}")
        last: Any = None
        async with self.http.get(f"{self.base}{self.prefix}/queue/data", params={"session_hash": session}) as stream:
            async for raw in stream.content:
                line = raw.decode().strip()
                if not line.startswith("data:"):
                    continue
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    output = message.get("output", {})
                    last = output.get("data") if message.get("success") else {"failed": output}
                if message.get("msg") == "close_stream":
                    break
        print(f"    <- final output: {json.dumps(last, ensure_ascii=False)[:1000]}")
        return last


def history(major: int, chatbot_type: str | None, turns: list[tuple[str, str]]) -> list[Any]:
    if chatbot_type == "tuples":
        return [[u, a] for u, a in turns]
    out: list[Any] = []
    for u, a in turns:
        for role, text in (("user", u), ("assistant", a)):
            content: Any = [{"type": "text", "text": text}] if major >= 6 else text
            # 4.44 refuses "metadata": null (its Metadata model is not optional there).
            message = (
                {"role": role, "content": content}
                if major < 5
                else {"role": role, "metadata": None, "content": content, "options": None}
            )
            out.append(message)
    return out


async def probe_chat_interface(space: Space, app: str) -> None:
    deps = space.deps()
    api = next(
        d
        for d in deps
        if d.get("backend_fn")
        and d["api_name"] not in (None, False)
        and not str(d["api_name"]).startswith(("_", "lambda"))
        and len(d["inputs"]) >= 2
        and space.kind(d["inputs"][1]) == "state"
    )
    state = api["inputs"][1]
    message_box = api["inputs"][0]
    extras = api["inputs"][2:]
    defaults = [space.components[i]["props"].get("value") for i in extras]
    chatbot = next(c["id"] for c in space.config["components"] if c["type"] == "chatbot")
    chatbot_type = space.components[chatbot]["props"].get("type")
    message: Any = {"text": "two", "files": []} if space.kind(message_box) == "multimodaltextbox" else "two"
    first: Any = {"text": "one", "files": []} if space.kind(message_box) == "multimodaltextbox" else "one"
    print(f"{app}: API event fn {api['id']} /{api['api_name']}, inputs {api['inputs']}, outputs {api['outputs']}")
    earlier = history(space.major, chatbot_type, [("u1", "a1")])

    print(" 1. the API event twice on one session (!shape: the shape the function received the history in)")
    session = uuid.uuid4().hex
    await space.chat(api["id"], [first, None, *defaults], session)
    shaped: Any = {"text": "two !shape", "files": []} if isinstance(message, dict) else "two !shape"
    await space.chat(api["id"], [shaped, None, *defaults], session)

    print(" 2. a history in the State slot, new session")
    await space.chat(api["id"], [message, earlier, *defaults], uuid.uuid4().hex)

    print(" 3. the State slot left out")
    await space.chat(api["id"], [message], uuid.uuid4().hex)

    sync = [
        d
        for d in deps
        if d.get("queue") is False and d["inputs"] == [chatbot] and state in d["outputs"] and d.get("backend_fn")
    ]
    if sync:
        print(f" 4. the synchronising event (fn {[d['id'] for d in sync]}), then the API event on that session")
        session = uuid.uuid4().hex
        await space.predict(sync[0]["id"], [earlier], session)
        await space.chat(api["id"], [message, None, *defaults], session)
        if isinstance(message, dict):
            print(" 4c. a message with an uploaded file, after the synchronising event")
            upload = await space.upload("a.txt", b"hello")
            session = uuid.uuid4().hex
            await space.predict(sync[0]["id"], [earlier], session)
            await space.chat(api["id"], [{"text": "two", "files": [upload]}, None, *defaults], session)
        if space.major >= 6:
            print(" 4b. 6.x refuses string content in the history")
            await space.predict(sync[0]["id"], [history(5, None, [("u1", "a1")])], uuid.uuid4().hex)
    else:
        print(" 4. no event writes the API's State from the Chatbot")
    save = [
        d
        for d in deps
        if d["inputs"] == [message_box]
        and len(d["outputs"]) == 2
        and space.kind(d["outputs"][1]) == "state"
        and d.get("queue") is False
    ]
    if save:
        saved = save[0]["outputs"][1]
        ui = [
            d
            for d in deps
            if d.get("queue") is not False and d["inputs"][:2] == [saved, chatbot] and d["outputs"] == [chatbot]
        ]
        if ui:
            print(f" 5. the UI chain: fn {save[0]['id']} saves the message, fn {ui[0]['id']} chats on the Chatbot")
            session = uuid.uuid4().hex
            await space.predict(save[0]["id"], [message], session)
            pending: Any = (
                [*earlier, [message, None]]
                if chatbot_type == "tuples"
                else [*earlier, {"role": "user", "content": message if isinstance(message, str) else message["text"]}]
            )
            await space.chat(ui[0]["id"], [None, pending, *defaults], session)
            if isinstance(message, dict):
                print(" 5b. the UI chain with an uploaded file: one Chatbot entry for it before the text")
                upload = await space.upload("a.txt", b"hello")
                session = uuid.uuid4().hex
                await space.predict(save[0]["id"], [{"text": "two", "files": [upload]}], session)
                entries = [{"role": "user", "content": {"file": upload, "alt_text": None}}]
                entries.append({"role": "user", "content": "two"})
                await space.chat(ui[0]["id"], [None, [*earlier, *entries], *defaults], session)


async def probe_blocks(space: Space) -> None:
    deps = space.deps()
    chat = deps[0]
    print(f"thinking_blocks: chat event fn {chat['id']} /{chat['api_name']}, inputs {chat['inputs']}")
    print(" 6. the history in the request, the model chosen")
    earlier = history(space.major, "messages", [("u1", "a1")])
    await space.chat(chat["id"], ["two", earlier, "beta-2"], uuid.uuid4().hex, trigger=chat["targets"][0][0])


async def run(python: str) -> None:
    import os
    import subprocess
    import time

    for app in ("hub_template", "plain_tuples", "plain_messages", "multimodal", "thinking_blocks"):
        if config_of(python, app) is None:
            continue
        port = free_port()
        env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "NO_PROXY": "127.0.0.1"}
        server = subprocess.Popen(
            [python, str(HERE / "serve.py"), app, str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            async with aiohttp.ClientSession() as http:
                for _ in range(480):
                    try:
                        async with http.get(f"{base}/config") as answer:
                            config = await answer.json()
                            break
                    except aiohttp.ClientError:
                        time.sleep(0.25)
                assert server.returncode != NOT_BUILDABLE
                space = Space(http, base, config)
                print(f"\n=== Gradio {config['version']}: {app}")
                if app == "thinking_blocks":
                    await probe_blocks(space)
                else:
                    await probe_chat_interface(space, app)
        finally:
            server.terminate()
            server.wait(timeout=15)


if __name__ == "__main__":
    for interpreter in sys.argv[1:]:
        asyncio.run(run(interpreter))
