"""The contract suite: one set of checks, run offline on every cassette
(tests/test_cassettes.py), live against the replica under each Gradio version
(tests/live/test_live_contract.py), and against the real Space when
QWEN_SPACE_REAL=1 (tests/live/test_real_space.py)."""

from qwen_space.client import QWEN_CONTRACT, SpaceClient, SpaceStarting
from qwen_space.client.recording import Scenario
from qwen_space.protocol import (
    ChatEvent,
    Completed,
    Correction,
    Failed,
    QueuePosition,
    Started,
    TextDelta,
    check_contract,
)
from qwen_space.protocol.errors import AppError


async def check_scenario(space: SpaceClient, scenario: Scenario) -> list[ChatEvent | SpaceStarting]:
    """Run ``scenario`` and check what every conforming Space session must satisfy."""
    config = await space.config()
    assert not [d for d in check_contract(config, QWEN_CONTRACT) if d.breaking]
    events = [event async for event in space.events(scenario.messages)]
    last = events[-1]
    assert sum(isinstance(e, (Completed, Failed)) for e in events) == 1, "exactly one end"
    assert isinstance(last, (Completed, Failed))
    kinds = [type(e) for e in events]
    if Started in kinds:
        assert all(k is not QueuePosition for k in kinds[kinds.index(Started) :]), "no queue position after start"
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert not [e for e in events if isinstance(e, Correction)]
    if scenario.fails:
        assert isinstance(last, Failed)
        assert isinstance(last.error, AppError)
        assert last.error.partial_text == text
        assert str(last.error), "a failure always says something"
    else:
        assert isinstance(last, Completed), last
        assert last.text == text
        assert text.strip(), "never a silent empty answer"
    return events
