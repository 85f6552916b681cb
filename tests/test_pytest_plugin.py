"""The pytest plugin, used the way a user would: pytester runs a user's test file."""

import pytest
from qwen_space.client import bundled_cassette

pytest_plugins = ["pytester"]

USER_TEST = """
import pytest

@pytest.mark.qwen_space_cassette("bundled:gradio-5.50.0/hello.yaml")
async def test_greeting(qwen_space):
    completion = await qwen_space.complete([{"role": "user", "content": "Hello! Who are you?"}])
    assert completion.text.startswith("Hello! I am Qwen, a large language model created by Alibaba Cloud.")
    assert completion.text.endswith(" What would you like to talk about? ")

@pytest.mark.qwen_space_cassette("bundled:gradio-5.50.0/hello.yaml")
async def test_other_prompt_is_not_served(qwen_space):
    from qwen_space.client import CassetteError
    with pytest.raises(CassetteError):
        await qwen_space.complete([{"role": "user", "content": "Something else"}])

@pytest.mark.qwen_space_cassette("local.yaml")
async def test_local_cassette(qwen_space):
    completion = await qwen_space.complete([{"role": "user", "content": "Hello! Who are you?"}])
    assert completion.text.startswith("Hello! I am Qwen")
"""


def test_user_tests_replay_cassettes(pytester: pytest.Pytester) -> None:
    (pytester.path / "local.yaml").write_bytes(bundled_cassette("gradio-6.31.0/hello.yaml").read_bytes())
    pytester.makepyfile(test_user=USER_TEST)
    result = pytester.runpytest_subprocess("-p", "asyncio", "-o", "asyncio_mode=auto")
    result.assert_outcomes(passed=3)


def test_missing_cassette_fails_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
async def test_needs_recording(qwen_space):
    await qwen_space.complete([{"role": "user", "content": "hi"}])
"""
    )
    result = pytester.runpytest_subprocess("-p", "asyncio", "-o", "asyncio_mode=auto")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no cassette at*test_needs_recording.yaml*`pytest --qwen-space-record`*"])
