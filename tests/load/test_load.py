"""Load against the replica: 300 chats at 100 concurrency, nothing lost or duplicated.

Run by tox's live-g5 and live-g6 envs (Gradio 5.50.0 and 6.31.0). Each chat has its own
prompt and expects its own answer, so a delta delivered to the wrong chat, a dropped
delta or a duplicated one all fail the test. Sized to prove that, not to measure: 100
chats in flight at once already share the Space's queue, one session stream per chat
and the client's pool; three rounds of them put every connection through reuse.
``QWEN_SPACE_LOAD_CHATS`` runs more.
"""

import asyncio
import os
import resource
import time

from qwen_space.client import SpaceClient, Timeouts
from qwen_space.protocol import Completed, TextDelta

from ..live.conftest import Replica

CHATS = int(os.environ.get("QWEN_SPACE_LOAD_CHATS", "300"))
CONCURRENCY = 100


def expected(i: int) -> str:
    return "".join(f"tok{j} " for j in range(5 + i % 11))


async def test_many_concurrent_chats_each_get_their_own_answer(replica: Replica) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)
    mismatches: list[int] = []
    async with SpaceClient(replica.url, max_connections=CONCURRENCY + 20, timeouts=Timeouts(total=600)) as space:

        async def chat(i: int) -> None:
            async with gate:
                deltas: list[str] = []
                final = None
                async for event in space.events(
                    [{"role": "user", "content": f"chat {i} !tokens={5 + i % 11} !delay=0"}]
                ):
                    if isinstance(event, TextDelta):
                        deltas.append(event.text)
                    elif isinstance(event, Completed):
                        final = event.text
                if final != expected(i) or "".join(deltas) != final:
                    mismatches.append(i)

        cpu = time.process_time()
        start = time.monotonic()
        await asyncio.gather(*(chat(i) for i in range(CHATS)))
        wall = time.monotonic() - start
        cpu = time.process_time() - cpu
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nload, Gradio {replica.gradio_version}: {CHATS} chats at {CONCURRENCY} concurrency in {wall:.1f} s "
        f"({CHATS / wall:.1f} chats/s), client CPU {cpu:.1f} s, peak RSS {rss:.0f} MiB, {len(mismatches)} wrong"
    )
    assert mismatches == []
