"""A Hugging Face Hub on loopback, reached through ``$HF_ENDPOINT``.

It answers the routes this package and huggingface_hub call, in the shapes huggingface_hub
reads (``SpaceInfo``, ``SpaceRuntime``, ``hf_raise_for_status``, ``duplicate_repo``):
``GET /api/spaces/{id}``, ``GET /api/whoami-v2``, ``POST /api/spaces/{id}/duplicate``,
``POST /api/spaces/{id}/secrets`` and ``POST /api/spaces/{id}/hardware``. A private
Space without a token, or an unknown one, is ``401``/``404`` with ``X-Error-Code:
RepoNotFound``; a bad token ``401`` with the Hub's "Invalid credentials" message.
"""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer

#: Tokens the fake Hub accepts, and whose they are.
USERS = {"hf_alice_token": "alice", "hf_bob_token": "bob"}
COPY_STAGES = ["BUILDING", "BUILDING", "APP_STARTING", "RUNNING"]


@dataclass
class HubSpace:
    space_id: str
    host: str
    #: One stage per read of the Space by the Hub API; the last one stays.
    stages: list[str] = field(default_factory=lambda: ["RUNNING"])
    #: STOPPED, whatever ``stages`` says, until someone requests the Space's host.
    asleep: bool = False
    private: bool = False
    hardware: str | None = "cpu-basic"
    sdk_version: str = "5.50.0"
    error_message: str | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    reads: int = 0

    @property
    def owner(self) -> str:
        return self.space_id.split("/")[0]

    def stage(self) -> str:
        if self.asleep:
            return "STOPPED"
        stage = self.stages[min(self.reads, len(self.stages) - 1)]
        self.reads += 1
        return stage

    def runtime(self, stage: str) -> dict[str, Any]:
        runtime: dict[str, Any] = {
            "stage": stage,
            "hardware": {"current": None if stage == "BUILDING" else self.hardware, "requested": self.hardware},
            "storage": None,
            "gcTimeout": 172800,
            "replicas": {"current": 1, "requested": 1},
            "devMode": False,
            "domains": [{"domain": self.subdomain + ".hf.space", "stage": "READY"}],
        }
        if self.error_message is not None:
            runtime["errorMessage"] = self.error_message
        return runtime

    @property
    def subdomain(self) -> str:
        return self.space_id.lower().replace("/", "-").replace(".", "-")

    def to_json(self) -> dict[str, Any]:
        return {
            "_id": "65a1b2c3d4e5f60718293a4b",
            "id": self.space_id,
            "author": self.owner,
            "sha": "0123456789abcdef0123456789abcdef01234567",
            "lastModified": "2025-01-28T16:31:10.000Z",
            "createdAt": "2025-01-28T15:58:02.000Z",
            "private": self.private,
            "gated": False,
            "disabled": False,
            "host": self.host,
            "subdomain": self.subdomain,
            "likes": 561,
            "sdk": "gradio",
            "tags": ["gradio", "region:us"],
            "cardData": {
                "title": "Qwen2.5-Max-Demo",
                "emoji": "🚀",
                "sdk": "gradio",
                "sdk_version": self.sdk_version,
                "app_file": "app.py",
                "pinned": False,
            },
            "siblings": [{"rfilename": ".gitattributes"}, {"rfilename": "README.md"}, {"rfilename": "app.py"}],
            "runtime": self.runtime(self.stage()),
        }


@dataclass
class FakeHub:
    spaces: dict[str, HubSpace] = field(default_factory=dict)
    #: Where new copies say they run, and the stages they go through.
    copy_host: str = "http://127.0.0.1:9"
    copy_stages: list[str] = field(default_factory=lambda: list(COPY_STAGES))
    #: (method, path, headers) of every request.
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    duplicate_bodies: list[dict[str, Any]] = field(default_factory=list)
    hardware_requests: list[tuple[str, str]] = field(default_factory=list)
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def add(self, space_id: str, host: str, **kwargs: Any) -> HubSpace:
        space = self.spaces[space_id] = HubSpace(space_id, host, **kwargs)
        return space

    def reads(self, space_id: str) -> int:
        return sum(path == f"/api/spaces/{space_id}" for method, path, _ in self.requests if method == "GET")

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/api/whoami-v2", self._whoami)
        app.router.add_get("/api/spaces/{owner}/{name}", self._space)
        app.router.add_post("/api/spaces/{owner}/{name}/duplicate", self._duplicate)
        app.router.add_post("/api/spaces/{owner}/{name}/secrets", self._secret)
        app.router.add_post("/api/spaces/{owner}/{name}/hardware", self._hardware)
        return app

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path, dict(request.headers)))
        try:
            response: web.StreamResponse = await handler(request)
        except _Refusal as refusal:
            return refusal.response
        return response

    def _user(self, request: web.Request) -> str | None:
        """The caller's name; raises the Hub's 401 for a token it does not know."""
        header = request.headers.get("Authorization", "")
        if not header:
            return None
        user = USERS.get(header.removeprefix("Bearer "))
        if user is None:
            raise _error(401, "Invalid credentials in Authorization header")
        return user

    def _readable(self, request: web.Request) -> HubSpace:
        space_id = f"{request.match_info['owner']}/{request.match_info['name']}"
        user = self._user(request)
        space = self.spaces.get(space_id)
        if space is None or (space.private and user != space.owner):
            # As the Hub: 401 without a token (missing and private look alike), 404 with one.
            raise _error(401 if user is None else 404, "Repository not found", code="RepoNotFound")
        return space

    async def _whoami(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if user is None:
            raise _error(401, "Invalid username or password.")
        return web.json_response({"type": "user", "id": f"id-{user}", "name": user, "fullname": user.title()})

    async def _space(self, request: web.Request) -> web.Response:
        return web.json_response(self._readable(request).to_json())

    async def _duplicate(self, request: web.Request) -> web.Response:
        source = self._readable(request)
        user = self._user(request)
        if user is None:
            raise _error(401, "You must be authenticated to duplicate a Space")
        body = json.loads(await request.read())
        self.duplicate_bodies.append(body)
        target = body["repository"]
        url = f"{self.url}/spaces/{target}"
        if target.split("/")[0] != user:
            raise _error(403, "You don't have the rights to create a Space under this namespace")
        if target in self.spaces:
            return web.json_response({"error": "You already created this space repo", "url": url}, status=409)
        private = body.get("private", body.get("visibility", "public") == "private")
        copy = self.add(
            target,
            self.copy_host,
            stages=list(self.copy_stages),
            private=bool(private),
            hardware=body.get("hardware") or source.hardware,
            secrets={item["key"]: item["value"] for item in body.get("secrets", [])},
        )
        return web.json_response({"url": url, "filesCopyPending": False, "id": copy.space_id})

    async def _secret(self, request: web.Request) -> web.Response:
        space = self._owned(request)
        body = json.loads(await request.read())
        space.secrets[body["key"]] = body["value"]
        return web.Response(status=200)

    async def _hardware(self, request: web.Request) -> web.Response:
        space = self._owned(request)
        flavor = json.loads(await request.read())["flavor"]
        self.hardware_requests.append((space.space_id, flavor))
        space.hardware = flavor
        return web.json_response(space.runtime("RUNNING"))

    def _owned(self, request: web.Request) -> HubSpace:
        space = self._readable(request)
        if self._user(request) != space.owner:
            raise _error(403, "You don't have the rights to edit this Space")
        return space


class _Refusal(Exception):
    def __init__(self, response: web.Response) -> None:
        self.response = response


def _error(status: int, message: str, *, code: str | None = None) -> _Refusal:
    headers = {"X-Error-Message": message}
    if code is not None:
        headers["X-Error-Code"] = code
    return _Refusal(web.json_response({"error": message}, status=status, headers=headers))


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[TestServer]:
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await server.close()


@asynccontextmanager
async def running_hub() -> AsyncIterator[FakeHub]:
    hub = FakeHub()
    async with serve(hub.app()) as server:
        hub.server = server
        yield hub
