"""The message for an optional dependency that is not installed (an extra)."""

from __future__ import annotations

__all__ = ["missing_extra"]


def missing_extra(extra: str, needs: str, doing: str) -> ImportError:
    """An ImportError that says how to install ``extra``: qwen-space is not on PyPI yet,
    so the line that works is the clone's, with the dependency itself as the other way."""
    return ImportError(
        f'{doing} needs {needs}: in your clone of qwen-space run pip install ".[{extra}]" '
        f'(or pip install "{needs}" beside qwen-space)'
    )
