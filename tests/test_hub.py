"""Space ids through the Hub API, runtime stages, tokens: SpaceClient against a fake Hub
on loopback (``$HF_ENDPOINT``) whose Spaces run on a scriptable Gradio-like server."""

import asyncio
import socket
import unicodedata
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from qwen_space.client import RetryPolicy, SpaceClient, SpaceStarting, Timeouts, UsageError
from qwen_space.client.core import io_errors, transport
from qwen_space.client.errors import (
    HubError,
    SpaceConnectionError,
    SpaceNotFoundError,
    SpaceNotRunningError,
    SpaceTimeoutError,
)
from qwen_space.client.hub.space import (
    BROKEN_STAGES,
    WAITING_STAGES,
    fetch_space_info,
    hub_transport,
    is_hugging_face_url,
    saved_token,
    token_goes_to,
)
from qwen_space.protocol import ChatEvent, Completed, TextDelta
from qwen_space.protocol.errors import SpaceUnavailableError

from .cli import run_cli
from .fake_hub import FakeHub, running_hub, serve
from .fake_space import FakeSpace, JoinAnswer, chat_body, script
from .support import BOUNDED, HELLO, PATIENCE

SPACE = "Qwen/Qwen2.5-Max-Demo"
PIECES = ["Hel", "lo"]
NO_WAIT = RetryPolicy(attempts=2, base_delay=0.0, max_delay=0.0)
HTML_PAGE = JoinAnswer(status=503, body=b"<html>Space is starting</html>", content_type="text/html")


async def quick_sleep(seconds: float) -> None:
    """The client's poll interval, shortened: the fake Hub's stages move per read, not per second."""
    await asyncio.sleep(min(seconds, 0.01))


class Host:
    """The Space's host: a FakeSpace that also serves its page, counting the visits."""

    def __init__(self, space: FakeSpace) -> None:
        self.space = space
        self.visits: list[dict[str, str]] = []
        self.hub: FakeHub | None = None

    @property
    def url(self) -> str:
        return self.space.url

    async def page(self, request: web.Request) -> web.Response:
        self.visits.append(dict(request.headers))
        assert self.hub is not None
        for space in self.hub.spaces.values():
            space.asleep = False  # a visit restarts a sleeping Space
        return web.Response(text="<html>Qwen2.5-Max</html>", content_type="text/html")


@pytest.fixture
async def host() -> AsyncIterator[Host]:
    space = FakeSpace(stream=script(*chat_body("hi", PIECES)))
    served = Host(space)
    app = space.app()
    app.router.add_get("/", served.page)
    async with serve(app) as server:
        space.server = server
        yield served


@pytest.fixture
async def hub(host: Host, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeHub]:
    async with running_hub() as fake:
        host.hub = fake
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        yield fake


def client(target: str = SPACE, **kwargs: Any) -> SpaceClient:
    options: dict[str, Any] = {"timeouts": BOUNDED, "retry": NO_WAIT, "sleep": quick_sleep, **kwargs}
    return SpaceClient(target, **options)


async def chat_events(space: SpaceClient) -> list[ChatEvent | SpaceStarting]:
    return [event async for event in space.events(HELLO)]


def text_of(events: list[ChatEvent | SpaceStarting]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextDelta))


def stages_seen(events: list[ChatEvent | SpaceStarting]) -> list[str]:
    return [event.stage for event in events if isinstance(event, SpaceStarting)]


# --- ids and URLs ----------------------------------------------------------------


async def test_space_id_resolves_to_the_hubs_host(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url)
    async with client() as space:
        assert space.url == "https://qwen-qwen2-5-max-demo.hf.space"  # the rule, until the Hub answers
        events = await chat_events(space)
        assert space.url == host.url
    assert text_of(events) == "Hello"
    assert isinstance(events[-1], Completed)
    assert hub.reads(SPACE) == 1  # once per client
    assert len(host.space.join_bodies) == 1


async def test_the_stage_is_read_once_per_client(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url)
    async with client() as space:
        for _ in range(3):
            host.space.stream = script(*chat_body("hi", PIECES))
            assert text_of(await chat_events(space)) == "Hello"
    assert hub.reads(SPACE) == 1
    assert len(host.space.join_bodies) == 3


async def test_a_url_is_used_as_given_without_the_hub(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, "http://127.0.0.1:9")
    async with client(host.url) as space:
        assert space.space_id is None
        assert text_of(await chat_events(space)) == "Hello"
        assert await space.space_info() is None
    assert hub.requests == []


class RecordingResolver(AbstractResolver):
    """Resolves every name to a closed loopback port, remembering the names."""

    def __init__(self) -> None:
        self.hosts: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        self.hosts.append(host)
        return [{"hostname": host, "host": "127.0.0.1", "port": 9, "family": socket.AF_INET, "proto": 0, "flags": 0}]

    async def close(self) -> None:
        pass


@pytest.mark.parametrize("hub_answer", ["no connection", 503, 429])
async def test_without_the_hub_the_subdomain_rule_stands_in(
    hub_answer: str | int, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=int(hub_answer), text="<html>down</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/api/spaces/{owner}/{name}", refuse)
    async with serve(app) as failing_hub:
        if hub_answer != "no connection":
            monkeypatch.setenv("HF_ENDPOINT", str(failing_hub.make_url("")).rstrip("/"))
        resolver = RecordingResolver()
        async with (
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver)) as session,
            client("Owner/My.Space", session=session) as space,
        ):
            with pytest.raises(SpaceConnectionError):
                await chat_events(space)
            assert space.url == "https://owner-my-space.hf.space"
    assert resolver.hosts == ["owner-my-space.hf.space"]


# --- stages ----------------------------------------------------------------------


@pytest.mark.parametrize("stage", sorted(WAITING_STAGES))
async def test_waiting_stages_are_waited_for_with_progress(stage: str, hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, stages=[stage, stage, "RUNNING"])
    async with client() as space:
        events = await chat_events(space)
    assert stages_seen(events) == [stage, stage]
    first_text = next(i for i, event in enumerate(events) if isinstance(event, TextDelta))
    assert all(isinstance(event, SpaceStarting) for event in events[:2])
    assert first_text > 2
    assert text_of(events) == "Hello"
    assert hub.reads(SPACE) == 3


async def test_concurrent_chats_share_one_wait(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, stages=["BUILDING", "BUILDING", "RUNNING"])
    async with client() as space:
        first, second = await asyncio.gather(chat_events(space), chat_events(space))
    assert text_of(first) == text_of(second) == "Hello"
    assert stages_seen(first) + stages_seen(second) == ["BUILDING", "BUILDING"]
    assert hub.reads(SPACE) == 3
    assert len(host.space.join_bodies) == 2


async def test_a_stage_that_changes_while_waiting(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, stages=["BUILDING", "BUILDING", "RUNNING_BUILDING", "APP_STARTING", "RUNNING"])
    async with client() as space:
        events = await chat_events(space)
    assert stages_seen(events) == ["BUILDING", "BUILDING", "RUNNING_BUILDING", "APP_STARTING"]
    waits = [event.waited for event in events if isinstance(event, SpaceStarting)]
    assert waits == sorted(waits)
    assert text_of(events) == "Hello"


async def test_a_stage_this_client_does_not_know_lets_the_space_answer(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, stages=["SOME_NEW_STAGE"])
    async with client() as space:
        events = await chat_events(space)
    assert stages_seen(events) == []
    assert text_of(events) == "Hello"


async def test_a_sleeping_space_starts_once_its_host_is_requested(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, asleep=True, stages=["APP_STARTING", "RUNNING"])
    async with client(hf_token="hf_alice_token") as space:
        events = await chat_events(space)
    assert stages_seen(events) == ["STOPPED", "APP_STARTING"]
    assert len(host.visits) == 1
    # The visit is the Space's own origin: it carries the Space's token header, not the Hub's.
    assert host.visits[0].get("x-hf-authorization") == "Bearer hf_alice_token"
    assert "Authorization" not in host.visits[0]
    assert text_of(events) == "Hello"


async def test_a_space_that_never_wakes_times_out(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, "http://127.0.0.1:9", asleep=True)  # its host cannot be reached: nothing wakes it
    async with client(timeouts=Timeouts(hub=PATIENCE, start=0.3), sleep=quick_sleep) as space:
        with pytest.raises(SpaceTimeoutError) as caught:
            await asyncio.wait_for(chat_events(space), PATIENCE)
    assert caught.value.phase == "start"
    assert "STOPPED" in str(caught.value)
    assert "0.3 s" in str(caught.value)
    assert host.space.join_bodies == []


async def test_the_start_timeout_bounds_a_long_build(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, stages=["BUILDING"])
    async with client(timeouts=Timeouts(hub=PATIENCE, start=0.2), sleep=quick_sleep) as space:
        with pytest.raises(SpaceTimeoutError, match=r"still BUILDING after 0.2 s") as caught:
            await asyncio.wait_for(chat_events(space), PATIENCE)
    assert caught.value.phase == "start"
    assert host.space.join_bodies == []


@pytest.mark.parametrize("stage", sorted(BROKEN_STAGES))
async def test_broken_stages_fail_fast_naming_the_stage(stage: str, hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, stages=[stage])
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with client(sleep=sleep) as space:
        with pytest.raises(SpaceNotRunningError) as caught:
            await chat_events(space)
    assert waits == [], "no wait for a stage that will not change by itself"
    error = caught.value
    assert error.stage == stage
    assert error.space_id == SPACE
    assert stage in str(error)
    assert "owner" in str(error) or "another Space" in str(error)
    assert hub.reads(SPACE) == 1
    assert host.space.join_bodies == []
    assert host.visits == []


async def test_a_crashed_space_says_why_and_what_to_do(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, stages=["RUNTIME_ERROR"], error_message="Exit code: 1. Reason: KeyError: 'YOUR_API_TOKEN'")
    async with client() as space:
        with pytest.raises(SpaceNotRunningError) as caught:
            await chat_events(space)
    assert caught.value.hub_message == "Exit code: 1. Reason: KeyError: 'YOUR_API_TOKEN'"
    assert "KeyError: 'YOUR_API_TOKEN'" in str(caught.value)
    assert "qwen-space duplicate" in str(caught.value)


async def test_a_page_instead_of_the_api_asks_the_hub_again(hub: FakeHub, host: Host) -> None:
    # Running when first asked; then the Space restarts under the client's feet.
    hub.add(SPACE, host.url, stages=["RUNNING", "APP_STARTING", "RUNNING"])
    host.space.joins = [HTML_PAGE, HTML_PAGE]
    async with client() as space:
        events = await chat_events(space)
    assert stages_seen(events) == ["APP_STARTING"]
    assert text_of(events) == "Hello"
    assert len(host.space.join_bodies) == 3  # two pages (the retry policy), then the job
    assert hub.reads(SPACE) == 3


async def test_a_page_from_a_running_space_is_reported_as_it_is(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url)
    host.space.joins = [HTML_PAGE, HTML_PAGE]
    async with client() as space:
        with pytest.raises(SpaceUnavailableError):
            await chat_events(space)
    assert hub.reads(SPACE) == 2  # the first check, and the one after the page


async def test_a_page_from_a_url_is_not_taken_to_the_hub(hub: FakeHub, host: Host) -> None:
    host.space.joins = [HTML_PAGE, HTML_PAGE]
    async with client(host.url) as space:
        with pytest.raises(SpaceUnavailableError):
            await chat_events(space)
    assert hub.requests == []


# --- unknown and private Spaces, tokens -----------------------------------------


async def test_an_unknown_id_says_a_private_space_needs_a_token(hub: FakeHub) -> None:
    async with client("nobody/nothing") as space:
        with pytest.raises(SpaceNotFoundError) as caught:
            await chat_events(space)
    assert caught.value.status == 401
    assert "nobody/nothing" in str(caught.value)
    assert "private Space needs a token" in str(caught.value)
    assert "Authorization" not in hub.requests[0][2]


async def test_an_unknown_id_with_a_token_points_at_the_tokens_account(hub: FakeHub) -> None:
    async with client("nobody/nothing", hf_token="hf_alice_token") as space:
        with pytest.raises(SpaceNotFoundError, match="token's account") as caught:
            await chat_events(space)
    assert caught.value.status == 404


async def test_a_private_space_without_a_token_is_not_found(hub: FakeHub, host: Host) -> None:
    hub.add("alice/private-qwen", host.url, private=True)
    async with client("alice/private-qwen") as space:
        with pytest.raises(SpaceNotFoundError, match="private Space needs a token"):
            await chat_events(space)
    assert host.space.join_bodies == []


async def test_a_token_the_hub_refuses_is_said_so(hub: FakeHub, host: Host) -> None:
    hub.add("alice/private-qwen", host.url, private=True)
    async with client("alice/private-qwen", hf_token="hf_wrong") as space:
        with pytest.raises(HubError, match="refused the token") as caught:
            await chat_events(space)
    assert not isinstance(caught.value, SpaceNotFoundError)


def write_token(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"  {token}\n", encoding="utf-8")


@pytest.mark.parametrize("source", ["hf_token=", "$HF_TOKEN", "HF_HOME/token", "$HF_TOKEN_PATH"])
async def test_a_private_space_with_a_token(
    source: str, hub: FakeHub, host: Host, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    hub.add("alice/private-qwen", host.url, private=True)
    kwargs: dict[str, Any] = {}
    if source == "hf_token=":
        kwargs["hf_token"] = "hf_alice_token"
    elif source == "$HF_TOKEN":
        monkeypatch.setenv("HF_TOKEN", "hf_alice_token")
    elif source == "HF_HOME/token":
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
        write_token(tmp_path / "hf" / "token", "hf_alice_token")
    else:
        monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "elsewhere" / "my-token"))
        write_token(tmp_path / "elsewhere" / "my-token", "hf_alice_token")
    async with client("alice/private-qwen", **kwargs) as space:
        events = await chat_events(space)
        info = await space.space_info()
    assert text_of(events) == "Hello"
    assert info is not None
    assert info.private is True
    # The Hub gets the Hub's header; the Space the header its proxy reads. Neither gets the other's.
    assert hub.requests[0][2]["Authorization"] == "Bearer hf_alice_token"
    assert "x-hf-authorization" not in {name.lower() for name in hub.requests[0][2]}
    [join_headers] = host.space.join_headers
    assert "Authorization" not in join_headers
    # The Hub placed this Space on loopback, not on Hugging Face: only a token given
    # explicitly goes there, a saved one stays home.
    if source == "hf_token=":
        assert join_headers["x-hf-authorization"] == "Bearer hf_alice_token"
    else:
        assert "x-hf-authorization" not in {name.lower() for name in join_headers}


async def test_a_saved_token_never_goes_to_a_url(hub: FakeHub, host: Host, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_alice_token")
    async with client(host.url) as space:
        assert text_of(await chat_events(space)) == "Hello"
    [join_headers] = host.space.join_headers
    assert "x-hf-authorization" not in {name.lower() for name in join_headers}


async def test_the_hub_token_does_not_follow_a_redirect_to_another_origin(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[dict[str, str]] = []

    async def elsewhere(request: web.Request) -> web.Response:
        seen.append(dict(request.headers))
        return web.json_response({"id": SPACE, "host": host.url, "runtime": {"stage": "RUNNING"}})

    other = web.Application()
    other.router.add_get("/api/spaces/{owner}/{name}", elsewhere)
    async with serve(other) as other_origin:

        async def moved(request: web.Request) -> web.Response:
            raise web.HTTPTemporaryRedirect(str(other_origin.make_url(request.path)))

        redirecting = web.Application()
        redirecting.router.add_get("/api/spaces/{owner}/{name}", moved)
        async with serve(redirecting) as first:
            monkeypatch.setenv("HF_ENDPOINT", str(first.make_url("")).rstrip("/"))
            async with client(hf_token="hf_alice_token") as space:
                assert text_of(await chat_events(space)) == "Hello"
    [headers] = seen
    assert "Authorization" not in headers


async def test_a_saved_token_goes_to_the_hub_endpoint_the_user_named(
    host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    # $HF_ENDPOINT is the user's own choice of Hub: its origin is a Hugging Face host for this client.
    monkeypatch.setenv("HF_ENDPOINT", host.url)
    monkeypatch.setenv("HF_TOKEN", "hf_alice_token")
    async with client(host.url) as space:
        assert text_of(await chat_events(space)) == "Hello"
    [join_headers] = host.space.join_headers
    assert join_headers["x-hf-authorization"] == "Bearer hf_alice_token"


async def test_a_saved_token_does_not_wake_a_space_off_hugging_face(
    hub: FakeHub, host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_alice_token")
    hub.add(SPACE, host.url, asleep=True, stages=["RUNNING"])
    async with client() as space:
        assert text_of(await chat_events(space)) == "Hello"
    [visit] = host.visits
    assert "x-hf-authorization" not in {name.lower() for name in visit}
    assert hub.requests[0][2]["Authorization"] == "Bearer hf_alice_token"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://qwen-qwen2-5-max-demo.hf.space", True),
        ("https://QWEN-demo.HF.space/gradio_api", True),
        ("https://huggingface.co", True),
        ("http://qwen-qwen2-5-max-demo.hf.space", False),
        ("http://huggingface.co", False),
        ("https://hf.space", False),
        ("https://evilhf.space", False),
        ("https://demo.hf.space.evil.example", False),
        ("https://huggingface.co.evil.example", False),
        ("https://evil.example", False),
        ("http://127.0.0.1:9", True),  # the test's $HF_ENDPOINT
        ("http://127.0.0.1:10", False),
        ("https://127.0.0.1:9", False),
        ("http://[::1", False),
    ],
)
def test_where_a_saved_token_may_go(url: str, allowed: bool) -> None:
    assert is_hugging_face_url(url) is allowed


@pytest.mark.parametrize("url", ["https://evil.example", "http://127.0.0.1:10", "https://demo.hf.space"])
def test_one_token_rule_a_given_token_goes_where_it_is_sent_a_found_one_to_hugging_face(url: str) -> None:
    # The rule the client (Space requests) and the gate (the Hub, the wake visit) share.
    assert token_goes_to(url, given=True)
    assert token_goes_to(url, given=False) is is_hugging_face_url(url)


async def test_a_found_token_does_not_go_to_a_hub_other_than_hf_endpoint(
    hub: FakeHub, host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add(SPACE, host.url)
    monkeypatch.setenv("HF_ENDPOINT", "https://huggingface.co")  # the fake Hub is then not the user's Hub
    async with hub_transport() as hub_api:
        await fetch_space_info(hub_api, SPACE, token="hf_alice_token", endpoint=hub.url)
        await fetch_space_info(hub_api, SPACE, token="hf_bob_token", token_given=True, endpoint=hub.url)
    found, given = (request[2] for request in hub.requests)
    assert "Authorization" not in found
    assert given["Authorization"] == "Bearer hf_bob_token"


async def test_cli_sends_hf_token_only_to_hugging_face_hosts(host: Host) -> None:
    # $HF_TOKEN is a token found, not given: --url on loopback does not get it; --token does.
    result = await run_cli("chat", "hi", "--url", host.url, env={"HF_TOKEN": "hf_alice_token"})
    assert result.code == 0, result.err
    host.space.stream = script(*chat_body("hi", PIECES))
    result = await run_cli("chat", "hi", "--url", host.url, "--token", "hf_bob_token")
    assert result.code == 0, result.err
    first, second = host.space.join_headers
    assert "x-hf-authorization" not in {name.lower() for name in first}
    assert second["x-hf-authorization"] == "Bearer hf_bob_token"


# --- the Hub's answer is input ---------------------------------------------------


async def test_an_endless_hub_answer_is_cut_at_a_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    sent = 0
    ceiling = 64 * 1024 * 1024
    stop = asyncio.Event()

    async def endless(request: web.Request) -> web.StreamResponse:
        nonlocal sent
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        chunk = b'{"id": "' + b"x" * (256 * 1024)
        try:
            while sent < ceiling:
                await response.write(chunk)
                sent += len(chunk)
            await stop.wait()  # then silent: only a read that stops early ends before the hub timeout
        except (ConnectionError, asyncio.CancelledError):
            pass
        return response

    app = web.Application()
    app.router.add_get("/api/spaces/{owner}/{name}", endless)
    async with serve(app) as endless_hub:
        monkeypatch.setenv("HF_ENDPOINT", str(endless_hub.make_url("")).rstrip("/"))
        async with client(timeouts=Timeouts(hub=30)) as space:
            with pytest.raises(HubError, match="larger than") as caught:
                await space.space_info()
        stop.set()
    assert caught.value.status is None
    assert sent < ceiling


@pytest.mark.parametrize("bad_host", ["http://[::1", "http://127.0.0.1:99999", "https://", "ftp://example.com"])
async def test_a_host_the_hub_names_badly_is_not_used(bad_host: str, hub: FakeHub) -> None:
    hub.add(SPACE, bad_host)
    resolver = RecordingResolver()
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver)) as session,
        client(session=session) as space,
    ):
        info = await space.space_info()
        assert info is not None
        assert info.host is None
        with pytest.raises(SpaceConnectionError):
            await space.complete(HELLO)
        assert space.url == "https://qwen-qwen2-5-max-demo.hf.space"  # the subdomain rule stands in
    assert resolver.hosts == ["qwen-qwen2-5-max-demo.hf.space"]


@pytest.mark.parametrize("url", ["http://[::1", "http://127.0.0.1:99999", "localhost:7860", "ftp://example.com"])
def test_a_bad_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError, match="Space id") as caught:
        SpaceClient(url)
    assert url in str(caught.value)


@pytest.mark.parametrize(
    "space_id",
    [
        "acme/..",
        "../x",
        "acme/.",
        "acme//x",
        "/x",
        "acme/",
        "acme/x/y",
        "acme/a..b",
        "acme/a--b",
        "acme/-x",
        "acme/x-",
        ".acme/x",
        "acme/x.",
        "acme/x.git",
        "acme/x y",
        "acme/x?y",
        "acme/x%2F..",
        "acme/\u00e9t\u00e9",
        "acme/" + "x" * 97,
    ],
)
async def test_a_malformed_space_id_is_refused_before_the_hub(space_id: str, hub: FakeHub) -> None:
    with pytest.raises(UsageError, match="OWNER/NAME") as caught:
        SpaceClient(space_id)
    assert repr(space_id) in str(caught.value)
    assert hub.requests == []


@pytest.mark.parametrize("space_id", ["Qwen/Qwen2.5-Max-Demo", "Owner/My.Space", "a/b", "_x/y_", "o/" + "x" * 96])
def test_well_formed_space_ids(space_id: str) -> None:
    assert SpaceClient(space_id).space_id == space_id


async def test_cli_refuses_a_malformed_space_id_as_a_usage_error(hub: FakeHub) -> None:
    result = await run_cli("chat", "hi", "--url", "acme/..")
    assert result.code == 2, result.err
    assert "acme/.." in result.err
    assert "Traceback" not in result.err
    assert hub.requests == []


ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m\x9b31m\x07\x08"


def assert_no_control_characters(text: str) -> None:
    bad = [char for char in text if unicodedata.category(char) == "Cc" and char not in "\n\t"]
    assert bad == [], text


async def test_cli_strips_terminal_escapes_from_what_the_hub_says(hub: FakeHub, host: Host) -> None:
    hub.add(
        SPACE,
        host.url,
        stages=["RUNTIME_ERROR"],
        hardware=f"cpu{ESCAPES}-basic",
        sdk_version=f"5.50{ESCAPES}.0",
        error_message=f"crashed{ESCAPES} here",
    )
    result = await run_cli("info", SPACE)
    assert result.code == 0, result.err
    assert_no_control_characters(result.out)
    assert "hardware:  cpu-basic" in result.out
    assert "sdk:       gradio 5.50.0" in result.out
    assert "crashed here" in result.out

    result = await run_cli("chat", "hi", "--url", SPACE)
    assert result.code == 15
    assert_no_control_characters(result.err)
    assert "crashed here" in result.err


async def test_cli_strips_terminal_escapes_from_a_hub_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.Response(status=403, text=f"forbidden{ESCAPES} by policy", content_type="text/plain")

    app = web.Application()
    app.router.add_get("/api/spaces/{owner}/{name}", refuse)
    async with serve(app) as refusing_hub:
        endpoint = str(refusing_hub.make_url("")).rstrip("/")
        result = await run_cli("chat", "hi", "--url", SPACE, env={"HF_ENDPOINT": endpoint})
    assert result.code == 16, result.err
    assert "forbidden by policy" in result.err
    assert_no_control_characters(result.err)


async def test_cli_timeout_bounds_the_wait_for_a_space_that_stays_building(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, stages=["BUILDING"])
    # Without the bound the wait is the library's default start timeout (600 s): the
    # generous limit of the run catches that; with it, the wait ends after ~1 s.
    result = await run_cli("chat", "hi", "--url", SPACE, "--timeout", "1", timeout=2 * PATIENCE)
    assert result.code == 8, result.err
    assert "BUILDING" in result.err
    assert "--timeout 1 s" in result.err
    assert "start" in result.err
    assert host.space.join_bodies == []


# --- the saved token -------------------------------------------------------------


def test_saved_token_order(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert saved_token() is None  # the test's empty HF_HOME
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("HF_HOME")
    write_token(tmp_path / "xdg" / "huggingface" / "token", "hf_from_xdg")
    assert saved_token() == "hf_from_xdg"
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    write_token(tmp_path / "home" / "token", "hf_from_home\r\n")
    assert saved_token() == "hf_from_home"
    monkeypatch.setenv("HF_TOKEN_PATH", str(tmp_path / "path"))
    write_token(tmp_path / "path", "hf_from_path")
    assert saved_token() == "hf_from_path"
    monkeypatch.setenv("HUGGING_FACE_HUB_TOKEN", "hf_legacy")
    assert saved_token() == "hf_legacy"
    monkeypatch.setenv("HF_TOKEN", "hf_env")
    assert saved_token() == "hf_env"
    monkeypatch.setenv("HF_TOKEN", " \n")
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN")
    assert saved_token() == "hf_from_path"  # a blank variable is no token: the file is next
    (tmp_path / "path").write_text("\n", encoding="utf-8")
    assert saved_token() is None


# --- the command line ------------------------------------------------------------


async def test_info_shows_stage_hardware_and_sdk(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, hardware="cpu-upgrade", sdk_version="5.13.1")
    result = await run_cli("info", SPACE)
    assert result.code == 0, result.err
    lines = dict(line.split(":", 1) for line in result.out.splitlines())
    assert lines["space"].strip() == SPACE
    assert lines["stage"].strip() == "RUNNING"
    assert lines["hardware"].strip() == "cpu-upgrade"
    assert lines["sdk"].strip() == "gradio 5.13.1"
    assert lines["url"].strip() == host.url
    assert lines["gradio"].strip() == "5.50.0"  # what the Space's own /config says
    assert hub.reads(SPACE) == 1


async def test_info_of_a_paused_space_does_not_wake_or_read_it(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, stages=["PAUSED"])
    result = await run_cli("info", SPACE)
    assert result.code == 0, result.err
    assert "stage:     PAUSED" in result.out
    assert "/config:   not read: the Space is PAUSED" in result.out
    assert host.visits == []


async def test_chat_shows_the_wait_and_names_a_broken_stage(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, stages=["APP_STARTING", "RUNNING"])
    result = await run_cli("chat", "hi", "--url", SPACE)
    assert result.code == 0, result.err
    assert result.out == "Hello\n"
    assert f"the Space {SPACE} is starting (APP_STARTING)" in result.err

    hub.add(SPACE, host.url, stages=["PAUSED"])
    result = await run_cli("chat", "hi", "--url", SPACE)
    assert result.code == 15
    assert "PAUSED" in result.err
    assert "qwen-space duplicate" in result.err

    result = await run_cli("chat", "hi", "--url", "nobody/nothing")
    assert result.code == 14
    assert "private Space needs a token" in result.err


async def test_chat_json_has_the_starting_events(hub: FakeHub, host: Host) -> None:
    hub.add(SPACE, host.url, stages=["BUILDING", "RUNNING"])
    result = await run_cli("chat", "hi", "--url", SPACE, "--json")
    assert result.code == 0, result.err
    first = result.out.splitlines()[0]
    assert first.startswith('{"type": "starting", "space_id": "Qwen/Qwen2.5-Max-Demo", "stage": "BUILDING", "waited": ')


# --- a bug of ours in the lookup is not a Hub that cannot be reached -------------------


@pytest.mark.parametrize("bug", [ValueError("our bug"), OSError("our bug")], ids=repr)
async def test_a_bug_of_ours_in_the_hub_lookup_propagates_instead_of_a_fallback(
    bug: Exception, hub: FakeHub, host: Host, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add(SPACE, host.url)
    real_read = io_errors.read_capped

    async def broken_read(response: Any, limit: int, what: str, **kwargs: Any) -> bytes:
        body = await real_read(response, limit, what, **kwargs)
        if "Hub" in what:
            raise bug  # our code, after the Hub answered
        return body

    monkeypatch.setattr(transport, "read_capped", broken_read)
    async with client() as space:
        with pytest.raises(type(bug)) as caught:
            await chat_events(space)
    assert caught.value is bug
    assert host.space.join_bodies == []  # no silent fallback to the subdomain rule


@pytest.mark.parametrize("cut", ["close mid-body", "silence"])
async def test_a_hub_that_fails_mid_answer_is_a_hub_error(cut: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def failing(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "5000"})
        await response.prepare(request)
        await response.write(b'{"id": "Qwen')
        if cut == "silence":
            await asyncio.Event().wait()
        assert request.transport is not None
        request.transport.close()
        return response

    app = web.Application()
    app.router.add_get("/api/spaces/{owner}/{name}", failing)
    async with serve(app) as failing_hub:
        monkeypatch.setenv("HF_ENDPOINT", str(failing_hub.make_url("")).rstrip("/"))
        async with client(timeouts=Timeouts(hub=0.5)) as space:
            with pytest.raises(HubError, match="could not reach the Hub") as caught:
                await space.space_info()
    assert caught.value.status is None
    assert "the Hub lookup" in str(caught.value)
