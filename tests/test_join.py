import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qwen_space.protocol import JSONValue, new_session_hash
from qwen_space.protocol._join import JoinRequest, error_for_response, parse_join_response
from qwen_space.protocol.errors import (
    AuthenticationError,
    ChatRequestError,
    LocalProtocolError,
    QueueFullError,
    RateLimitedError,
    RemoteProtocolError,
    RequestRejectedError,
    ServerError,
    SpaceHTTPError,
    SpaceUnavailableError,
)

JSON = "application/json"
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Qwen2.5 Max Demo - a Hugging Face Space</title></head><body>Sleeping</body></html>"
TRACEBACK = b'Traceback (most recent call last):\n  File "routes.py", line 1\nKeyError: 7\n'


def test_request_bytes_are_exact() -> None:
    request = JoinRequest(
        data=["Привет!", [], "You are a helpful assistant."], fn_index=0, trigger_id=11, session_hash="3f9a0c1b7d2e"
    )
    assert (
        request.to_bytes()
        == (
            '{"data":["Привет!",[],"You are a helpful assistant."],"event_data":null,"fn_index":0,'
            '"trigger_id":11,"session_hash":"3f9a0c1b7d2e"}'
        ).encode()
    )


def test_simple_format_is_written_only_when_asked() -> None:
    body = json.loads(JoinRequest(data=[1], fn_index=1, session_hash="s", simple_format=True).to_bytes())
    assert body["simple_format"] is True
    assert "simple_format" not in json.loads(JoinRequest(data=[1], fn_index=1, session_hash="s").to_bytes())


_json_values: st.SearchStrategy[JSONValue] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=20,
)


def _finite(value: object) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    return True


@given(_json_values, _json_values)
def test_any_json_inputs_are_sent_as_they_are_or_refused(data: JSONValue, event_data: JSONValue) -> None:
    """The orjson fast path and the json fallback must mean the same thing: the inputs
    come back equal, and non-finite numbers (which orjson would write as null) are
    refused, never sent changed."""
    request = JoinRequest(data=[data], fn_index=0, session_hash="s", event_data=event_data)
    try:
        sent = json.loads(request.to_bytes())
    except ChatRequestError:
        assert not (_finite(data) and _finite(event_data)), "only non-finite numbers are refused"
        return
    assert sent["data"] == [data]
    assert sent["event_data"] == event_data


@pytest.mark.parametrize(
    "request_",
    [
        JoinRequest(data=[], fn_index=-1, session_hash="s"),
        JoinRequest(data=[], fn_index=0, session_hash=""),
        JoinRequest(data=[object()], fn_index=0, session_hash="s"),  # type: ignore[list-item]
    ],
)
def test_unsendable_requests_are_local_errors(request_: JoinRequest) -> None:
    with pytest.raises(LocalProtocolError):
        request_.to_bytes()


def test_accepted() -> None:
    assert parse_join_response(200, JSON, b'{"event_id":"c397602e90fc4e318704c489b9369382"}') == (
        "c397602e90fc4e318704c489b9369382"
    )


@pytest.mark.parametrize(
    ("status", "content_type", "body", "error", "says"),
    [
        (400, JSON, b'{"detail":"Session hash not found."}', RequestRejectedError, "Session hash not found."),
        (400, JSON, b'{"detail":"No function index provided."}', RequestRejectedError, "No function index provided."),
        (
            422,
            JSON,
            b'{"detail":[{"type":"missing","loc":["body","data"],"msg":"Field required","input":{}}]}',
            RequestRejectedError,
            "body.data: Field required",
        ),
        (
            422,
            JSON,
            b'{"detail":[{"type":"list_type","loc":["body","data"],"msg":"Input should be a valid list"}]}',
            RequestRejectedError,
            "Input should be a valid list",
        ),
        (
            422,
            JSON,
            b'{"detail":[{"type":"json_invalid","loc":["body",0],"msg":"JSON decode error"}]}',
            RequestRejectedError,
            "body.0: JSON decode error",
        ),
        (
            422,
            JSON,
            b'{"detail":[{"__type__":"validate","is_valid":false,"message":"need at least 3 chars","parameter_name":"x"}]}',
            RequestRejectedError,
            "input x failed validation: need at least 3 chars",
        ),
        (503, JSON, b'{"detail":"Queue is full. Max size is 6 and size is 6."}', QueueFullError, "Max size is 6"),
        (503, JSON, b'{"detail":"Queue is stopped."}', SpaceUnavailableError, "Queue is stopped."),
        (500, "text/plain; charset=utf-8", b"Internal Server Error", ServerError, "Internal Server Error"),
        (500, "text/plain; charset=utf-8", TRACEBACK, ServerError, "KeyError: 7"),
        (
            401,
            JSON,
            b'{"detail":{"error":"Not authenticated","auth_message":null}}',
            AuthenticationError,
            "Not authenticated",
        ),
        (503, "text/html; charset=utf-8", HTML_PAGE, SpaceUnavailableError, "Qwen2.5 Max Demo"),
        (502, "text/html", HTML_PAGE, SpaceUnavailableError, "asleep"),
        (404, "text/html", HTML_PAGE, SpaceUnavailableError, "HTTP 404"),
        (200, "text/html", HTML_PAGE, SpaceUnavailableError, "web page"),
        (502, None, b"", SpaceUnavailableError, "HTTP 502"),
        (429, "text/plain", b"Too Many Requests", RateLimitedError, "Too Many Requests"),
        (418, "text/plain", b"teapot", SpaceHTTPError, "HTTP 418"),
    ],
)
def test_join_errors(
    status: int, content_type: str | None, body: bytes, error: type[SpaceHTTPError], says: str
) -> None:
    with pytest.raises(error, match=says) as caught:
        parse_join_response(status, content_type, body)
    assert type(caught.value) is error
    assert caught.value.status == status


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"detail":"ok"}', b'{"event_id":null}', b'{"event_id":""}', b"\xff"],
)
def test_accepted_status_with_a_bad_body_is_a_protocol_error(body: bytes) -> None:
    with pytest.raises(RemoteProtocolError):
        parse_join_response(200, JSON, body)


def test_retryable_errors() -> None:
    assert QueueFullError("x", status=503).retryable
    assert RateLimitedError("x", status=429).retryable
    assert not RequestRejectedError("x", status=400).retryable


def test_session_hash_shape() -> None:
    value = new_session_hash()
    assert len(value) == 12
    assert set(value) <= set("0123456789abcdef")
    assert new_session_hash() != new_session_hash()


@pytest.mark.parametrize("status", [400, 422, 500])
def test_refusals_say_what_happened_without_app_advice(status: int) -> None:
    """The protocol layer names no command of an application built on it."""
    error = error_for_response(status, "text/plain", b"nope")
    assert "qwen-space" not in str(error)
    assert "/config" in str(error)
