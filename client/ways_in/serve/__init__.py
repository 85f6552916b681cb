"""``qwen-space serve``: chat Spaces behind an OpenAI-compatible endpoint.

Any OpenAI client, SDK or tool can then talk to Qwen2.5-Max (or the one Space at
``url``), or to several Spaces by alias (``spaces``): ``GET /v1/models``,
``GET /v1/models/{model}`` and ``POST /v1/chat/completions`` (``stream`` true or false)
in OpenAI's wire format. Messages go to :meth:`SpaceClient.events` unchanged
(``developer`` messages become system messages); ``temperature``, ``top_p`` and
``max_tokens`` go to the inputs whose labels say so, a model id naming a choice to the
Space's model dropdown, and the Space's thoughts come back as ``reasoning_content``.
Failures use OpenAI's error JSON with the fitting status. Secrets are replaced in
everything a caller receives, whatever the Space sends.

``wire`` is OpenAI's format (no I/O), ``app`` the aiohttp app (routes, key, relay,
scrubbing by ``qwen_space.client.core.secrets``), ``spaces`` which Space a model id
names, ``turns`` what a request's messages become for its Space (the system message
folded, a held session's turn), ``sessions`` the live sessions kept for apps whose
history lives on the server, ``settings`` the operator's flags, ``lifecycle`` the
process (runner, signals, drain).
"""

from .app import create_openai_app
from .lifecycle import SHUTDOWN_TIMEOUT, make_runner, serve
from .settings import check_api_key, check_spaces
from .spaces import MODEL_IDS

__all__ = [
    "MODEL_IDS",
    "SHUTDOWN_TIMEOUT",
    "check_api_key",
    "check_spaces",
    "create_openai_app",
    "make_runner",
    "serve",
]
