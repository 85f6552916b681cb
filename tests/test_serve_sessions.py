"""The bounds of ``serve``'s live sessions (docs/ways-in.md): how many, how long, one
request at a time, and what a key compares. tests/live/test_live_serve_sessions.py runs
them through a real Gradio app whose history lives in a State."""

from typing import Any, cast

import pytest
from qwen_space.client.core.conversation import Conversation
from qwen_space.client.ways_in.serve import sessions
from qwen_space.client.ways_in.serve.sessions import Sessions, session_key
from qwen_space.client.ways_in.serve.wire import Refusal


def conversation() -> Conversation:
    return cast(Conversation, object())


def test_the_least_recently_kept_goes_first() -> None:
    kept = Sessions(limit=2)
    first, second, third = conversation(), conversation(), conversation()
    kept.keep("a", first)
    kept.keep("b", second)
    kept.keep("c", third)
    assert len(kept) == 2
    assert kept.claim("a") is None
    assert kept.claim("c") is third


def test_a_conversation_is_forgotten_after_its_idle_time(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    monkeypatch.setattr("time.monotonic", lambda: now[0])
    kept = Sessions(idle=60)
    kept.keep("old", conversation())
    now[0] += 30
    fresh = conversation()
    kept.keep("fresh", fresh)
    now[0] += 31
    assert kept.claim("old") is None
    assert kept.claim("fresh") is fresh


def test_a_claimed_conversation_is_a_409_until_released() -> None:
    kept = Sessions()
    held = conversation()
    kept.keep("k", held)
    assert kept.claim("k") is held
    with pytest.raises(Refusal) as busy:
        kept.claim("k")
    assert (busy.value.status, busy.value.code) == (409, "conversation_busy")
    kept.release("k")
    # Released without being kept again (its turn failed): gone, not busy.
    assert kept.claim("k") is None


def test_the_bound_is_read_when_a_spaces_cache_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sessions, "MAX_SESSIONS", 1)
    kept = Sessions()
    kept.keep("a", conversation())
    kept.keep("b", conversation())
    assert len(kept) == 1


def test_keys_compare_roles_and_contents_and_nothing_else() -> None:
    said: list[dict[str, Any]] = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]
    as_the_sdk_sends = [said[0], {**said[1], "refusal": None, "name": "bot"}]
    as_parts = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}, said[1]]
    key = session_key("m", {}, said)
    assert session_key("m", {}, as_the_sdk_sends) == key
    assert session_key("m", {}, as_parts) == key
    assert session_key("other", {}, said) != key
    assert session_key("m", {"Temperature": 0.2}, said) != key
    assert session_key("m", {}, [said[0], {"role": "assistant", "content": "hello "}]) != key
