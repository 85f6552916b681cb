"""One encoding for the request bodies that carry the chat's values (``request_body``):
``queue/join`` and a chain step's ``run/predict`` send a value alike or refuse it alike,
whatever it is: a value JSON cannot carry (lone surrogate, NaN, nesting past the
recursion limit) is the caller's ChatRequestError, never a raw RecursionError."""

import json
import sys
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from qwen_space.protocol import JSONValue
from qwen_space.protocol._join import JoinRequest
from qwen_space.protocol._predict import PredictCall
from qwen_space.protocol.errors import ChatRequestError, LocalProtocolError


def deep(depth: int) -> JSONValue:
    value: JSONValue = "x"
    for _ in range(depth):
        value = [value]
    return value


values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.sampled_from(["\udc00", "\ud800x", "\u2028", "\x00"]),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=12,
)


def outcome(encode: Any) -> tuple[str, Any]:
    # "refused" comes with the message up to its first colon: "the ... request cannot be sent as JSON".
    try:
        return "sent", json.loads(encode())["data"]
    except ChatRequestError as error:
        return "refused", str(error).split(":")[0]


@given(values)
@example(float("nan"))
@example("lone \udc80")
def test_join_and_predict_send_or_refuse_a_value_alike(value: JSONValue) -> None:
    join = outcome(lambda: JoinRequest(data=[value], fn_index=0, session_hash="s").to_bytes())
    predict = outcome(lambda: PredictCall(0, [value]).to_bytes("s"))
    assert join[0] == predict[0]
    if join[0] == "sent":  # NaN is refused, so what is sent compares equal
        assert join[1] == predict[1] == [value]
    else:
        assert join[1].endswith("cannot be sent as JSON")
        assert predict[1].endswith("cannot be sent as JSON")


@pytest.mark.parametrize("value", [deep(2000), deep(sys.getrecursionlimit() * 2), float("inf"), "\ud800"])
def test_a_value_json_cannot_carry_is_the_callers_error(value: JSONValue) -> None:
    with pytest.raises(ChatRequestError):
        PredictCall(0, [value]).to_bytes("s")
    with pytest.raises(ChatRequestError):
        JoinRequest(data=[value], fn_index=0, session_hash="s").to_bytes()


def test_a_value_of_no_json_type_is_a_local_protocol_error() -> None:
    # The typing forbids it: calling code put it there, not the user.
    with pytest.raises(LocalProtocolError):
        PredictCall(0, [object()]).to_bytes("s")  # type: ignore[list-item]
    with pytest.raises(LocalProtocolError):
        JoinRequest(data=[object()], fn_index=0, session_hash="s").to_bytes()  # type: ignore[list-item]
