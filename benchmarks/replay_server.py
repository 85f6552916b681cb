"""A loopback server that replays recorded-shape Gradio streams at full speed.

It speaks the routes every compared client uses (``/config``, ``/gradio_api/info``,
``queue/join``, ``queue/data``, ``cancel``, ``reset``), serving the replica's real
``/config`` and ``/info`` captured under Gradio 5.50.0 (tuples) or 6.31.0 (normalised
messages). ``POST /bench/scenario {"tokens", "history", "format"}`` picks the stream.
It runs in its own process so that the client's CPU time is the client's alone.

Run: ``python replay_server.py PORT``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from aiohttp import web
from qwen_space.protocol._chatbot import ChatbotFormat
from streams import EVENT_ID, body

HERE = Path(__file__).resolve().parent
CONFIGS = {
    "tuples": (HERE.parent / "tests" / "data" / "configs" / "gradio-5.50.0.json").read_bytes(),
    "normalised": (HERE.parent / "tests" / "data" / "configs" / "gradio-6.31.0.json").read_bytes(),
}
INFOS = {
    "tuples": (HERE / "data" / "info-5.50.0.json").read_bytes(),
    "normalised": (HERE / "data" / "info-6.31.0.json").read_bytes(),
}
CHUNK = 64 * 1024


class Replay:
    def __init__(self) -> None:
        self.format = "tuples"
        self.stream = b""

    async def scenario(self, request: web.Request) -> web.Response:
        spec = json.loads(await request.read())
        self.format = spec["format"]
        token_text = spec.get("token_text")
        self.stream = body(spec["tokens"], ChatbotFormat(spec["format"]), spec["history"], token_text=token_text)
        return web.json_response({"bytes": len(self.stream)})

    async def config(self, request: web.Request) -> web.Response:
        return web.Response(body=CONFIGS[self.format], content_type="application/json")

    async def info(self, request: web.Request) -> web.Response:
        return web.Response(body=INFOS[self.format], content_type="application/json")

    async def join(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"event_id": EVENT_ID})

    async def data(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        stream = self.stream
        for start in range(0, len(stream), CHUNK):
            await response.write(stream[start : start + CHUNK])
        await response.write_eof()
        return response

    async def ok(self, request: web.Request) -> web.Response:
        await request.read()
        return web.json_response({"success": True})


def main() -> None:
    replay = Replay()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/bench/scenario", replay.scenario)
    app.router.add_get("/config", replay.config)
    app.router.add_get("/gradio_api/info", replay.info)
    app.router.add_post("/gradio_api/queue/join", replay.join)
    app.router.add_get("/gradio_api/queue/data", replay.data)
    app.router.add_post("/gradio_api/cancel", replay.ok)
    app.router.add_post("/gradio_api/reset", replay.ok)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)


if __name__ == "__main__":
    main()
