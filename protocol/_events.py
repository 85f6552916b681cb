"""The chat events: what following one chat gives its consumer, in order.

Text invariant: the consumer who appends every :class:`TextDelta` and applies every
:class:`Correction` holds exactly the reply (the final one on completion, the
partial one on failure). Without corrections the deltas simply concatenate to it.
A correction is emitted only when the Space's reply stops extending what was
already shown (a ``replace`` that rewrites earlier text, an output desynchronised by
a server diff defect, a final value that differs), never silently.

Thoughts (messages a chatbot folds away under a ``metadata`` title: reasoning, tool
use) are never part of the reply: they come as :class:`ReasoningDelta` events, and
whole in :attr:`Completed.reasoning`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._files import ReplyFile
from ._messages import ProgressUnit
from .errors import QwenSpaceError

__all__ = [
    "ChatEvent",
    "Completed",
    "Correction",
    "Failed",
    "FileReply",
    "LogMessage",
    "ProgressUpdate",
    "QueuePosition",
    "ReasoningDelta",
    "Started",
    "TextDelta",
]


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """Waiting in the queue: ``rank`` is 0-based, ``eta`` in seconds if known."""

    rank: int | None
    queue_size: int | None
    eta: float | None


@dataclass(frozen=True, slots=True)
class Started:
    """A worker started the job; ``eta`` is the function's average run time if known."""

    eta: float | None


@dataclass(slots=True)
class TextDelta:
    """New reply text, to append to what was shown. :class:`ChatStream` gives the
    text of one network read as one delta."""

    text: str


@dataclass(frozen=True, slots=True)
class Correction:
    """The reply changed behind what was shown: drop the last ``retract`` characters
    shown, then append ``text``. ``previous`` is the reply as shown before."""

    retract: int
    text: str
    previous: str


@dataclass(frozen=True, slots=True)
class LogMessage:
    """``gr.Info`` / ``gr.Warning`` / ``gr.Success`` from the Space."""

    level: str
    message: str
    title: str | None


@dataclass(frozen=True, slots=True)
class ProgressUpdate:
    units: tuple[ProgressUnit, ...]


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """New text of the reply's thoughts (not of the answer), under the thought's
    ``title``; a new thought starts with a blank line. Appended in order, the deltas
    make :attr:`Completed.reasoning` unless the Space rewrote a thought."""

    text: str
    title: str


@dataclass(frozen=True, slots=True)
class FileReply:
    """A file in the reply (an image or file message of the Chatbot beyond the history,
    or a gr.Image / gr.File / gallery output of the chat), each once, before ``Completed``."""

    file: ReplyFile


@dataclass(frozen=True, slots=True)
class Completed:
    """The reply is complete. ``server_duration`` is the run time the Space reported;
    ``reasoning`` the final thoughts, apart from the answer (empty for most apps)."""

    text: str
    server_duration: float | None
    reasoning: str = ""


@dataclass(frozen=True, slots=True)
class Failed:
    """The job ended without a reply; ``error.partial_text`` holds what arrived."""

    error: QwenSpaceError


ChatEvent = (
    QueuePosition
    | Started
    | TextDelta
    | Correction
    | ReasoningDelta
    | LogMessage
    | ProgressUpdate
    | FileReply
    | Completed
    | Failed
)
