"""The pytest plugin, used the way a user would: pytester runs a user's test file."""

import asyncio

import pytest
from qwen_space.client.recording import bundled_cassette

from .fake_space import FakeSpace, JoinAnswer, chat_body, script

pytestmark = pytest.mark.installed

pytest_plugins = ["pytester"]


def run_user_tests(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """pytest on the user's files, in this process (a session of its own, with the
    plugin loaded from its entry point as in any user's run)."""
    options = ("-p", "asyncio", "-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function")
    return pytester.runpytest_inprocess(*options, *args)


USER_TEST = """
import pytest

@pytest.mark.qwen_space_cassette("bundled:gradio-5.50.0/hello.yaml")
async def test_greeting(qwen_space):
    completion = await qwen_space.complete([{"role": "user", "content": "Hello! Who are you?"}])
    assert completion.text.startswith("Hello! I am Qwen, a large language model created by Alibaba Cloud.")
    assert completion.text.endswith(" What would you like to talk about? ")

@pytest.mark.qwen_space_cassette("bundled:gradio-5.50.0/hello.yaml")
async def test_other_prompt_is_not_served(qwen_space):
    from qwen_space.client.errors import CassetteError
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
    result = run_user_tests(pytester)
    result.assert_outcomes(passed=3)


def test_missing_cassette_fails_clearly(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_user="""
async def test_needs_recording(qwen_space):
    await qwen_space.complete([{"role": "user", "content": "hi"}])
"""
    )
    result = run_user_tests(pytester)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*no cassette at*test_needs_recording.yaml*`pytest --qwen-space-record`*"])


RECORDING_TEST = """
import pytest

@pytest.mark.qwen_space_cassette("local.yaml")
async def test_greeting(qwen_space):
    completion = await qwen_space.complete([{"role": "user", "content": "Hello! Who are you?"}])
    assert completion.text == "Hello"
"""


async def run_recording(pytester: pytest.Pytester, url: str) -> pytest.RunResult:
    # In a thread: the fake Space answers from this test's event loop meanwhile.
    return await asyncio.to_thread(run_user_tests, pytester, "--qwen-space-record", f"--qwen-space-url={url}")


async def test_recording_against_a_failing_space_keeps_the_cassette(
    pytester: pytest.Pytester, fake_space: FakeSpace
) -> None:
    local = pytester.path / "local.yaml"
    local.write_bytes(bundled_cassette("gradio-6.31.0/hello.yaml").read_bytes())
    before = local.read_bytes()
    fake_space.joins = [JoinAnswer(status=500, body=b"down") for _ in range(8)]
    pytester.makepyfile(test_user=RECORDING_TEST)
    result = await run_recording(pytester, fake_space.url)
    result.assert_outcomes(failed=1)
    assert local.read_bytes() == before
    assert sorted(p.name for p in pytester.path.iterdir() if p.name.startswith(".local")) == []


async def test_a_failing_test_does_not_replace_its_cassette(pytester: pytest.Pytester, fake_space: FakeSpace) -> None:
    local = pytester.path / "local.yaml"
    local.write_bytes(bundled_cassette("gradio-6.31.0/hello.yaml").read_bytes())
    before = local.read_bytes()
    # The Space answers, but not what the test expects: the recording is not kept.
    fake_space.stream = script(*chat_body("Hello! Who are you?", ["Good", "bye"]))
    pytester.makepyfile(test_user=RECORDING_TEST)
    result = await run_recording(pytester, fake_space.url)
    result.assert_outcomes(failed=1)
    assert local.read_bytes() == before


async def test_recording_then_replaying(pytester: pytest.Pytester, fake_space: FakeSpace) -> None:
    local = pytester.path / "local.yaml"
    local.write_text("an old recording", encoding="utf-8")
    fake_space.stream = script(*chat_body("Hello! Who are you?", ["Hel", "lo"]))
    pytester.makepyfile(test_user=RECORDING_TEST)
    recorded = await run_recording(pytester, fake_space.url)
    recorded.assert_outcomes(passed=1)
    assert "Hello" in local.read_text(encoding="utf-8")
    opened = fake_space.data_opens
    replayed = await asyncio.to_thread(run_user_tests, pytester)
    replayed.assert_outcomes(passed=1)
    assert fake_space.data_opens == opened


async def test_record_mode_replays_the_bundled_cassettes(pytester: pytest.Pytester, fake_space: FakeSpace) -> None:
    # A suite that mixes bundled cassettes and its own: recording it records its own
    # and replays the bundled ones (never re-recorded), so it ends green.
    bundled = bundled_cassette("gradio-5.50.0/hello.yaml")
    before = bundled.read_bytes()
    local = pytester.path / "local.yaml"
    fake_space.stream = script(*chat_body("Hello! Who are you?", ["Hel", "lo"]))
    pytester.makepyfile(
        test_user=RECORDING_TEST
        + """

@pytest.mark.qwen_space_cassette("bundled:gradio-5.50.0/hello.yaml")
async def test_bundled(qwen_space):
    completion = await qwen_space.complete([{"role": "user", "content": "Hello! Who are you?"}])
    assert completion.text.startswith("Hello! I am Qwen")
"""
    )
    result = await run_recording(pytester, fake_space.url)
    result.assert_outcomes(passed=2)
    assert bundled.read_bytes() == before
    assert "Hello" in local.read_text(encoding="utf-8")
    assert len(fake_space.join_bodies) == 1, "only the test's own cassette was recorded"
