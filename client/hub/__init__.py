"""The Hugging Face Hub: Space ids, where a token may go, a Space's stage and the wait
while it starts (``space``), and making a copy of a Space (``duplicate``, public as
``qwen_space.client.duplicate``). Users import these names from ``qwen_space.client``."""
