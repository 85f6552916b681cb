"""The gpt4free providers (the ``g4f`` extra): see :mod:`qwen_space.client.ways_in.g4f`."""

from .ways_in.g4f import Qwen_Qwen_2_5_Max, SpaceProvider, UnknownModelError, provider_for, register

__all__ = ["Qwen_Qwen_2_5_Max", "SpaceProvider", "UnknownModelError", "provider_for", "register"]
