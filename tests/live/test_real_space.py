"""The contract suite against the real Qwen2.5-Max Space: opt-in, never in CI.

Set QWEN_SPACE_REAL=1 (and HF_TOKEN if needed) on a machine that can reach
huggingface.co. Without it these tests are skipped, and counted as nothing.
"""

import os

import pytest
from qwen_space.client import DEFAULT_URL, SpaceClient
from qwen_space.client.recording import SCENARIOS, Scenario

from ..contract_suite import check_scenario

pytestmark = pytest.mark.skipif(
    os.environ.get("QWEN_SPACE_REAL") != "1",
    reason="talks to the real Space on the internet: set QWEN_SPACE_REAL=1 to run",
)


@pytest.mark.parametrize("scenario", [s for s in SCENARIOS.values() if s.name != "long"], ids=lambda s: s.name)
async def test_real_space(scenario: Scenario) -> None:
    async with SpaceClient(DEFAULT_URL, hf_token=os.environ.get("HF_TOKEN")) as space:
        await check_scenario(space, scenario)
