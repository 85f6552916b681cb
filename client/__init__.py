"""qwen_space.client: the aiohttp client built on :mod:`qwen_space.protocol`."""

__all__: list[str] = []
