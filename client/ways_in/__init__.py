"""The ways in besides :class:`SpaceClient`: the command line (``cli``), the
OpenAI-compatible server (``serve``), the sync facade (``sync``), the original provider's
surface (``original``) and the gpt4free provider (``g4f``, public as ``qwen_space.client.g4f``)."""
