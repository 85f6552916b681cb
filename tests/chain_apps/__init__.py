"""Chat apps written the way public Spaces write their event chains, for the chain engine's tests.

Each function of :mod:`tests.chain_apps.apps` builds one layout (Gradio's canonical
``.submit(user).then(bot)`` chatbot, a Llama-2-chat style private chain, a State-history
demo, a placeholder, retry/undo/like buttons, two ChatInterfaces in tabs, the Qwen layout
with extra buttons). Their model is scripted (:func:`tests.chain_apps.apps.answer`): it says
what reached it, so a test knows the exact reply. ``serve.py NAME PORT`` serves one;
``capture.py`` writes their ``/config`` into ``tests/data/configs/chains/<version>/``.
"""

#: Every chain app (functions of :mod:`tests.chain_apps.apps`).
APPS = (
    "canonical",
    "canonical_multimodal",
    "thinking_two_step",
    "llama2_private",
    "state_history",
    "placeholder",
    "buttons",
    "tabbed",
    "qwen_extra_buttons",
)
