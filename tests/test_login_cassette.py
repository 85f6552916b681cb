"""A session of an ``auth=`` app recorded into a cassette: the login is in it without
the user name, the password or the session cookie, and the cassette replays with or
without ``auth=`` (any credentials), nothing reaching the app."""

from pathlib import Path

import pytest
from qwen_space.client import SpaceClient
from qwen_space.client.recording import use_cassette

from .login_space import PASSWORD, TOKEN, USER, LoginSpace
from .support import PIECES, deltas


async def test_a_recorded_login_holds_no_credential_and_replays(login_space: LoginSpace, tmp_path: Path) -> None:
    path = tmp_path / "login.yaml"
    with use_cassette(path, record_mode="once"):
        async with SpaceClient(login_space.url, auth=(USER, PASSWORD)) as space:
            assert "".join(await deltas(space)) == "".join(PIECES)
    assert login_space.logins == [{"username": USER, "password": PASSWORD}]
    text = path.read_text()
    for secret in (PASSWORD, "correct+horse", "correct%20horse", TOKEN, f"username={USER}"):
        assert secret not in text
    assert "username=%5BREDACTED%5D&password=%5BREDACTED%5D" in text
    requests_seen = len(login_space.cookies_seen)
    for auth in ((USER, PASSWORD), ("someone", "another password"), None):
        with use_cassette(path):
            async with SpaceClient(login_space.url, auth=auth) as space:
                assert "".join(await deltas(space)) == "".join(PIECES), auth
    assert len(login_space.cookies_seen) == requests_seen, "a replay sends nothing to the app"


@pytest.mark.parametrize(
    ("uri", "content_type", "body", "kept"),
    [
        ("http://h/login", "application/x-www-form-urlencoded", b"username=ada&password=pw", False),
        ("http://h/behind/login", "application/x-www-form-urlencoded", b"username=ada&password=pw", False),
        # An app's own endpoint named "login" posts JSON: its body is the chat's, kept.
        ("http://h/gradio_api/run/login", "application/json", b'{"data":["username=ada&password=pw"]}', True),
    ],
)
def test_only_the_login_form_is_rewritten(uri: str, content_type: str, body: bytes, kept: bool) -> None:
    from qwen_space.client.recording import cassette_vcr
    from vcr.request import Request

    recorder = cassette_vcr("all")
    recorded = recorder.before_record_request(Request("POST", uri, body, {"Content-Type": content_type}))
    assert (recorded.body == body) is kept
    assert (b"pw" in recorded.body) is kept
