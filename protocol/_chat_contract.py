"""What a Gradio chat app's contract says (the event to call and the role of each of
its inputs), as :func:`derive_contract` (``_derive.py``) makes it from ``/config``.

Two kinds of app are recognised, on every release from 4.44 to 6.x:

* ``gr.ChatInterface`` (tuples or messages, text or multimodal, any additional inputs).
  Its API event takes ``[message, history State, *additional inputs]`` and returns
  ``[reply, history State]``. The history lives in the session's ``gr.State``: the
  server ignores a history sent in that slot (the slot must still be there, ``null``).
  5.x and 6.x wire a non-queued event that copies the Chatbot into that State (inputs
  exactly the Chatbot, outputs including the State): a client runs it on a fresh session
  first (``history_seed``), then joins the API event on the same session. 4.44 has no
  such event; there the contract is the UI's own chain instead: a non-queued event that
  stores the message in a State (``message_seed``), then the queued event that takes
  that State, the Chatbot (earlier turns plus the new message) and the additional
  inputs, and returns the Chatbot.
* Blocks apps with one chat event: a text input and a Chatbot in, the same Chatbot out
  (the Qwen demos). One function bound to several triggers (a textbox's submit and a
  button's click) with the same inputs and outputs is one event; the submit one is used.

Inputs get their roles by rules kept as data (:data:`LABEL_RULES`): the system prompt
is a textbox labelled as one; sliders, numbers, dropdowns, radios, checkboxes, checkbox
groups and other textboxes with a label are options, set by that label; ``gr.State``
inputs are sent as ``null``; anything else is sent as the value ``/config`` declares.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from ._chain import ChainStep
from ._chatbot import ChatbotFormat
from ._json import JSONValue
from ._release import Release
from ._shown import bounded

__all__ = [
    "LABEL_RULES",
    "NUMERIC_OPTIONS",
    "OPTION_COMPONENTS",
    "SYSTEM_COPY_RULE",
    "TEXT_INPUTS",
    "AppKind",
    "ChatContract",
    "ChatInput",
    "HistoryMode",
    "InputRole",
    "LabelRule",
    "OptionKind",
    "SessionSeed",
    "show_step",
]

TEXT_INPUTS = frozenset({"textbox", "multimodaltextbox"})
#: Components an option can be: what ``options={label: value}`` may set.
OPTION_COMPONENTS = frozenset({"slider", "number", "dropdown", "textbox", "checkbox", "radio", "checkboxgroup"})
NUMERIC_OPTIONS = frozenset({"slider", "number"})
_CHOICES_SHOWN = 20


class AppKind(enum.Enum):
    CHAT_INTERFACE = "gr.ChatInterface"
    BLOCKS = "Blocks chat event"
    #: Several steps run one after the other, as the browser runs them on Enter.
    CHAIN = "Blocks event chain"


class InputRole(enum.Enum):
    #: The user's message as text.
    MESSAGE = "message"
    #: The user's message as a multimodal textbox value ``{"text": ..., "files": [...]}``.
    MULTIMODAL_MESSAGE = "multimodal message"
    #: The earlier turns, as the app's own Chatbot value in its format.
    HISTORY = "history"
    #: The system prompt (``system=``, ``--system``).
    SYSTEM = "system prompt"
    #: A setting chosen by its label (``options={label: value}``, ``--option label=value``).
    OPTION = "option"
    #: A ``gr.State``: sent as ``null``, the server reads the session's own value.
    STATE = "state"
    #: An input nobody sets: sent as the value ``/config`` declares.
    CONSTANT = "constant"


class HistoryMode(enum.Enum):
    #: The Chatbot value goes in the request, in the HISTORY slot.
    REQUEST = "in the request"
    #: The server keeps it in a per-session ``gr.State``: ``history_seed`` puts it there
    #: first; without one, only single-turn requests are possible.
    SESSION = "in a server-side session State"
    #: The event takes no history: single-turn requests only.
    NONE = "none"
    #: The model reads a ``gr.State`` that only the chat's own chain writes: earlier
    #: turns exist only in a session that held them (``space.conversation()``).
    CONVERSATION = "in a server-side State the chat chain writes (hold a conversation to keep it)"


class OptionKind(enum.Enum):
    """What an input's label says it is, for callers that map settings by meaning
    (``serve`` maps OpenAI's ``temperature``, ``top_p``, ``max_tokens`` and ``model``)."""

    SYSTEM = "system prompt"
    TEMPERATURE = "temperature"
    TOP_P = "top_p"
    MAX_TOKENS = "max_tokens"
    MODEL = "model"


@dataclass(frozen=True, slots=True)
class LabelRule:
    """An input whose component is one of ``components`` and whose label matches
    ``pattern`` (case-insensitive search) is of ``kind``; ``says`` is the rule in words."""

    kind: OptionKind
    components: frozenset[str]
    pattern: re.Pattern[str]
    says: str


#: The label rules, first match wins. Shown by ``qwen-space info``.
LABEL_RULES: tuple[LabelRule, ...] = (
    LabelRule(
        OptionKind.SYSTEM,
        frozenset({"textbox"}),
        re.compile(r"^\s*system\s*:?\s*$|\bsystem[\s_-]*(message|prompt|instructions?)\b", re.IGNORECASE),
        'a textbox labelled "System", or with "system message", "system prompt" or "system instructions" in its label',
    ),
    LabelRule(
        OptionKind.TEMPERATURE,
        NUMERIC_OPTIONS,
        re.compile(r"\btemp(erature)?\b", re.IGNORECASE),
        'a slider or number with "temperature" (or the word "temp") in its label',
    ),
    LabelRule(
        OptionKind.TOP_P,
        NUMERIC_OPTIONS,
        re.compile(r"\btop[\s_-]?p\b|\bnucleus\b", re.IGNORECASE),
        'a slider or number with "top-p", "top p", "top_p" or "nucleus" in its label',
    ),
    LabelRule(
        OptionKind.MAX_TOKENS,
        NUMERIC_OPTIONS,
        re.compile(r"\bmax(imum)?[\s_-]*(new[\s_-]*|output[\s_-]*)?(tokens?|length)\b", re.IGNORECASE),
        'a slider or number labelled like "max new tokens", "max tokens", "max_new_tokens" or "maximum length"',
    ),
    LabelRule(
        OptionKind.MODEL,
        frozenset({"dropdown", "radio"}),
        re.compile(r"\bmodels?\b", re.IGNORECASE),
        'a dropdown or radio with "model" in its label (each choice is a model id)',
    ),
)

#: The second system-prompt rule, for the Qwen demos' layout: a hidden, unlabelled
#: textbox input that another event fills from a textbox the first rule recognises.
SYSTEM_COPY_RULE = (
    "an unlabelled textbox input that another event fills from a system-prompt textbox "
    "(the Qwen demos keep the prompt in a hidden box set by a button)"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatInput:
    """One slot of the event's ``data`` array."""

    role: InputRole
    component_id: int
    #: The component type (``"textbox"``, ``"slider"``, ...).
    component: str
    label: str | None
    #: The value ``/config`` declares: what is sent when the caller sets nothing.
    default: JSONValue
    #: What the label says the input is (:data:`LABEL_RULES`), if anything.
    kind: OptionKind | None = None
    minimum: float | None = None
    maximum: float | None = None
    step: float | None = None
    #: The values a dropdown, radio or checkbox group accepts.
    choices: tuple[JSONValue, ...] | None = None
    #: A dropdown taking a list of choices.
    multiselect: bool = False
    #: A dropdown that accepts values beyond its choices (``allow_custom_value``).
    custom_values: bool = False

    def describe(self) -> str:
        """One line for ``info``: the role, label, type, default, range or choices."""
        parts = [self.role.value]
        if self.label is not None:
            parts.append(_show(self.label))
        parts.append(f"({self.component})")
        if self.role in (InputRole.OPTION, InputRole.SYSTEM, InputRole.CONSTANT):
            parts.append(f"default {_show(self.default)}")
        if self.minimum is not None or self.maximum is not None:
            parts.append(f"range {_show(self.minimum)}..{_show(self.maximum)}")
        if self.step is not None:
            parts.append(f"step {_show(self.step)}")
        if self.choices is not None:
            more = len(self.choices) - _CHOICES_SHOWN
            shown = [_show(c, 40) for c in self.choices[:_CHOICES_SHOWN]] + ([f"... ({more} more)"] if more > 0 else [])
            parts.append("choices " + ", ".join(shown))
        if self.kind is not None and self.role is InputRole.OPTION:
            parts.append(f"[{self.kind.value}]")
        return " ".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSeed:
    """A non-queued event the client runs on the fresh session before the chat event
    (``POST {api_prefix}/run/predict`` with ``{"data", "fn_index", "session_hash"}``)."""

    fn_index: int
    api_name: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatContract:
    """How to hold a chat with one app: what to send, where the reply is, where history goes."""

    kind: AppKind
    #: ``"/name"``, or ``None`` when the event has no name (private on 4.x and 5.x).
    api_name: str | None
    fn_index: int
    trigger_id: int | None
    inputs: tuple[ChatInput, ...]
    output_types: tuple[str, ...]
    #: The output slot that holds the reply, and its layout there (``TEXT``: the
    #: ChatInterface API's own reply value, a string or message dicts).
    reply_slot: int
    reply_format: ChatbotFormat
    history: HistoryMode
    #: The Chatbot's format, for history values; ``None`` when no history can be sent.
    history_format: ChatbotFormat | None
    #: The server's release: how the messages a request sends are written.
    release: Release
    #: ``HistoryMode.SESSION``: the event that copies a Chatbot value into the State.
    history_seed: SessionSeed | None = None
    #: 4.44 ChatInterface chain: the event that stores the message in a State first.
    message_seed: SessionSeed | None = None
    #: The history sent in the request ends with the new user message (the 4.44
    #: ChatInterface chain's Chatbot shows it before the reply arrives).
    history_holds_message: bool = False
    #: The message is a multimodal value ``{"text", "files"}``.
    multimodal: bool = False
    #: ``AppKind.CHAIN``: the steps run in order on one session; the message box and the
    #: Chatbot (the reply is what the steps did to it beyond the history sent).
    steps: tuple[ChainStep, ...] = ()
    message_id: int | None = None
    chatbot_id: int | None = None
    #: ``HistoryMode.CONVERSATION``: the States that hold the model's history.
    carried: tuple[str, ...] = ()

    @property
    def input_types(self) -> tuple[str, ...]:
        return tuple(slot.component for slot in self.inputs)

    @property
    def multi_turn(self) -> bool:
        """Whether a request can carry earlier turns."""
        return self.history is HistoryMode.REQUEST or self.history_seed is not None

    @property
    def system_input(self) -> ChatInput | None:
        return next((slot for slot in self.inputs if slot.role is InputRole.SYSTEM), None)

    @property
    def options(self) -> tuple[ChatInput, ...]:
        return tuple(slot for slot in self.inputs if slot.role is InputRole.OPTION)

    def option_for(self, kind: OptionKind) -> ChatInput | None:
        """The first input whose label says it is ``kind`` (the system input for SYSTEM)."""
        if kind is OptionKind.SYSTEM:
            return self.system_input
        return next((slot for slot in self.options if slot.kind is kind), None)

    def describe(self) -> list[str]:
        """Lines for ``info``: the event, where history goes, each input."""
        name = self.api_name or "(unnamed)"
        lines = [f"{self.kind.value}: {name} (fn_index {self.fn_index}, trigger {self.trigger_id})"]
        history = self.history.value
        if self.history_seed is not None:
            history += f", set by fn_index {self.history_seed.fn_index} on a fresh session"
        if self.message_seed is not None:
            history += f"; the message is stored first by fn_index {self.message_seed.fn_index}"
        if self.carried:
            history += f" ({', '.join(self.carried)}); a stateless request is single-turn"
        elif not self.multi_turn:
            history += " (single-turn only: earlier turns cannot be sent)"
        lines.append(f"history: {history}")
        if self.steps:
            lines.append("chain: " + " -> ".join(show_step(step) for step in self.steps))
        lines.append(f"reply: output {self.reply_slot} ({self.reply_format.value})")
        lines.extend(f"input {i}: {slot.describe()}" for i, slot in enumerate(self.inputs))
        return lines


def show_step(step: ChainStep) -> str:
    how = "queued" if step.queue else "not queued"
    when = ", on success" if step.only_on_success else ""
    return f"{step.api_name or 'private'} (fn_index {step.fn_index}, {how}{when})"


# -- finding the chat event ---------------------------------------------------------


def _show(value: object, width: int = 200) -> str:
    # A Space's values: nested past what repr can walk, or long past a screen.
    return bounded(value, width)
