"""``duplicate_space`` and ``qwen-space duplicate`` (the hub extra: huggingface_hub) against
a fake Hub on loopback, reached through ``$HF_ENDPOINT`` as huggingface_hub reaches the Hub."""

import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from qwen_space.client import SpaceStarting, Timeouts
from qwen_space.client.duplicate import QWEN_DEMO_SECRET, duplicate_space
from qwen_space.client.errors import HubError, SpaceNotFoundError, SpaceNotRunningError, SpaceTimeoutError

from ..cli import run_cli
from ..fake_hub import FakeHub, running_hub

SOURCE = "Qwen/Qwen2.5-Max-Demo"
COPY = "alice/Qwen2.5-Max-Demo"


@pytest.fixture
async def hub(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeHub]:
    async with running_hub() as fake:
        fake.add(SOURCE, "http://127.0.0.1:9")
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        monkeypatch.setenv("HF_TOKEN", "hf_alice_token")
        # The fake Hub's stages move per read: poll it without the real pause.
        monkeypatch.setattr("qwen_space.client.hub.space._POLL_SECONDS", 0.01)
        yield fake


async def test_a_new_copy_is_created_with_its_secrets_and_waited_for(hub: FakeHub) -> None:
    progress: list[SpaceStarting] = []
    copy = await duplicate_space(secrets={QWEN_DEMO_SECRET: "sk-dashscope"}, on_progress=progress.append)
    assert (copy.space_id, copy.created) == (COPY, True)
    [body] = hub.duplicate_bodies
    assert body["repository"] == COPY
    assert body.get("visibility", "private" if body.get("private") else None) == "private"
    assert body["secrets"] == [{"key": QWEN_DEMO_SECRET, "value": "sk-dashscope"}]
    assert "hardware" not in body  # the original's
    made = hub.spaces[COPY]
    assert made.private
    assert made.secrets == {QWEN_DEMO_SECRET: "sk-dashscope"}
    assert [event.stage for event in progress] == ["BUILDING", "BUILDING", "APP_STARTING"]
    assert all(event.space_id == COPY for event in progress)
    assert hub.spaces[COPY].reads == 4  # until it ran
    # Every call reached the Hub of $HF_ENDPOINT with the token of $HF_TOKEN.
    assert all(headers.get("Authorization") == "Bearer hf_alice_token" for _, _, headers in hub.requests)


async def test_an_existing_copy_is_reused_and_given_the_secrets_and_hardware(hub: FakeHub) -> None:
    hub.add(COPY, "http://127.0.0.1:9", private=True, secrets={QWEN_DEMO_SECRET: "old"})
    copy = await duplicate_space(secrets={QWEN_DEMO_SECRET: "new", "OTHER": "x"}, hardware="cpu-upgrade")
    assert (copy.space_id, copy.created) == (COPY, False)
    assert hub.duplicate_bodies == []
    assert hub.spaces[COPY].secrets == {QWEN_DEMO_SECRET: "new", "OTHER": "x"}
    assert hub.hardware_requests == [(COPY, "cpu-upgrade")]


async def test_a_copy_under_another_name_public_on_other_hardware(hub: FakeHub) -> None:
    copy = await duplicate_space(SOURCE, "my-qwen", private=False, hardware="cpu-upgrade")
    assert copy.space_id == "alice/my-qwen"
    [body] = hub.duplicate_bodies
    assert body["repository"] == "alice/my-qwen"
    assert body.get("visibility", "private" if body.get("private") else "public") == "public"
    assert body["hardware"] == "cpu-upgrade"
    assert not hub.spaces["alice/my-qwen"].private


async def test_a_copy_in_a_namespace_the_token_cannot_write(hub: FakeHub) -> None:
    with pytest.raises(HubError) as caught:
        await duplicate_space(SOURCE, "bob/qwen")
    assert caught.value.status == 403
    assert "bob/qwen" not in hub.spaces


async def test_an_unknown_source(hub: FakeHub) -> None:
    with pytest.raises(SpaceNotFoundError, match="nobody/nothing"):
        await duplicate_space("nobody/nothing")
    assert hub.duplicate_bodies == []


async def test_no_token_no_request(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(HubError, match="needs a Hugging Face token with write access"):
        await duplicate_space()
    assert hub.requests == []


async def test_a_refused_token(hub: FakeHub) -> None:
    with pytest.raises(HubError, match="refused the request for your account: Invalid user token") as caught:
        await duplicate_space(hf_token="hf_wrong")
    assert caught.value.status == 401


async def test_a_copy_that_crashes_says_so(hub: FakeHub) -> None:
    hub.copy_stages = ["BUILDING", "RUNTIME_ERROR"]
    with pytest.raises(SpaceNotRunningError) as caught:
        await duplicate_space()
    assert caught.value.stage == "RUNTIME_ERROR"
    assert caught.value.space_id == COPY


async def test_a_copy_that_builds_too_long(hub: FakeHub) -> None:
    hub.copy_stages = ["BUILDING"]
    with pytest.raises(SpaceTimeoutError, match=r"still BUILDING after 0\.2 s") as caught:
        await duplicate_space(timeouts=Timeouts(start=0.2))
    assert caught.value.phase == "start"


async def test_only_running_ends_the_wait_for_a_copy(hub: FakeHub) -> None:
    hub.copy_stages = ["SOME_NEW_STAGE", "RUNNING"]
    progress: list[SpaceStarting] = []
    await duplicate_space(on_progress=progress.append)
    assert [event.stage for event in progress] == ["SOME_NEW_STAGE"]


async def test_the_command(hub: FakeHub) -> None:
    hub.copy_stages = ["APP_STARTING", "RUNNING"]
    result = await run_cli("duplicate", "--to", "my-qwen", "--public", "--secret", f"{QWEN_DEMO_SECRET}=sk-1")
    assert result.code == 0, result.err
    assert result.out == "alice/my-qwen\n"
    assert "qwen-space chat --url alice/my-qwen" in result.err
    assert hub.spaces["alice/my-qwen"].secrets == {QWEN_DEMO_SECRET: "sk-1"}
    assert "is starting (APP_STARTING)" in result.err

    again = await run_cli("duplicate", "--to", "my-qwen")
    assert again.code == 0, again.err
    assert again.out == "alice/my-qwen\n"
    assert "reusing alice/my-qwen" in again.err
    assert f"--secret {QWEN_DEMO_SECRET}=" in again.err  # the Qwen demo needs its DashScope key
    assert len(hub.duplicate_bodies) == 1

    bad = await run_cli("duplicate", "--secret", "no-equals-sign")
    assert bad.code == 2
    assert "KEY=VALUE" in bad.err


def test_the_client_never_imports_huggingface_hub() -> None:
    code = (
        "import sys, qwen_space.client as c; c.SpaceClient('Qwen/Qwen2.5-Max-Demo'); "
        "assert 'huggingface_hub' not in sys.modules, 'imported'; "
        "import qwen_space.client.duplicate; assert 'huggingface_hub' in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_public_module_exports_what_the_hub_module_does() -> None:
    import qwen_space.client.duplicate as shim
    from qwen_space.client.hub import duplicate

    assert shim.__all__ == duplicate.__all__
    assert all(getattr(shim, name) is getattr(duplicate, name) for name in shim.__all__)
