"""``auth=(user, password)`` against a real Gradio app launched with ``auth=``.

The Hub's ChatInterface template replica is launched as a Space's app.py launches it,
``demo.launch(auth=...)`` (see ``LAUNCH`` for 4.44), under this environment's Gradio (4.44.1, 5.50.0, 6.31.0 in
tox's live-g4/5/6). Each release's login (gradio/routes.py ``login``) is a form POST to
``/login`` at the app's root that sets ``access-token-<id>`` and
``access-token-unsecure-<id>``; ``/config`` and the queue answer 401 without them.
"""

import os
import sys
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import aiohttp
import pytest
from qwen_space.client import AuthenticationError, SpaceClient, SyncSpaceClient

from .conftest import MAJOR, App, Replica, free_port, serving

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "ada", "lovelace-1843"
#: The template replica launched the way a Space's app.py launches it. Gradio 4.44.1's
#: launch() first checks that its page answers, and that page fails under the starlette
#: its own pins allow today (TemplateResponse's signature changed): there the same app
#: and login routes are served by uvicorn through mount_gradio_app(auth=...).
LAUNCH = """
import os, sys
sys.path.insert(0, sys.argv[1])
import gradio as gr
from tests.replicas.hub_template import build
auth, port = (os.environ["APP_USER"], os.environ["APP_PASSWORD"]), int(sys.argv[2])
if int(gr.__version__.split(".")[0]) >= 5:
    build().launch(server_name="127.0.0.1", server_port=port, auth=auth)
else:
    import uvicorn
    from fastapi import FastAPI
    app = gr.mount_gradio_app(FastAPI(), build(), path="/", auth=auth)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
"""
HELLO = [{"role": "user", "content": "Hello"}]


@pytest.fixture(scope="module")
def locked() -> Iterator[App]:
    port = free_port()
    env = {
        **os.environ,
        "GRADIO_ANALYTICS_ENABLED": "False",
        "NO_PROXY": "127.0.0.1",
        "APP_USER": USER,
        "APP_PASSWORD": PASSWORD,
    }
    url = f"http://127.0.0.1:{port}"
    # /config answers 401 before a login; the current user (none) answers 200.
    probe = f"{url}/user" if MAJOR < 5 else f"{url}/gradio_api/user"
    with serving([sys.executable, "-c", LAUNCH, str(ROOT), str(port)], probe, "the locked app", within=120, env=env):
        yield App("hub_template", Replica(url=url, log=None, gradio_version=version("gradio")))


async def test_the_login_route_and_cookies_of_this_release(locked: App) -> None:
    url = locked.replica.url
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/config") as refused:
            assert refused.status == 401
        async with http.post(f"{url}/login", data={"username": USER, "password": PASSWORD}) as answer:
            assert answer.status == 200
            names = [cookie.split("=", 1)[0] for cookie in answer.headers.getall("Set-Cookie")]
    # One token under two names: the cookie id is random, so the order of names is not sorted.
    unsecure = [
        name.removeprefix("access-token-unsecure-") for name in names if name.startswith("access-token-unsecure-")
    ]
    secure = [name.removeprefix("access-token-") for name in names if not name.startswith("access-token-unsecure-")]
    assert len(names) == 2
    assert all(name.startswith("access-token-") for name in names)
    assert unsecure == secure
    assert len(unsecure) == 1


async def test_logged_in_the_chat_works(locked: App) -> None:
    async with SpaceClient(locked.replica.url, auth=(USER, PASSWORD)) as space:
        config = await space.config()
        assert config.version == locked.replica.gradio_version
        first = await space.complete(HELLO)
        second = await space.complete(HELLO)  # the same login, the same cookie
    assert first.text == second.text == locked.expected("Hello")


def test_the_sync_client_logs_in_too(locked: App) -> None:
    with SyncSpaceClient(locked.replica.url, auth=(USER, PASSWORD)) as space:
        assert space.complete(HELLO).text == locked.expected("Hello")


async def test_a_wrong_password_is_a_refused_login(locked: App) -> None:
    async with SpaceClient(locked.replica.url, auth=(USER, "wrong")) as space:
        with pytest.raises(AuthenticationError, match="refused the login") as caught:
            await space.complete(HELLO)
    assert caught.value.status == 400
    assert "wrong" not in str(caught.value)


async def test_without_auth_the_refusal_names_auth(locked: App) -> None:
    async with SpaceClient(locked.replica.url) as space:
        with pytest.raises(AuthenticationError, match=r"auth=\(user, password\)") as caught:
            await space.complete(HELLO)
    assert caught.value.status == 401
