"""``auth=(user, password)`` against a real Gradio app launched with ``auth=``.

The Hub's ChatInterface template replica is launched as a Space's app.py launches it,
``demo.launch(auth=...)`` (see ``LAUNCH`` in conftest.py for 4.44), under this environment's Gradio (4.44.1, 5.50.0, 6.31.0 in
tox's live-g4/5/6). Each release's login (gradio/routes.py ``login``) is a form POST to
``/login`` at the app's root that sets ``access-token-<id>`` and
``access-token-unsecure-<id>``; ``/config`` and the queue answer 401 without them.
"""

import aiohttp
import pytest
from qwen_space.client import SpaceClient, SyncSpaceClient
from qwen_space.client.errors import AuthenticationError

from .conftest import PASSWORD, USER, App

HELLO = [{"role": "user", "content": "Hello"}]


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
