"""A chat request as the ``data`` a :class:`ChatContract`'s event takes, checked first.

Everything here runs before anything is sent. A request the contract cannot take
raises :class:`ChatRequestError` naming the input: an option label the app lacks, a
value its component would refuse (wrong type, out of range, not among the choices), a
system prompt the app has no input for, earlier turns it cannot receive, files for a
text-only app. Nothing is dropped silently.
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ._chat_contract import AppKind, ChatContract, ChatInput, HistoryMode, InputRole
from ._chatbot import ChatbotFormat, Turn
from ._files import FILE_COMPONENTS, file_part, user_file_entries
from ._json import JSONValue
from ._shown import bounded
from .errors import ChatRequestError, HistoryUnreachableError

__all__ = [
    "ChatCall",
    "SeedCall",
    "build_call",
    "check_files",
    "coerce_option",
    "file_inputs",
    "find_option",
]

FileValues = Sequence[Mapping[str, JSONValue]]


@dataclass(frozen=True, slots=True)
class SeedCall:
    """A non-queued event to run on the request's fresh session before the join:
    ``POST {api_prefix}/run/predict`` with ``{"data", "fn_index", "session_hash"}``."""

    fn_index: int
    data: list[JSONValue]

    def to_bytes(self, session_hash: str) -> bytes:
        body = {"data": self.data, "fn_index": self.fn_index, "session_hash": session_hash}
        try:
            return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate in a value
            raise ChatRequestError(f"the request cannot be sent as JSON: {exc.reason} in a value") from None


@dataclass(frozen=True, slots=True)
class ChatCall:
    """Everything one chat request sends: the seed calls, in order, then the join's ``data``.

    For a chain (``contract.steps``), ``values`` instead: what the client puts in the
    page's components before Enter (component id -> value: the message, the history in
    the Chatbot, the system prompt and options); each step reads its inputs from there."""

    seeds: tuple[SeedCall, ...]
    data: list[JSONValue]
    values: dict[int, JSONValue] = field(default_factory=dict)


def file_inputs(contract: ChatContract) -> tuple[ChatInput, ...]:
    """The chat's inputs that take one file each (Image, File, Audio, Video), in order."""
    return tuple(
        spec for spec in contract.inputs if spec.component in FILE_COMPONENTS and spec.role is InputRole.CONSTANT
    )


def check_files(contract: ChatContract, count: int, options: Mapping[str, object] | None = None) -> None:
    """Refuse ``count`` attached files the chat cannot take, before anything is uploaded:
    a MultimodalTextbox takes any number; else one per free file input."""
    if not count or contract.multimodal:
        return
    taken = {label.strip().casefold() for label in options or () if isinstance(label, str)}
    free = [spec for spec in file_inputs(contract) if (spec.label or "").strip().casefold() not in taken]
    if not file_inputs(contract):
        raise ChatRequestError(
            f"this Space's chat takes text only (no multimodal box, no image or file input): it cannot take the "
            f"{count} file(s) given; send text alone, or choose another event with endpoint= / --endpoint"
        )
    if count > len(free):
        names = ", ".join(f"{s.component} {s.label or s.component_id!r}" for s in file_inputs(contract))
        raise ChatRequestError(
            f"this Space's chat takes one file per file input ({names}); {count} file(s) given, "
            f"{len(free)} input(s) free: send fewer files"
        )


def build_call(
    contract: ChatContract,
    message: str,
    history: Sequence[Turn] = (),
    system: str | None = None,
    options: Mapping[str, object] | None = None,
    *,
    files: FileValues = (),
    history_files: Sequence[FileValues] = (),
    history_reply_files: Sequence[FileValues] = (),
) -> ChatCall:
    """What to send for ``message`` after the earlier ``history``, on a fresh session.

    ``system`` goes to the app's system-prompt input (``None``: the app's default);
    ``options`` sets inputs by label (a file input takes an uploaded FileData);
    ``files`` are uploaded FileData values (``path``, ``meta``): in the multimodal box,
    else one per free file input (Image, File, Audio, Video), in order.
    ``history_files`` are the files of each earlier turn's user message, shown in the
    Chatbot before it as the browser shows them; ``history_reply_files`` the files of each
    earlier reply (the Space's own ``FileData``, see ``reply_file_data``), after its text.
    Raises :class:`ChatRequestError`.
    """
    if not isinstance(message, str):
        raise ChatRequestError(f"the message must be a string, got {type(message).__name__}")
    turns = _turns(history)
    attached = _files(files)
    check_files(contract, len(attached), options if isinstance(options, Mapping) else None)
    earlier = [_files(f) for f in history_files]
    replied = [_files(f) for f in history_reply_files]
    values = _settings(contract, system, options)
    if not contract.multimodal:
        free = (i for i, s in enumerate(contract.inputs) if s in file_inputs(contract) and i not in values)
        values.update(zip(free, attached, strict=False))
    if turns and contract.history is HistoryMode.CONVERSATION:
        raise HistoryUnreachableError(
            f"this Space's model reads its history from server-side state ({', '.join(contract.carried)}) that only "
            "its own chat chain writes: a request cannot carry earlier turns, and sending them would be lost "
            f"silently. Hold the chat in one session instead: space.conversation() in Python (the CLI's "
            f"interactive chat does this), or send only the last message ({len(turns) + 1} messages given)"
        )
    if turns and not contract.multi_turn:
        raise ChatRequestError(
            f"this Space's chat event ({contract.api_name or contract.fn_index}) keeps no history a client can set: "
            f"it can answer one message, not a conversation of {len(turns) + 1} messages. Send only the last "
            "message, or choose another event with endpoint= / --endpoint"
        )
    message_value: JSONValue = {"text": message, "files": list(attached)} if contract.multimodal else message
    seeds: list[SeedCall] = []
    if contract.message_seed is not None:
        seeds.append(SeedCall(contract.message_seed.fn_index, [message_value]))
    if turns and contract.history is HistoryMode.SESSION and contract.history_seed is not None:
        seeds.append(SeedCall(contract.history_seed.fn_index, [_history_value(contract, turns, earlier, replied)]))
    if contract.steps:
        chain: dict[int, JSONValue] = {contract.inputs[slot].component_id: value for slot, value in values.items()}
        if contract.message_id is not None:
            chain[contract.message_id] = message_value
        if contract.chatbot_id is not None:
            chain[contract.chatbot_id] = _history_value(contract, turns, earlier, replied)
        return ChatCall((), [], chain)
    data: list[JSONValue] = []
    for slot, spec in enumerate(contract.inputs):
        if spec.role in (InputRole.MESSAGE, InputRole.MULTIMODAL_MESSAGE):
            data.append(message_value)
        elif spec.role is InputRole.HISTORY:
            value = _history_value(contract, turns, earlier, replied)
            if contract.history_holds_message:
                value.extend(_pending(contract, message, attached))
            data.append(value)
        elif spec.role is InputRole.STATE:
            data.append(None)
        else:
            data.append(values.get(slot, spec.default))
    return ChatCall(tuple(seeds), data)


def coerce_option(spec: ChatInput, text: str) -> JSONValue:
    """A value typed on the command line (``--option LABEL=TEXT``) as the input's type.

    Numbers for sliders and numbers, true/false for checkboxes, a JSON list or a
    comma-separated list for checkbox groups and multiselect dropdowns, the matching
    choice for dropdowns and radios (so numeric choices work), else the text itself.
    The result is checked again when the request is built.
    """
    name = spec.label or f"input {spec.component_id}"
    if spec.component in ("slider", "number"):
        try:
            number: int | float = int(text)
        except ValueError:
            try:
                number = float(text)
            except ValueError:
                raise ChatRequestError(f"option {name!r} takes a number, got {text!r}", label=spec.label) from None
        return number
    if spec.component == "checkbox":
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise ChatRequestError(f"option {name!r} takes true or false, got {text!r}", label=spec.label)
    if spec.component == "checkboxgroup" or spec.multiselect:
        items: list[JSONValue]
        if text.lstrip().startswith("["):
            try:
                loaded = json.loads(text)
            except ValueError:
                raise ChatRequestError(f"option {name!r}: {text!r} is not a JSON list", label=spec.label) from None
            items = loaded if isinstance(loaded, list) else [loaded]
        else:
            items = [part.strip() for part in text.split(",") if part.strip()]
        return [_choice(spec, item) if isinstance(item, str) else item for item in items]
    if spec.choices is not None:
        return _choice(spec, text)
    return text


def _choice(spec: ChatInput, text: str) -> JSONValue:
    return next((c for c in spec.choices or () if not isinstance(c, str) and str(c) == text), text)


def _turns(history: object) -> list[Turn]:
    # Typed callers pass a sequence of Turns; gpt4free and CLI callers pass anything.
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise ChatRequestError("history must be a sequence of Turn(user, assistant)")
    turns = list(history)
    for position, turn in enumerate(turns):
        if not (isinstance(turn, Turn) and isinstance(turn.user, str) and isinstance(turn.assistant, str)):
            raise ChatRequestError(f"history[{position}] must be a Turn(user, assistant) of two strings")
    return turns


def _files(files: object) -> list[JSONValue]:
    if isinstance(files, (str, bytes)) or not isinstance(files, Sequence):
        raise ChatRequestError("files must be a sequence of uploaded file values")
    attached: list[JSONValue] = []
    for position, item in enumerate(files):
        path = item.get("path") if isinstance(item, Mapping) else None
        if not isinstance(path, str) or not path:
            raise ChatRequestError(f"files[{position}] must be an uploaded file value with a 'path'")
        attached.append(dict(item))
    return attached


def _settings(contract: ChatContract, system: str | None, options: Mapping[str, object] | None) -> dict[int, JSONValue]:
    """The checked value of each input the caller set, by slot."""
    values: dict[int, JSONValue] = {}
    if system is not None:
        slot = next((i for i, s in enumerate(contract.inputs) if s.role is InputRole.SYSTEM), None)
        if not isinstance(system, str):
            raise ChatRequestError(f"the system prompt must be a string, got {type(system).__name__}")
        if slot is None:
            raise ChatRequestError(
                "this Space has no system prompt input (no textbox labelled as a system message or prompt); "
                "leave the system prompt out, or put it in the message"
            )
        values[slot] = system
    if options is None:
        return values
    if not isinstance(options, Mapping):
        raise ChatRequestError("options must be a mapping of input label to value")
    given: dict[int, str] = {}  # the option key that set each slot
    for label, value in options.items():
        if not isinstance(label, str):
            raise ChatRequestError(f"option labels are strings, got {type(label).__name__}")
        slot, spec = _find(contract, label)
        if slot in given:
            raise ChatRequestError(
                f"options {_shown(given[slot])} and {_shown(label)} both set the input {_name(slot, spec)}: give it once",
                label=label,
            )
        if slot in values:
            raise ChatRequestError(f"{label!r} is the system prompt, also given as system=: give it once", label=label)
        given[slot] = label
        values[slot] = _check(spec, value)
    return values


def find_option(contract: ChatContract, label: str) -> ChatInput:
    """The input ``options={label: ...}`` sets: the option or system prompt labelled
    exactly ``label``, else the one whose label is the same once both are trimmed,
    NFC-normalised and case-folded. Every way in (the client, the CLI's ``--option``,
    ``serve``, gpt4free) matches labels by this one rule. Raises
    :class:`ChatRequestError` for a label no input has, or more than one has."""
    return _find(contract, label)[1]


def _find(contract: ChatContract, label: str) -> tuple[int, ChatInput]:
    files = file_inputs(contract)  # an image/file input takes an uploaded file by its label
    settable = [
        (i, s) for i, s in enumerate(contract.inputs) if s.role in (InputRole.OPTION, InputRole.SYSTEM) or s in files
    ]
    exact = [(i, s) for i, s in settable if s.label == label]
    found = exact or [(i, s) for i, s in settable if s.label is not None and _key(s.label) == _key(label)]
    if len(found) == 1:
        return found[0]
    if found:
        raise ChatRequestError(
            f"{len(found)} inputs of this Space are labelled {_shown(label.strip())}: none can be set by label",
            label=label,
        )
    labelled = [_shown(s.label) for _, s in settable if s.label is not None]
    known = f"its options: {', '.join(labelled)}" if labelled else "it has no labelled option to set"
    unlabelled = [_name(i, s) for i, s in settable if s.label is None]
    if unlabelled:
        known += f"; not settable by label: {', '.join(unlabelled)}"
    raise ChatRequestError(f"this Space has no option {_shown(label.strip())} ({known})", label=label)


def _key(label: str) -> str:
    return unicodedata.normalize("NFC", label.strip()).casefold()


def _name(slot: int, spec: ChatInput) -> str:
    """An input as a message names it: its label, else its type and slot (as ``info`` lists it)."""
    return _shown(spec.label) if spec.label is not None else f"input {slot} (an unlabelled {spec.component})"


def _check(spec: ChatInput, value: object) -> JSONValue:
    """``value`` as the input takes it, or :class:`ChatRequestError` saying why not."""
    label = spec.label or f"input {spec.component_id}"

    def refuse(why: str) -> ChatRequestError:
        return ChatRequestError(f"option {label!r} ({spec.component}) {why}, got {_shown(value)}", label=spec.label)

    if spec.component in FILE_COMPONENTS and spec.role is InputRole.CONSTANT:
        if not isinstance(value, Mapping) or not isinstance(value.get("path"), str):
            raise refuse("takes an uploaded file (a file path on the command line: LABEL=@PATH)")
        return dict(value)
    if spec.component in ("slider", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise refuse("takes a finite number")
        if (spec.minimum is not None and value < spec.minimum) or (spec.maximum is not None and value > spec.maximum):
            low = "" if spec.minimum is None else f"{spec.minimum:g}"
            high = "" if spec.maximum is None else f"{spec.maximum:g}"
            raise refuse(f"takes a number from {low or '-inf'} to {high or 'inf'}")
        if isinstance(value, int) and not -(2**63) <= value < 2**64:
            raise refuse("takes a number JSON can carry")
        return value
    if spec.component == "checkbox":
        if not isinstance(value, bool):
            raise refuse("takes true or false")
        return value
    if spec.component == "checkboxgroup" or spec.multiselect:
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise refuse("takes a list of its choices")
        return [_one_choice(spec, item, refuse) for item in value]
    if spec.choices is not None:
        return _one_choice(spec, value, refuse)
    if not isinstance(value, str):
        raise refuse("takes text")
    return value


def _one_choice(spec: ChatInput, value: object, refuse: Callable[[str], ChatRequestError]) -> JSONValue:
    for choice in spec.choices or ():
        if type(choice) is type(value) and choice == value:
            return choice
        if _number(choice) and _number(value) and choice == value:
            return choice
    if spec.custom_values and isinstance(value, str):
        return value
    choices = ", ".join(_shown(c) for c in spec.choices or ()) or "none"
    raise refuse(f"takes one of its choices ({choices})")


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(value: object) -> str:
    return bounded(value, 80)  # a caller's value: any depth, any length


def _history_value(
    contract: ChatContract,
    turns: list[Turn],
    files: Sequence[list[JSONValue]] = (),
    replies: Sequence[list[JSONValue]] = (),
) -> list[JSONValue]:
    """Earlier turns as the app's Chatbot value, as the browser's Chatbot holds them (and
    sends them back): each turn's files before its text, the reply's files after its text
    (a reply of files alone has no text entry)."""
    history: list[JSONValue] = []
    for number, turn in enumerate(turns):
        sent = _dicts(files[number] if number < len(files) else [])
        got = _dicts(replies[number] if number < len(replies) else [])
        # A chat without a Chatbot format takes messages (see _message).
        kind, release = contract.history_format or ChatbotFormat.MESSAGES, contract.release
        if kind is ChatbotFormat.TUPLES:
            history += user_file_entries(sent, chatbot=kind, release=release)
            # 4.44's ChatInterface pairs a file-only turn's answer with None, not "".
            user = None if sent and not turn.user else turn.user
            history.append([user, None if got and not turn.assistant else turn.assistant])
        else:
            history += _user_messages(contract, turn.user, sent)
            if turn.assistant or not got:
                history.append(_message(contract, "assistant", turn.assistant))
        history += user_file_entries(got, chatbot=kind, release=release, role="assistant")
    return history


def _dicts(values: Sequence[JSONValue]) -> list[dict[str, JSONValue]]:
    return [v for v in values if isinstance(v, dict)]


def _user_messages(contract: ChatContract, text: str, files: list[dict[str, JSONValue]]) -> list[JSONValue]:
    """A user turn's messages. 6.x puts a turn's files and text in one message (its
    ChatInterface's ``_message_as_message_dict`` dropping empty text, the
    ``chatbot_multimodal`` demo's ``add_message`` keeping it); 4.44 and 5.x one message
    per file, then the text, empty or not."""
    if not files:
        return [_message(contract, "user", text)]
    if contract.history_format is not ChatbotFormat.NORMALISED:
        entries = user_file_entries(files, chatbot=ChatbotFormat.MESSAGES, release=contract.release)
        return [*entries, _message(contract, "user", text)]
    parts: list[JSONValue] = [file_part(f) for f in files]
    if text or contract.kind is not AppKind.CHAT_INTERFACE:
        parts.append({"type": "text", "text": text})
    return [{"role": "user", "metadata": None, "content": parts, "options": None}]


def _message(contract: ChatContract, role: str, content: JSONValue) -> JSONValue:
    return contract.release.message(role, content, contract.history_format or ChatbotFormat.MESSAGES)


def _pending(contract: ChatContract, message: str, files: list[JSONValue]) -> list[JSONValue]:
    """The new user message as the 4.44 ChatInterface chain's Chatbot shows it before the
    reply: one entry per file, then the text; the app strips exactly these before calling."""
    uploads: list[JSONValue] = [{"file": f, "alt_text": None} for f in files]
    if contract.history_format is ChatbotFormat.TUPLES:
        entries: list[JSONValue] = [[upload, None] for upload in uploads]
        entries.append([None if files and not message else message, None])
        return entries
    return [*(_message(contract, "user", upload) for upload in uploads), _message(contract, "user", message)]
