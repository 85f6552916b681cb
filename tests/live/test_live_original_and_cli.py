"""The original provider's usage examples and the CLI, against the replica Space."""

import asyncio
import os
import signal
import sys
import textwrap

from ..cli import run_cli
from .conftest import Replica

# The original provider's first usage example, exactly as written, with its two import lines
# pointed at qwen_space.client. $QWEN_SPACE_URL aims it at the replica.
ORIGINAL_EXAMPLE = textwrap.dedent(
    """
    from qwen_space.client import Qwen_Qwen_2_5_Max
    from qwen_space.client import Messages

    messages = [
        {"role": "user", "content": "{prompt}"}
    ]

    async def main():
        provider = Qwen_Qwen_2_5_Max()
        async_result = await provider.create_async_generator(model="qwen-2-5-max", messages=messages)
        async for response in async_result.response:
            print(response)

    if __name__ == "__main__":
        import asyncio
        asyncio.run(main())
    """
)


async def run_example(replica: Replica, prompt: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        ORIGINAL_EXAMPLE.replace("{prompt}", prompt),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "QWEN_SPACE_URL": replica.url},
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    return out.decode()


async def test_original_example_one(replica: Replica) -> None:
    out = await run_example(replica, "Привет! Как дела?")
    # One line per chunk: the reply streamed in several (yields 10 ms apart), each
    # of whole tokens (two yields read together make one chunk).
    lines = out.splitlines()
    assert "".join(lines) == (
        "Привет! Всё отлично, спасибо, что спросили. Я готов помочь: могу ответить на вопрос, написать "
        "рассказ или объяснить что-нибудь сложное простыми словами. Как ваши дела? "
    )
    assert len(lines) >= 4
    assert all(line.endswith(" ") for line in lines)


async def test_original_example_two(replica: Replica) -> None:
    out = await run_example(replica, "Напиши рассказ про кота")
    story = "".join(out.splitlines())
    assert story.startswith("Кот Барсик жил в старом доме возле реки. ")
    assert story.endswith(" и гуляет во дворе по вечерам. 🐱 ")


async def test_cli_chat(replica: Replica) -> None:
    result = await run_cli("chat", "!tokens=5", "--url", replica.url)
    assert result.code == 0, result.err
    assert result.out == "tok0 tok1 tok2 tok3 tok4 \n"


async def test_cli_app_error_exit_code(replica: Replica) -> None:
    result = await run_cli("chat", "!fail !delay=0", "--url", replica.url)
    assert result.code == 4
    assert result.out.startswith("tok0 tok1 ")
    assert "hides its message" in result.err


async def test_cli_info_and_contract(replica: Replica) -> None:
    info = await run_cli("info", "--url", replica.url)
    assert info.code == 0, info.err
    assert f"gradio:    {replica.gradio_version}" in info.out
    check = await run_cli("contract", "check", "--url", replica.url)
    assert check.code == 0, check.out
    # The real Space is Gradio 5 with a tuples chatbot: 4.x moves the prefix and 6.x
    # the chatbot format, which the client handles: notes, failing only with --strict.
    strict = await run_cli("contract", "check", "--strict", "--url", replica.url)
    assert strict.code == (0 if replica.gradio_version.startswith("5.") else 11)


async def test_ctrl_c_cancels_the_job_and_exits_130(replica: Replica) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "qwen_space.client",
        "chat",
        "!tokens=200 !delay=0.05 !id=sigint1",
        "--url",
        replica.url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        # A background job or CI runner may have SIGINT ignored, and children inherit
        # that: start the CLI with SIGINT at its default, as a terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stdout is not None
    first = await asyncio.wait_for(process.stdout.read(5), 30)
    assert first == b"tok0 "
    process.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 130, err.decode()
    assert "cancelled" in err.decode()
    assert replica.generation_stopped("sigint1", of=200)
