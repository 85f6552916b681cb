"""A Space id resolved by a fake Hub whose ``host`` is the replica under real Gradio:
the id, the stages and the token take the Hub's path, the chat the real server's."""

from collections.abc import AsyncIterator

import pytest
from qwen_space.client import SpaceClient, SpaceStarting, Timeouts
from qwen_space.client.errors import SpaceNotRunningError
from qwen_space.protocol import Completed, TextDelta

from ..cli import run_cli
from ..fake_hub import FakeHub, running_hub
from .conftest import Replica

SPACE = "Qwen/Qwen2.5-Max-Demo"


async def quick_sleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(min(seconds, 0.05))


@pytest.fixture
async def hub(replica: Replica, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeHub]:
    async with running_hub() as fake:
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        yield fake


async def test_a_space_id_chats_with_the_host_the_hub_names(hub: FakeHub, replica: Replica) -> None:
    hub.add("alice/qwen-copy", replica.url, stages=["BUILDING", "APP_STARTING", "RUNNING"], private=True)
    async with SpaceClient("alice/qwen-copy", sleep=quick_sleep, hf_token="hf_alice_token") as space:
        events = [event async for event in space.events([{"role": "user", "content": "!tokens=5"}])]
        assert space.url == replica.url
    assert [event.stage for event in events if isinstance(event, SpaceStarting)] == ["BUILDING", "APP_STARTING"]
    text = "".join(event.text for event in events if isinstance(event, TextDelta))
    assert isinstance(events[-1], Completed)
    assert events[-1].text == text
    assert text
    assert hub.reads("alice/qwen-copy") == 3


async def test_a_broken_stage_never_reaches_the_server(hub: FakeHub, replica: Replica) -> None:
    hub.add(SPACE, replica.url, stages=["PAUSED"])
    before = replica.yields("hub-paused")
    async with SpaceClient(SPACE, timeouts=Timeouts(start=5)) as space:
        with pytest.raises(SpaceNotRunningError, match="PAUSED"):
            await space.complete([{"role": "user", "content": "!id=hub-paused !tokens=3"}])
    assert replica.yields("hub-paused") == before == 0


async def test_info_by_id(hub: FakeHub, replica: Replica) -> None:
    hub.add(SPACE, replica.url, sdk_version=replica.gradio_version)
    result = await run_cli("info", SPACE)
    assert result.code == 0, result.err
    assert f"url:       {replica.url}" in result.out
    assert "stage:     RUNNING" in result.out
    assert f"sdk:       gradio {replica.gradio_version}" in result.out
    assert f"gradio:    {replica.gradio_version}" in result.out
