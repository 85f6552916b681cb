"""What the client-level tests share: the question they ask, the answer the fake Space
streams back, a retry policy that does not wait, and a bounded wait for a condition."""

import asyncio
from collections.abc import Callable

from qwen_space.client import Qwen_Qwen_2_5_Max, RetryPolicy, SpaceClient, Timeouts

from .fake_space import FakeSpace

HELLO = [{"role": "user", "content": "hi"}]
#: The pieces of the fake Space's answer to HELLO (``chat_body("hi", PIECES)``).
PIECES = ["Hel", "lo", " there", "!"]
NO_WAIT = RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0)
#: Bounds every wait for something a test expects: far beyond what it takes even on a
#: loaded machine, so that only a hang reaches it.
PATIENCE = 30.0
#: Timeouts for the tests that wait for none: they only bound a hang.
BOUNDED = Timeouts(
    connect=PATIENCE,
    config=PATIENCE,
    join=PATIENCE,
    idle=PATIENCE,
    total=2 * PATIENCE,
    cancel=PATIENCE,
    hub=PATIENCE,
    start=PATIENCE,
)


async def deltas(space: SpaceClient) -> list[str]:
    return [delta async for delta in space.chat(HELLO)]


async def until(condition: Callable[[], object], what: str, within: float = PATIENCE) -> None:
    """Until ``condition()`` holds, the event loop running meanwhile; fails after ``within`` seconds."""
    try:
        async with asyncio.timeout(within):
            while not condition():
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"{what} did not happen within {within:g} s") from None


def provider_for(space: FakeSpace) -> type[Qwen_Qwen_2_5_Max]:
    """The original provider pointed at ``space``, as gpt4free code retargets one."""

    class Mirror(Qwen_Qwen_2_5_Max):
        url = space.url

    return Mirror
