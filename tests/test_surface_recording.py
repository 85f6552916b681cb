"""``record_scenarios`` reads each chat with ``complete()``: the client's one policy
decides what counts as a reply, and an expected failure is the app's ``AppError``."""

from pathlib import Path

import pytest
from qwen_space.client import AppError
from qwen_space.client.errors import EmptyReplyError
from qwen_space.client.recording import record_scenarios

from .fake_space import CLOSE_STREAM, EVENT_ID, FakeSpace, chat_body, completed, script, sse, tuples_chat

STARTED = sse({"msg": "process_starts", "event_id": EVENT_ID, "eta": None})


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


async def test_an_empty_reply_is_not_recorded_as_a_scenarios_answer(fake_space: FakeSpace, tmp_path: Path) -> None:
    fake_space.stream = script(STARTED, completed(tuples_chat("Hello! Who are you?", "")), CLOSE_STREAM)
    with pytest.raises(EmptyReplyError):
        await record_scenarios(fake_space.url, ["hello"], tmp_path)
    assert files_under(tmp_path) == set()


async def test_the_expected_failure_is_the_apps_error(fake_space: FakeSpace, tmp_path: Path) -> None:
    failure = sse(
        {"msg": "process_completed", "event_id": EVENT_ID, "output": {"error": None}, "success": False, "title": None}
    )
    fake_space.stream = script(STARTED, failure, CLOSE_STREAM)
    [(info, error)] = await record_scenarios(fake_space.url, ["error"], tmp_path)
    assert isinstance(error, AppError)
    assert info.cassette == "gradio-5.50.0/error.yaml"

    fake_space.stream = script(*chat_body("Hello! Who are you?", ["Hel", "lo"]))
    [(info, error)] = await record_scenarios(fake_space.url, ["hello"], tmp_path)
    assert error is None
    assert files_under(tmp_path) == {"gradio-5.50.0/error.yaml", "gradio-5.50.0/hello.yaml", "manifest.json"}
