"""ZeroGPU's quota answer: an app error whose text says the GPU quota is used up.

A ZeroGPU Space runs each call on a GPU borrowed for a declared duration, counted
against a daily quota of the caller: a token's account when the request carries one,
else the anonymous quota of the caller's address. A call the quota cannot cover fails
as an app error (``gr.Error``, title "ZeroGPU quota exceeded") whose text varies by
release of the ``spaces`` package, as users' reports show:

* ``You have exceeded your GPU quota (60s requested vs. 56s left). <a ...>Create a free
  account</a> to get more usage quota.``
* ``You have exceeded your GPU quota (46s left vs. 60s requested). Sign-up on Hugging
  Face to get more quotas or retry in 0:09:48.``
* ``You have exceeded your GPU quota (60s requested vs. 0s left). Try again in 0:00:00``
* ``You have exceeded your free GPU quota (60s requested vs. 55s left)``, and ``... your
  Pro GPU quota``.

The wait is a Python ``timedelta`` as text (``H:MM:SS``, ``N day(s), H:MM:SS``); a
negative one (``-1 day, 23:59:59``, seen on a duration refusal) names no wait.
"""

from __future__ import annotations

import re

from ._events import ChatEvent, Failed
from .errors import AppError, GPUQuotaError

__all__ = ["advise_quota", "app_error", "quota_error"]

_QUOTA = re.compile(r"exceeded your (?:[\w-]+ )?GPU quota", re.IGNORECASE)
# Bounded digit runs: a Space's text never makes int() refuse or a number absurd.
_WAIT = re.compile(r"(?:retry|try again) in (?:(-?\d{1,6}) days?, )?(\d{1,6}):(\d\d):(\d\d)", re.IGNORECASE)
_REQUESTED = re.compile(r"(\d{1,9}(?:\.\d{1,6})?)s requested vs\.? (\d{1,9}(?:\.\d{1,6})?)s left", re.IGNORECASE)
_LEFT = re.compile(r"(\d{1,9}(?:\.\d{1,6})?)s left vs\.? (\d{1,9}(?:\.\d{1,6})?)s requested", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,500}>")
_MAX_SHOWN = 300


def app_error(message: str, *, space_message: str | None, title: str | None) -> AppError:
    """The error for a job the app failed: :class:`GPUQuotaError` for a ZeroGPU quota
    answer, else :class:`AppError` with ``message``."""
    quota = quota_error(space_message, title=title, token_sent=None)
    return quota if quota is not None else AppError(message, space_message=space_message, title=title)


def quota_error(
    space_message: str | None, *, title: str | None, token_sent: bool | None, partial_text: str = ""
) -> GPUQuotaError | None:
    """A :class:`GPUQuotaError` if ``space_message`` is a ZeroGPU quota answer, else ``None``."""
    if not space_message or not _QUOTA.search(space_message):
        return None
    said = " ".join(_TAG.sub("", space_message).split())
    if len(said) > _MAX_SHOWN:
        said = said[: _MAX_SHOWN - 3] + "..."
    wait = _retry_after(space_message)
    requested, left = _seconds(space_message)
    when = f"retry in {_duration(wait)}" if wait is not None else "retry later"
    return GPUQuotaError(
        f"the Space's ZeroGPU quota for this caller is used up ({said}); {when}. {_advice(token_sent)}",
        space_message=space_message,
        title=title,
        retry_after=wait,
        requested=requested,
        left=left,
        token_sent=token_sent,
        partial_text=partial_text,
    )


def advise_quota(events: list[ChatEvent], *, token_sent: bool) -> list[ChatEvent]:
    """``events`` with a quota failure's advice saying whether a token was sent."""
    if not any(isinstance(event, Failed) and isinstance(event.error, GPUQuotaError) for event in events):
        return events
    out: list[ChatEvent] = []
    for event in events:
        if isinstance(event, Failed) and isinstance(event.error, GPUQuotaError):
            error = event.error
            advised = quota_error(
                error.space_message, title=error.title, token_sent=token_sent, partial_text=error.partial_text
            )
            event = Failed(advised or error)
        out.append(event)
    return out


def _advice(token_sent: bool | None) -> str:
    if token_sent:
        return (
            "A Hugging Face token was sent, so this was its account's quota, which refills over the day "
            "(a PRO account has more); or use another Space or a copy of it on your own hardware"
        )
    if token_sent is False:
        return (
            "No token was sent, so this was the anonymous quota of your address; a logged-in account has its own, "
            "larger quota: pass a Hugging Face token (hf_token= or $HF_TOKEN)"
        )
    return "A logged-in account has its own quota: a Hugging Face token (hf_token= or $HF_TOKEN) uses it"


def _retry_after(text: str) -> float | None:
    match = _WAIT.search(text)
    if match is None:
        return None
    days, hours, minutes, seconds = match.groups()
    total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
    return float(total) if total >= 0 else None


def _seconds(text: str) -> tuple[float | None, float | None]:
    if match := _REQUESTED.search(text):
        return float(match[1]), float(match[2])
    if match := _LEFT.search(text):
        return float(match[2]), float(match[1])
    return None, None


def _duration(seconds: float) -> str:
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
