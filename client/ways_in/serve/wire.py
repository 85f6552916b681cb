"""OpenAI's wire format as ``serve`` speaks it: a chat request read and checked, the
``chat.completion`` answer and its ``chunk`` events (SSE framing included), and every
failure as OpenAI's error JSON, in words for an OpenAI client rather than a Python one.
No I/O: the app (``app.py``) reads and writes."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from ....protocol import QwenSpaceError
from ....protocol._chat_contract import OptionKind
from ....protocol.errors import (
    AppError,
    AuthenticationError,
    ChatRequestError,
    ContractMismatchError,
    FileTooLargeError,
    GPUQuotaError,
    QueueFullError,
    RateLimitedError,
    SpaceUnavailableError,
    UsageError,
)
from ...core.request import prepare_request
from ...errors import (
    ClientClosedError,
    EmptyReplyError,
    InvalidMessagesError,
    ReplyRewrittenError,
    SpaceConnectionError,
    SpaceTimeoutError,
)

__all__ = [
    "MAX_BODY",
    "Asked",
    "ChunkFormat",
    "Refusal",
    "internal_error",
    "json_bytes",
    "openai_words",
    "parse_request",
    "refusal_for",
    "too_large",
]

# Files come as base64 data URLs, a third larger than the file: 64 MiB carries a file of
# about 47 MiB, or several smaller ones, beside a conversation at the client's prompt
# limit (400,000 characters, up to 2.4 MB with non-ASCII text escaped as \uXXXX). The
# body is held in memory while it is read, so the cap is also what one request may cost.
MAX_BODY = 64 << 20

# Retry-After hints (seconds): a full queue drains in seconds, a sleeping or restarting
# Space takes about a minute to answer again, the Spaces proxy's rate limit resets within a minute.
_RETRY_QUEUE_FULL = 5
_RETRY_ASLEEP = 30
_RETRY_RATE_LIMITED = 20
# The longest Retry-After every OpenAI SDK release waits for before retrying (newer ones
# wait up to 120 s; older ones ignore a longer one and retry within seconds).
_SDK_WAITS = 60


class Refusal(Exception):
    """An OpenAI-style error answer: status, message, type, code, param, extra headers."""

    def __init__(
        self,
        status: int,
        message: str,
        kind: str,
        code: str,
        headers: Mapping[str, str] | None = None,
        *,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.kind = kind
        self.code = code
        self.param = param
        self.headers = dict(headers or {})

    def body(self, scrub: Callable[[str], str]) -> dict[str, Any]:
        error = {"message": scrub(self.message), "type": self.kind, "param": self.param, "code": self.code}
        return {"error": error}

    def event(self, scrub: Callable[[str], str]) -> bytes:
        """The failure of a stream already under way, as an SSE ``error`` event."""
        return b"event: error\ndata: " + json_bytes(self.body(scrub)) + b"\n\n"


def json_bytes(value: object) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    try:
        return text.encode()
    except UnicodeEncodeError:
        # A lone surrogate (valid in JSON text from the Space, not in UTF-8): JSON's
        # \u escapes carry it unchanged.
        return json.dumps(value, separators=(",", ":")).encode()


def _json_string(text: str) -> bytes:
    """``text`` as a JSON string: orjson, made once per token, where ``json.dumps`` with
    options builds an encoder at every call; a lone surrogate goes to :func:`json_bytes`."""
    try:
        return orjson.dumps(text)
    except orjson.JSONEncodeError:
        return json_bytes(text)


class ChunkFormat:
    """The ``chat.completion`` answer and its ``chunk`` events, with the parts that
    never change encoded once."""

    def __init__(self, completion_id: str, created: int, model: str) -> None:
        self._id, self._created, self._model = completion_id, created, model
        self._prefix = (
            b"data: " + json_bytes(self.head("chat.completion.chunk"))[:-1] + b',"choices":[{"index":0,"delta":'
        )

    def head(self, kind: str) -> dict[str, Any]:
        return {"id": self._id, "object": kind, "created": self._created, "model": self._model}

    def delta(self, text: str, *, first: bool = False, reasoning: bool = False) -> bytes:
        # reasoning_content: the field OpenAI-compatible reasoning APIs stream thoughts in.
        field = b'"reasoning_content":' if reasoning else b'"content":'
        role = b'{"role":"assistant",' if first else b"{"
        return self._prefix + role + field + _json_string(text) + b'},"finish_reason":null}]}\n\n'

    def stop(self) -> bytes:
        return self._prefix + b'{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'

    def completion(self, text: str, reasoning: str) -> dict[str, Any]:
        message = {"role": "assistant", "content": text}
        if reasoning:
            message["reasoning_content"] = reasoning
        # usage stays null: the Space reports no token counts and counting them needs
        # Qwen's tokenizer, which this package does not ship (docs/ways-in.md).
        choice = {"index": 0, "message": message, "finish_reason": "stop"}
        return {**self.head("chat.completion"), "choices": [choice], "usage": None}


class Asked:
    """What a chat request asks for, checked before anything is sent to the Space."""

    __slots__ = ("messages", "model", "sampling", "stream")

    def __init__(
        self, model: str, messages: list[Any], stream: bool, sampling: dict[OptionKind, tuple[str, float]]
    ) -> None:
        self.model, self.messages, self.stream = model, messages, stream
        #: OpenAI's sampling and length parameters given, by the input kind they go to: (param, value).
        self.sampling = sampling


def _invalid(message: str, code: str = "invalid_request", param: str | None = None) -> Refusal:
    return Refusal(400, message, "invalid_request_error", code, param=param)


def too_large() -> Refusal:
    return Refusal(
        413,
        f"the request body is larger than this server's limit of {MAX_BODY >> 20} MiB; the Space takes "
        "400,000 characters at most: drop or summarise earlier turns, and send smaller files",
        "invalid_request_error",
        "request_too_large",
    )


def parse_request(raw: bytes) -> Asked:
    """The model, messages, stream flag and sampling parameters of a chat request body."""
    try:
        body = json.loads(raw)
    except RecursionError:
        raise _invalid("the request body is JSON nested too deeply to be a chat request", "invalid_json") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise _invalid(f"the request body is not JSON ({exc})", "invalid_json") from None
    if not isinstance(body, dict):
        raise _invalid("the request body must be a JSON object")
    model, messages = body.get("model"), body.get("messages")
    if not isinstance(model, str) or not model:
        raise _invalid("'model' is required: GET /v1/models lists the models this server serves", param="model")
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _invalid("'stream' must be true or false", param="stream")
    _refuse_what_cannot_be_honoured(body)
    sampling = _sampling(body)
    if isinstance(messages, list):
        # OpenAI's newer name for system messages (sent by its newer clients and SDKs).
        messages = [
            {**message, "role": "system"}
            if isinstance(message, dict) and message.get("role") == "developer"
            else message
            for message in messages
        ]
    if not isinstance(messages, list):
        # The library takes a plain string as one user message; OpenAI's API does not.
        raise _invalid("'messages' must be an array of message objects", "invalid_messages", "messages")
    try:
        prepare_request(_text_only(messages))
    except InvalidMessagesError as error:
        raise _invalid(openai_words(error.message), "invalid_messages", "messages") from None
    return Asked(model, messages, bool(stream), sampling)


def _text_only(messages: object) -> object:
    """``messages`` with their file parts checked and left out (the client uploads them;
    here only the text is checked), so that a question made of a file alone is not empty."""
    if not isinstance(messages, list):
        return messages
    kept: list[object] = []
    for position, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            parts = [_file_checked(part, position) for part in content]
            texts = [part for part in parts if part is not None]
            message = {**message, "content": texts or [{"type": "text", "text": "(a file)"}]}
        kept.append(message)
    return kept


def _file_checked(part: object, position: int) -> object | None:
    """``part`` if it is not a file part; ``None`` for a file part this server can pass on."""
    if not isinstance(part, dict) or part.get("type") not in ("image_url", "file"):
        return part
    where = f"messages[{position}]"
    if part["type"] == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else None
        if not isinstance(url, str) or not url.startswith("data:"):
            shown = url[:60] if isinstance(url, str) else json.dumps(url)[:60]
            raise _invalid(
                f"{where} has an image_url part whose url is not a data URL ({shown!r}): this server never fetches "
                "URLs from its own network; send the image itself as data:image/...;base64,...",
                "image_url_not_data",
                "messages",
            )
        return None
    file = part.get("file")
    data = file.get("file_data") if isinstance(file, dict) else None
    if not isinstance(data, str) or not data.startswith("data:"):
        raise _invalid(
            f"{where} has a file part without file_data as a data URL (file ids of OpenAI's Files API are not "
            "known here); send the file as file_data: data:...;base64,... with its filename",
            "file_not_data",
            "messages",
        )
    return None


def _sampling(body: Mapping[str, Any]) -> dict[OptionKind, tuple[str, float]]:
    """OpenAI's ``temperature``, ``top_p`` and token limit given (``null`` is not given),
    checked as OpenAI checks their types; ``max_completion_tokens`` (OpenAI's newer
    name) wins over ``max_tokens``."""
    found: dict[OptionKind, tuple[str, float]] = {}
    for kind, param, whole in (
        (OptionKind.TEMPERATURE, "temperature", False),
        (OptionKind.TOP_P, "top_p", False),
        (OptionKind.MAX_TOKENS, "max_tokens", True),
        (OptionKind.MAX_TOKENS, "max_completion_tokens", True),
    ):
        value = body.get(param)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) or value != value:
            number = "a whole number" if whole else "a number"
            raise _invalid(f"{param!r} must be {number}, got {json.dumps(value)[:100]}", param=param)
        found[kind] = (param, value)
    return found


def _refuse_what_cannot_be_honoured(body: Mapping[str, Any]) -> None:
    """Refuse the parameters whose answer would be wrong if ignored (sampling
    parameters, or tools the model may but need not call, are ignored: docs/ways-in.md)."""
    n = body.get("n")
    if n is not None and (type(n) is not int or n != 1):
        raise _invalid(
            "'n' must be 1: the Space gives one answer per request; send n requests for n answers",
            "unsupported_parameter",
            "n",
        )
    for param, forced in (("tool_choice", body.get("tool_choice")), ("function_call", body.get("function_call"))):
        if forced == "required" or isinstance(forced, dict):
            raise _invalid(
                f"{param!r} asks for a tool call, which the Space's model cannot make (it answers with text only); "
                f"leave {param!r} out or set it to 'auto' or 'none'",
                "unsupported_parameter",
                param,
            )


# Advice the client's errors give a Python caller or a CLI user (a keyword argument, a
# flag, a method): an OpenAI client can follow none of it, so it is cut from what it reads.
_ADVICE = re.compile(
    r"\b(?:allow_empty|hf_token|endpoint|system|options|timeouts)=|\bTimeouts\(|\bevents\(\)|\bfinal_text\b"
    r"|\bHF_TOKEN\b|(?<![\w-])--[a-z]|\bin Python\b|\bon the CLI\b"
)
_PARENTHESIS = re.compile(r"\s*\([^()]*\)")
# Clauses end at a semicolon, before ", or", and at a sentence's end; the separators are kept.
_CLAUSES = re.compile(r"(;\s+|,\s+or\s+|(?<=\.)\s+(?=[A-Za-z]))")


def openai_words(message: str) -> str:
    """``message`` without the clauses that advise a Python caller or a CLI user."""
    message = _PARENTHESIS.sub(lambda found: "" if _ADVICE.search(found.group()) else found.group(), message)
    parts = _CLAUSES.split(message)
    kept = [parts[0]] if not _ADVICE.search(parts[0]) else []
    for separator, clause in zip(parts[1::2], parts[2::2], strict=True):
        if not _ADVICE.search(clause):
            kept += [separator, clause] if kept else [clause]
    return "".join(kept).rstrip(" ;,:") or "the Space could not answer"


def refusal_for(error: QwenSpaceError, params: Mapping[str, str] | None = None) -> Refusal:
    """The OpenAI-style answer for a failure of the Space (docs/ways-in.md has the table).
    What the client's own retries judged not worth repeating says so to the OpenAI SDK
    (``x-should-retry``), which otherwise retries any 5xx twice: a failed job would run
    three times. A request the Space's inputs cannot take is the caller's to change: a
    400 naming the parameter (``params``: which one set each input label)."""
    headers = {} if error.retryable else {"x-should-retry": "false"}
    if isinstance(error, GPUQuotaError):
        return _quota_refusal(error)
    if isinstance(error, AppError):
        # The Space's own words, which are for whoever asked it.
        return Refusal(502, f"the Space failed: {error}", "server_error", "space_app_error", headers)
    message = openai_words(str(error))
    if isinstance(error, ChatRequestError):
        param = (params or {}).get(error.label or "")
        if param is not None:
            message = f"{param!r} goes to the Space's input {error.label!r}: {message}"
        return _invalid(message, "unsupported_parameter", param or "messages")
    if isinstance(error, UsageError):
        # The request's content the client refused before sending anything (a file over
        # its size cap, a part it cannot send).
        code = "invalid_messages" if isinstance(error, InvalidMessagesError) else "invalid_request"
        if isinstance(error, FileTooLargeError):
            code = "file_too_large"
        return _invalid(message, code, "messages")
    found = _unavailable(error, message)
    if found is not None:
        return found
    if isinstance(error, EmptyReplyError):
        return Refusal(502, message, "server_error", "space_empty_reply", headers)
    if isinstance(error, ReplyRewrittenError):
        return Refusal(502, message, "server_error", "space_rewrote_reply", headers)
    if isinstance(error, AuthenticationError):
        message = (
            f"the Space refused this server as unauthorised (HTTP {error.status}: {error.detail or 'no detail'}); "
            "the Hugging Face token this server was started with, or its login to the app, has no access to it"
        )
        return Refusal(502, message, "server_error", "space_refused_server", headers)
    if isinstance(error, ContractMismatchError):
        message = f"this server cannot use the Space's chat: {message} (its log says more)"
        return Refusal(502, message, "server_error", "space_api_changed", headers)
    if isinstance(error, SpaceTimeoutError):
        return Refusal(504, message, "server_error", "space_timeout", headers)
    if isinstance(error, ClientClosedError):
        message = "qwen-space serve is stopping: this answer was cut short and its job cancelled on the Space"
        return Refusal(503, message, "server_error", "server_stopping", headers)
    return Refusal(502, message, "server_error", "space_error", headers)


def _quota_refusal(error: GPUQuotaError) -> Refusal:
    """A ZeroGPU quota answer as OpenAI's rate limit: 429 with the wait the Space named
    as ``Retry-After`` (whole seconds, rounded up). The OpenAI SDK retries a 429 at once
    unless told: it is told to retry only a wait it will honour (up to a minute); a
    longer or unknown wait is the caller's to keep, and a retry within seconds would be
    refused again (docs/ways-in.md)."""
    wait = None if error.retry_after is None else math.ceil(error.retry_after)
    headers = {"x-should-retry": "true" if wait is not None and 1 <= wait <= _SDK_WAITS else "false"}
    if wait is not None and wait >= 1:
        headers["Retry-After"] = str(wait)
    used = ""
    if error.requested is not None and error.left is not None:
        used = f" ({error.requested:g} s of GPU time asked for, {error.left:g} s left)"
    when = f"retry in {wait} s" if wait is not None and wait >= 1 else "retry later"
    whose = {
        True: "the quota is that of the Hugging Face account whose token this server sends",
        False: "this server sends no Hugging Face token, so the quota is the anonymous one of its address; "
        "the server's operator can give it an account's token, which has its own, larger quota",
        None: "a Hugging Face account has its own quota, used when this server sends its token",
    }[error.token_sent]
    message = f"the Space's ZeroGPU GPU quota is used up{used}; {when}. {whose[0].upper()}{whose[1:]}"
    return Refusal(429, message, "requests", "rate_limit_exceeded", headers)


def _unavailable(error: QwenSpaceError, message: str) -> Refusal | None:
    """The answers for a Space that cannot take the job now (nothing ran on it)."""
    if isinstance(error, QueueFullError):
        headers = {"Retry-After": str(_RETRY_QUEUE_FULL)}
        return Refusal(503, message, "server_error", "space_queue_full", headers)
    if isinstance(error, RateLimitedError):
        headers = {"Retry-After": str(_RETRY_RATE_LIMITED)}
        return Refusal(429, message, "rate_limit_error", "space_rate_limited", headers)
    if isinstance(error, (SpaceUnavailableError, SpaceConnectionError)):
        # Nothing reached the Space, so a retry is safe, and a Space that restarts or
        # wakes answers again within a minute: the SDK's two retries, paced by
        # Retry-After, ride that out (docs/ways-in.md).
        headers = {"Retry-After": str(_RETRY_ASLEEP), "x-should-retry": "true"}
        return Refusal(503, message, "server_error", "space_unavailable", headers)
    return None


def internal_error() -> Refusal:
    return Refusal(
        500,
        "qwen-space serve failed on this request (a bug: please report it with the server's log)",
        "server_error",
        "internal_error",
    )
