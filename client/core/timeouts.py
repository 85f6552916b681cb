"""Tunable limits of the client: timeouts and join retries."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["RetryPolicy", "Timeouts"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """Seconds. ``None`` disables a limit; the defaults never let a call hang forever.

    ``idle`` bounds the silence on the message stream. Gradio sends a heartbeat every
    15 s even while a job waits in the queue, so 45 s of silence means the connection
    or the Space is gone. ``total`` bounds a whole chat from its first request to the
    Space: ``/config``, waits for a pooled connection, join retries, the queue and
    the stream; every wait is cut to what is left of it, whatever the server sends.
    ``join`` runs from the sending of the join to its answer; ``config`` and
    ``cancel`` bound those requests whole.

    For a Space given by id, ``hub`` bounds each request to the Hub API and ``start``
    the wait for a Space that is building, starting or waking up (a fresh copy takes
    minutes to build; a sleeping free Space about one to wake), before ``total`` starts.
    """

    connect: float | None = 10.0
    config: float | None = 30.0
    join: float | None = 30.0
    idle: float | None = 45.0
    total: float | None = 900.0
    cancel: float | None = 5.0
    hub: float | None = 10.0
    start: float | None = 600.0


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Exponential backoff with full jitter for ``queue/join`` (never after a job exists).

    Attempt ``n`` (from 1) waits a random time up to ``min(max_delay, base_delay * 2**(n-1))``.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return (rng or random).uniform(0, ceiling)
