"""Recording against a loopback server that sets cookies and receives a token."""

import json
import re
import site
from pathlib import Path

import pytest
from qwen_space.client import SpaceClient, UsageError
from qwen_space.client.recording import (
    bundled_cassette,
    load_manifest,
    record_scenarios,
    recorded_messages,
    use_cassette,
)
from qwen_space.client.recording.cassette import safe_name

from .cli import Result, run_cli
from .fake_space import CONFIG, EVENT_ID, FakeSpace, JoinAnswer, chat_body, script, sse

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


SCENARIO_HELLO = "Hello! Who are you?"


def answering(space: FakeSpace) -> None:
    space.stream = script(*chat_body(SCENARIO_HELLO, ["Hel", "lo"]))


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


async def record(space: FakeSpace, out: Path, *extra: str) -> Result:
    return await run_cli("record", "--url", space.url, "--scenario", "hello", "--out", str(out), *extra)


async def test_a_failed_recording_leaves_the_cassette_and_manifest_as_they_were(
    fake_space: FakeSpace, tmp_path: Path
) -> None:
    answering(fake_space)
    out = tmp_path / "cassettes"
    first = await record(fake_space, out)
    assert first.code == 0, first.err
    cassette, manifest = out / "gradio-5.50.0" / "hello.yaml", out / "manifest.json"
    good, good_manifest = cassette.read_bytes(), manifest.read_bytes()
    assert b"Hello" in good
    # The Space now fails every join (the client retries a 500 a few times, then gives up).
    fake_space.joins = [JoinAnswer(status=500, body=b"boom") for _ in range(8)]
    failed = await record(fake_space, out)
    assert failed.code == 20, failed.err
    assert "Traceback" not in failed.err
    assert cassette.read_bytes() == good
    assert manifest.read_bytes() == good_manifest
    assert files_under(out) == {"gradio-5.50.0/hello.yaml", "manifest.json"}, "no temporary file is left behind"


async def test_a_successful_recording_replaces_the_cassette(fake_space: FakeSpace, tmp_path: Path) -> None:
    out = tmp_path / "cassettes"
    cassette = out / "gradio-5.50.0" / "hello.yaml"
    cassette.parent.mkdir(parents=True)
    cassette.write_text("an old recording", encoding="utf-8")
    answering(fake_space)
    result = await record(fake_space, out)
    assert result.code == 0, result.err
    assert recorded_messages(cassette)[-1] == {"role": "user", "content": SCENARIO_HELLO}
    assert set(load_manifest(out)) == {"gradio-5.50.0/hello.yaml"}
    assert files_under(out) == {"gradio-5.50.0/hello.yaml", "manifest.json"}


@pytest.mark.parametrize("version", ["../../../../x", "/etc", "a/b", "..", "x" * 500, "5.0\n\x1b[31m", ""])
async def test_the_servers_version_cannot_choose_where_the_cassette_goes(
    fake_space: FakeSpace, tmp_path: Path, version: str
) -> None:
    config = json.loads(CONFIG)
    config["version"] = version
    fake_space.config = json.dumps(config).encode()
    answering(fake_space)
    out = tmp_path / "deep" / "er" / "cassettes"
    result = await record(fake_space, out)
    assert result.code == 0, result.err
    assert files_under(tmp_path) == {
        "deep/er/cassettes/gradio-unknown/hello.yaml",
        "deep/er/cassettes/manifest.json",
    }
    assert set(load_manifest(out)) == {"gradio-unknown/hello.yaml"}


@pytest.mark.parametrize("version", ["5.50.0", "4.44.1b2", "6.0.0+local.1", "5.0.0-dev"])
def test_a_plain_version_is_kept(version: str) -> None:
    assert safe_name(version) == version


async def test_a_space_echoing_the_token_in_headers_and_bodies_never_reaches_the_file(
    fake_space: FakeSpace, tmp_path: Path
) -> None:
    token = "not-an-hf-pattern-but-a-token-7"  # tokens can be any string, not only hf_...
    caller = "Basic Y2FsbGVyOnBhc3N3b3Jk"
    echoes = {
        "X-Echo-Token": token,
        "X-Echo-Hf": f"Bearer {TOKEN}",
        "X-Echo-Auth": caller,
        "WWW-Authenticate": f'Bearer realm="{token}"',
    }
    fake_space.joins = [
        JoinAnswer(body=json.dumps({"event_id": EVENT_ID, "echo": [token, TOKEN, caller]}).encode(), headers=echoes)
    ]
    log = sse({"msg": "log", "event_id": EVENT_ID, "log": f"saw {token} and {TOKEN} and {caller}", "level": "info"})
    fake_space.stream = script(log, *chat_body("hi", ["Hel", "lo"]))
    path = tmp_path / "session.yaml"
    with use_cassette(path, record_mode="once"):
        async with SpaceClient(fake_space.url, hf_token=token, headers={"Authorization": caller}) as space:
            await space.complete([{"role": "user", "content": "hi"}])
    # The exchange really carried them...
    assert fake_space.join_headers[0]["x-hf-authorization"] == f"Bearer {token}"
    assert fake_space.join_headers[0]["Authorization"] == caller
    # ...and the written YAML holds none, in any header or body.
    text = path.read_text(encoding="utf-8")
    for secret in (token, TOKEN, caller, "Y2FsbGVyOnBhc3N3b3Jk"):
        assert secret not in text
    assert "X-Echo-Token" in text, "the header itself is kept, its value redacted"


async def test_record_scrubs_the_token_it_was_given(fake_space: FakeSpace, tmp_path: Path) -> None:
    token = "plain-secret-value-42"
    fake_space.joins = [
        JoinAnswer(body=json.dumps({"event_id": EVENT_ID, "echo": token}).encode(), headers={"X-Echo": token})
    ]
    answering(fake_space)
    out = tmp_path / "cassettes"
    result = await record(fake_space, out, "--token", token)
    assert result.code == 0, result.err
    assert fake_space.join_headers[0]["x-hf-authorization"] == f"Bearer {token}"
    assert token not in (out / "gradio-5.50.0" / "hello.yaml").read_text(encoding="utf-8")


async def test_record_out_onto_a_file_or_an_unwritable_place(fake_space: FakeSpace, tmp_path: Path) -> None:
    answering(fake_space)
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me", encoding="utf-8")
    for out, what in ((a_file, "not a directory"), (a_file / "below", "cannot"), (tmp_path / ("y" * 300), "cannot")):
        result = await record(fake_space, out)
        assert result.code == 2, result.err
        for absent in ("Traceback", "Errno"):
            assert absent not in result.err, result.err
        for present in ("--out", what):
            assert present in result.err, result.err
    assert a_file.read_text(encoding="utf-8") == "keep me"
    assert fake_space.join_bodies == [], "refused before anything was asked of the Space"


async def test_recording_into_the_installed_package_is_refused(
    fake_space: FakeSpace, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = bundled_cassette().parent.parent
    before = {p: p.read_bytes() for p in bundled.rglob("*") if p.is_file()}
    # Wherever this package lives (a wheel in site-packages, or a checkout under an
    # editable install), make its directory an installation directory, as a wheel's is.
    monkeypatch.setattr(site, "getsitepackages", lambda: [str(bundled.parent.parent)])
    # A failing Space: were the refusal gone, the atomic write would still keep the files.
    fake_space.joins = [JoinAnswer(status=500) for _ in range(8)]
    with pytest.raises(UsageError, match="installed qwen-space package") as caught:
        await record_scenarios(fake_space.url, ["hello"], bundled)
    assert "--out" in str(caught.value)
    assert {p: p.read_bytes() for p in bundled.rglob("*") if p.is_file()} == before
    assert fake_space.join_bodies == []
