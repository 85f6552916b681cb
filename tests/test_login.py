"""``auth=(user, password)``: the login's cookie goes to the app's origin only, never
into an error text; a refused login says so.

The Space here is the fake one with Gradio's login route as gradio/routes.py writes it
(4.44 to 6.31: a form POST to ``/login``, two cookies holding one token, one of them
``Secure``; 400 "Incorrect credentials."; a redirect when the app has no login). The
same flows against real Gradio servers are in tests/live/test_live_auth.py; what is
tested here is what a real server cannot show: a second app on another port of the
same host, which must not receive the cookie (aiohttp's cookie jar ignores ports).
"""

import json

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from qwen_space.client import SpaceClient, UsageError
from qwen_space.client.core.transport import Transport
from qwen_space.client.errors import AuthenticationError
from yarl import URL

from .login_space import PASSWORD, TOKEN, USER, LoginSpace
from .support import BOUNDED, NO_WAIT, PIECES, deltas


async def test_a_login_with_the_right_password_chats(login_space: LoginSpace) -> None:
    async with SpaceClient(login_space.url, auth=(USER, PASSWORD), timeouts=BOUNDED, retry=NO_WAIT) as space:
        assert "".join(await deltas(space)) == "".join(PIECES)
        assert "".join(await deltas(space)) == "".join(PIECES)
        assert PASSWORD not in repr(space)
    assert login_space.logins == [{"username": USER, "password": PASSWORD}]  # once per client
    assert all(TOKEN in seen for seen in login_space.cookies_seen[1:])


async def test_without_auth_the_401_names_auth(login_space: LoginSpace) -> None:
    async with SpaceClient(login_space.url, timeouts=BOUNDED, retry=NO_WAIT) as space:
        with pytest.raises(AuthenticationError, match=r"auth=\(user, password\)") as caught:
            await deltas(space)
    assert "hf_token=" in str(caught.value)


async def test_a_wrong_password_is_a_refused_login(login_space: LoginSpace) -> None:
    async with SpaceClient(login_space.url, auth=(USER, "wrong"), timeouts=BOUNDED, retry=NO_WAIT) as space:
        with pytest.raises(AuthenticationError, match="refused the login") as caught:
            await deltas(space)
    assert caught.value.status == 400
    assert "Incorrect credentials" in str(caught.value)
    assert "wrong" not in str(caught.value)
    assert login_space.join_bodies == []


async def test_an_app_without_a_login_says_to_leave_auth_out(login_space: LoginSpace) -> None:
    login_space.auth = False
    async with SpaceClient(login_space.url, auth=(USER, PASSWORD), timeouts=BOUNDED, retry=NO_WAIT) as space:
        with pytest.raises(UsageError, match="leave auth= out"):
            await deltas(space)


async def test_the_cookie_goes_to_the_apps_origin_only(login_space: LoginSpace) -> None:
    seen: list[str] = []

    async def other(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Cookie", ""))
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/config", other)
    other_app = TestServer(app, host="127.0.0.1")  # same host, another port: another origin
    await other_app.start_server()
    wire = Transport(headers={}, token=None, send_token=False, auth=(USER, PASSWORD))
    try:
        await wire.log_in(URL(login_space.url), within=30)
        await wire.send("GET", URL(login_space.url + "/config"), what="/config", phase="config", within=30)
        await wire.send("GET", other_app.make_url("/config"), what="/config", phase="config", within=30)
        assert TOKEN not in repr(wire)
    finally:
        await wire.close()
        await other_app.close()
    assert TOKEN in login_space.cookies_seen[-1]
    # Neither our header nor aiohttp's jar sent it there. (The jar does send the Space's
    # own stickiness cookie to another port of an IP host: it is no credential, and a
    # client talks to one origin.)
    assert len(seen) == 1
    assert TOKEN not in seen[0]
    assert "access-token" not in seen[0]


def test_the_login_body_is_the_form_gradio_reads() -> None:
    from qwen_space.client.core.login import login_body, login_url

    assert login_body("a b", "p&q=") == b"username=a+b&password=p%26q%3D"
    assert login_url(URL("http://h:1/app/?x=1")) == URL("http://h:1/app/login")
    assert json.dumps(login_body("u", "p").decode())  # plain ASCII


@pytest.mark.parametrize("auth", ["ada:pw", ("ada",), ("ada", "pw", "x"), ("ada", 1)])
def test_auth_is_a_pair_of_strings(auth: object) -> None:
    with pytest.raises(UsageError, match="auth= takes"):
        SpaceClient("http://127.0.0.1:9", auth=auth)  # type: ignore[arg-type]
