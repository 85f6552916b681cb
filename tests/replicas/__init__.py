"""Replica chat Spaces: small Gradio apps with scripted models that say what they received.

Each module builds one app layout found on the Hub (see its docstring) under Gradio 4.44.1,
5.50.0 and 6.31.0 where that release can build it; ``serve.py APP PORT`` serves one on
loopback, ``capture.py`` records their ``/config`` into ``tests/data/configs/replicas``.
The scripted model (``scripted.py``) answers with a description of its inputs, streamed
word by word, so a test can see exactly what reached the app's function.
"""

#: Every replica app (module names in this package).
APPS = (
    "hub_template",
    "plain_tuples",
    "plain_messages",
    "multimodal",
    "thinking_blocks",
    # Event chains (issue 23).
    "blocks_canonical",
    "blocks_multimodal",
    "thinking_chain",
    "buttons",
    "llama2_private",
    "state_history",
    "placeholder",
    "tabbed_two",
    "qwen_extra_buttons",
    "placeholder_chain",
    # Files in and out (issue 25).
    "chat_multimodal",
    "vision_blocks",
    "image_answer",
    "chat_with_image_output",
    # Login (issue 26).
    "auth_chat",
)
#: The chain apps of issue 23, in the order above.
CHAIN_APPS = APPS[5:15]
#: The user name and password ``auth_chat`` is served behind (``launch(auth=LOGIN)``).
LOGIN = ("user", "pass")
#: The file apps of issue 25.
FILE_APPS = APPS[15:19]
