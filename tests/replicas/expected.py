"""The exact answers a client must get from each replica app for fixed prompts, by release.

Verified by driving every app as a browser does (its message box's whole event chain on
one session, over raw HTTP) on Gradio 4.44.1, 5.50.0 and 6.31.0. Live tests compare what
``qwen_space.client`` returns with these texts; a release missing from an app's entry
cannot build that app.

Every conversation is: ``FIRST``, answered ``first``; then ``SECOND`` with that turn as
history, answered ``second`` (the history reached the model) or, for ``state_history``,
``second_without_session`` when the turn is only sent as history (the model's State is
empty in a new session: the silent loss a client must refuse instead).
"""

from __future__ import annotations

from dataclasses import dataclass

RELEASES = ("4.44.1", "5.50.0", "6.31.0")
FIRST = "hello"
SECOND = "again"
#: A text file and an image a client attaches, with what the scripted model reports of them.
TEXT_FILE = ("a.txt", b"hello bytes\n")
TEXT_FILE_FACTS = "a.txt (12 bytes, sha256 3882bee69aad)"
#: ``scripted.png_for("cat")``, an 8x8 PNG of 134 bytes.
IMAGE_PROMPT = "cat"
IMAGE_FACTS = "cat.png (134 bytes, sha256 a8f7a5d6bd2f)"
#: 4.44's ``gr.Image(type="filepath")`` re-encodes an upload with Pillow (5.x and 6.x pass
#: the bytes through): the model gets other bytes (Pillow 10.4.0, as gradio 4.44.1 installs it here).
IMAGE_FACTS_REENCODED_444 = "cat.png (155 bytes, sha256 05676d492bc2)"
#: The prompt of the image-answering apps and the sha256 prefix of ``png_for`` of it (133 bytes).
IMAGE_ANSWER_PROMPT = "a red cat"
IMAGE_ANSWER_SHA256 = "8321795dae18"
#: What ``placeholder`` shows before the answer replaces it wholesale.
STATUS = "⏳ Generating..."


@dataclass(frozen=True)
class Expected:
    first: str
    second: str
    #: The thought shown before ``first`` (thinking apps), not part of the answer.
    thought: str | None = None
    second_without_session: str | None = None


def _again(first: str, tail: str = "", prefix: str = "") -> str:
    quoted = first.replace("\\", "\\\\").replace('"', '\\"')
    return f'{prefix}Message: "{SECOND}". Earlier turns: 1, the last: "{FIRST}" -> "{quoted}".{tail}'


def _plain(prefix: str = "", tail: str = "") -> Expected:
    first = f'{prefix}Message: "{FIRST}". Earlier turns: 0.{tail}'
    return Expected(first=first, second=_again(first, tail, prefix))


_LLAMA_OPTIONS = (
    ' System prompt: "You are a helpful, respectful and honest assistant.".'
    " Max new tokens: 1024. Temperature: 1.0. Top-p: 0.95. Top-k: 50."
)
_GLM_OPTIONS = " Maximum length: 2048. Top P: 0.7. Temperature: 0.95."
_QWEN_SYSTEM = ' System: "You are a helpful assistant.".'
_state = _plain(tail=_GLM_OPTIONS)

_SAME_EVERYWHERE: dict[str, Expected] = {
    "blocks_canonical": _plain(),
    "blocks_multimodal": _plain(tail=" Files received: none."),
    "thinking_chain": Expected(
        first=_plain().first, second=_plain().second, thought=f'Thinking about "{FIRST}" with 0 earlier turns.'
    ),
    "buttons": _plain(),
    "llama2_private": _plain(tail=_LLAMA_OPTIONS),
    "state_history": Expected(
        first=_state.first,
        second=_state.second,
        second_without_session=f'Message: "{SECOND}". Earlier turns: 0.{_GLM_OPTIONS}',
    ),
    "placeholder": _plain(),
    "placeholder_chain": _plain(),
    "tabbed_two": _plain(prefix="Alpha says: "),
    "qwen_extra_buttons": _plain(tail=_QWEN_SYSTEM),
    "chat_multimodal": _plain(tail=" Files received: none."),
    "vision_blocks": _plain(tail=" Files received: none."),
    "image_answer": _plain(),
    "chat_with_image_output": _plain(),
    "auth_chat": _plain(),
}

#: app -> release -> what a client gets.
ANSWERS: dict[str, dict[str, Expected]] = {
    app: dict.fromkeys(RELEASES, expected) for app, expected in _SAME_EVERYWHERE.items()
}
#: The second tab's answers (``endpoint=`` naming the Beta tab's chat).
TABBED_BETA = _plain(prefix="Beta says: ")
#: The Qwen layout's other buttons answer as ``Rewritten: ...`` and ``Summary: ...``.
QWEN_BUTTONS = {"✍️ Rewrite": "Rewritten: ", "📝 Summarize": "Summary: "}
#: A message longer than this fails the Llama-2 layout's check step with a ``gr.Error``.
LLAMA_MAX_INPUT = 400
LLAMA_TOO_LONG = "The accumulated input is too long ({n} > 400)."


def with_files(text: str, *facts: str) -> str:
    """The first answer to ``text`` with files attached, for the apps that describe files."""
    listed = ", ".join(f'"{fact}"' for fact in facts)
    return f'Message: "{text}". Earlier turns: 0. Files received: [{listed}].'
