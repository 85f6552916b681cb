"""The Qwen2.5-Max demo: its contract, and what its failures usually mean.

The contract is what this client was written against, read from the live Space: the
``/model_chat`` endpoint is ``textbox.submit`` (fn 0, trigger 11), its inputs are
query textbox, chatbot history and the hidden system textbox, its outputs are
textbox, chatbot and system textbox, served by Gradio 5 (prefix ``/gradio_api``,
``sse_v3``) with a tuples chatbot. :func:`qwen_space.protocol.check_contract` tells
which drifts from it the client absorbs and which break it.
"""

from __future__ import annotations

from ...protocol._chatbot import ChatbotFormat
from ...protocol._contract import SpaceContract

__all__ = ["HIDDEN_ERROR_HINT", "QWEN_CONTRACT"]

QWEN_CONTRACT = SpaceContract(
    api_name="/model_chat",
    api_prefix="/gradio_api",
    protocol="sse_v3",
    fn_index=0,
    trigger_id=11,
    input_types=("textbox", "chatbot", "textbox"),
    output_types=("textbox", "chatbot", "textbox"),
    chatbot_format=ChatbotFormat.TUPLES,
)

#: What a hidden app error of this Space usually means (it runs with show_error=False),
#: to add to the protocol's generic message when the client talks to it.
HIDDEN_ERROR_HINT = (
    "for the Qwen2.5-Max Space this usually means the DashScope API behind it refused or "
    "throttled the request: wait a minute and try again, or shorten the conversation"
)
