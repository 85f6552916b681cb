"""Recording against a loopback server that sets cookies and receives a token."""

import re
from pathlib import Path

from qwen_space.client import SpaceClient, load_manifest, use_cassette
from qwen_space.client.recording import recorded_messages

from .fake_space import FakeSpace, chat_body, script

TOKEN = "hf_FakeTokenForRecordingTest1234567890"


async def test_recording_leaves_no_token_cookie_or_session_hash(fake_space: FakeSpace, tmp_path: Path) -> None:
    fake_space.stream = script(*chat_body("hi", ["Hel", "lo"]))
    path = tmp_path / "session.yaml"
    with use_cassette(path, record_mode="once"):
        async with SpaceClient(fake_space.url, hf_token=TOKEN) as space:
            completion = await space.complete([{"role": "user", "content": f"hi, my token is {TOKEN}"}])
    assert completion.text == "Hello"
    # The live exchange really carried the secrets...
    assert fake_space.join_headers[0]["x-hf-authorization"] == f"Bearer {TOKEN}"
    assert "cookie-secret-42" in fake_space.data_cookies[0]
    session_hash = fake_space.join_bodies[0]["session_hash"]
    # ...and the file keeps none of them.
    text = path.read_text(encoding="utf-8")
    assert TOKEN not in text
    assert "cookie-secret-42" not in text
    assert session_hash not in text
    assert not re.search(r"(?i)^\s*(authorization|x-hf-authorization|cookie|set-cookie):", text, re.MULTILINE)


async def test_recording_replays_offline(fake_space: FakeSpace, tmp_path: Path) -> None:
    fake_space.stream = script(*chat_body("hi", ["Hel", "lo"]))
    path = tmp_path / "session.yaml"
    with use_cassette(path, record_mode="once"):
        async with SpaceClient(fake_space.url) as space:
            await space.complete([{"role": "user", "content": "hi"}])
    opened = fake_space.data_opens
    with use_cassette(path):
        async with SpaceClient("http://elsewhere.invalid") as space:
            completion = await space.complete(recorded_messages(path))
    assert completion.text == "Hello"
    assert fake_space.data_opens == opened, "the replay did not touch the server"
    assert load_manifest(tmp_path) == {}
