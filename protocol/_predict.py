"""A non-queued step: ``POST {api_prefix}/run/predict``, as the browser sends it.

The body is ``{"data", "fn_index", "session_hash", "trigger_id", "event_data"}``; Gradio
answers ``{"data": [...outputs], ...}``, or HTTP 500 with ``{"error": message}`` (``null``
when the app hides its errors) when the function raised. Anything else (an HTML page,
an error JSON, an empty or text body with status 200) is no answer: the step did not
run as the chat needs, and nothing may be joined after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._job import HIDDEN_ERROR_TEXT
from ._join import clip, error_for_response, is_web_page
from ._json import JSONValue, loads, request_body
from ._messages import unquote_error
from .errors import AppError, QwenSpaceError, SeedRefusedError

__all__ = ["PredictCall", "parse_predict_answer"]


@dataclass(frozen=True, slots=True)
class PredictCall:
    fn_index: int
    data: list[JSONValue]
    trigger_id: int | None = None

    def to_bytes(self, session_hash: str) -> bytes:
        body = {
            "data": self.data,
            "fn_index": self.fn_index,
            "session_hash": session_hash,
            "trigger_id": self.trigger_id,
            "event_data": None,
        }
        return request_body(body, what="the request")


def parse_predict_answer(status: int, content_type: str | None, body: bytes, *, what: str) -> list[JSONValue]:
    """The step's output values, or the typed error: :class:`AppError` when the app
    raised, :class:`SeedRefusedError` for a 200 that is not Gradio's answer, the
    :class:`SpaceHTTPError` of the status otherwise. ``what`` names the step."""
    if status == 500:
        said = _json_object(body)
        if said is not None and "error" in said and "data" not in said:
            # Gradio < 5.2 sends ``repr()`` of a gr.Error's message; the browser unquotes it.
            message = unquote_error(said["error"]) if isinstance(said["error"], str) else None
            if message:
                return _raise(
                    AppError(f"the Space reported an error in {what}: {clip(message)}", space_message=message)
                )
            return _raise(AppError(f"{what}: {HIDDEN_ERROR_TEXT}", space_message=None))
    if status != 200:
        raise error_for_response(status, content_type, body).not_retryable()
    said = None if is_web_page(content_type, body) else _json_object(body)
    data = None if said is None else said.get("data")
    if isinstance(data, list):
        return data
    if said is not None and isinstance(said.get("error"), str):
        shown = f"an error ({clip(str(said['error']), 300)})"
    elif is_web_page(content_type, body):
        shown = "a web page"
    elif not body.strip():
        shown = "an empty body"
    else:
        shown = f"{clip(body.decode('utf-8', 'replace'), 120)!r}"
    raise SeedRefusedError(
        f'the Space answered {what} (run/predict) with {shown} instead of Gradio\'s answer {{"data": [...]}}: '
        "the step did not run, so the chat stops there (a proxy or an older or changed Space answers like "
        "this); try again, and if it persists, check the Space's /config with qwen-space info"
    )


def _json_object(body: bytes) -> dict[str, JSONValue] | None:
    try:
        value = loads(body, what="a run/predict answer")
    except QwenSpaceError:
        return None
    return value if isinstance(value, dict) else None


def _raise(error: QwenSpaceError) -> list[JSONValue]:
    raise error
