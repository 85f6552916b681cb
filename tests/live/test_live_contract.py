"""The contract suite against the replica under this environment's Gradio version."""

import pytest
from qwen_space.client import SpaceClient
from qwen_space.client.recording import SCENARIOS, Scenario

from ..contract_suite import check_scenario
from .conftest import Replica


@pytest.mark.parametrize("scenario", SCENARIOS.values(), ids=lambda s: s.name)
async def test_scenario(replica: Replica, scenario: Scenario) -> None:
    async with SpaceClient(replica.url) as space:
        await check_scenario(space, scenario)
