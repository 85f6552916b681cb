"""Making your own copy of a Space (the ``hub`` extra): see :mod:`qwen_space.client.hub.duplicate`."""

from .hub.duplicate import QWEN_DEMO_SECRET, DuplicatedSpace, duplicate_space

__all__ = ["QWEN_DEMO_SECRET", "DuplicatedSpace", "duplicate_space"]
