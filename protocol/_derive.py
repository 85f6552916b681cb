"""How a chat app's contract is derived from its ``/config``: which event is the chat
(the message box's chain, ChatInterface's API event, a Blocks chat event, the Qwen
layout), and the role of each input (see ``_chat_contract.py`` for what the roles mean)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ._chain import ChatChain, carried_states, chat_for, find_chats
from ._chat_contract import (
    LABEL_RULES,
    NUMERIC_OPTIONS,
    OPTION_COMPONENTS,
    TEXT_INPUTS,
    AppKind,
    ChatContract,
    ChatInput,
    HistoryMode,
    InputRole,
    OptionKind,
    SessionSeed,
)
from ._chatbot import ChatbotFormat
from ._config import Component, Dependency, SpaceConfig, Visibility
from .errors import AmbiguousChatError, ChatRequestError, ContractMismatchError

__all__ = ["derive_contract"]


def derive_contract(config: SpaceConfig, endpoint: str | int | None = None) -> ChatContract:
    """The chat contract of the app ``config`` describes: what Enter in its message box runs.

    ``endpoint`` chooses the chat: the message box's label, the ``api_name`` (``"/bot"`` or
    ``"bot"``) or ``fn_index`` of any step of its chain (a private step's too), or an
    event to call on its own. Without it the app must have one chat. Raises
    :class:`AmbiguousChatError` when it has several (listing them),
    :class:`ContractMismatchError` when it has none or the named event is no chat, and
    :class:`ChatRequestError` (a usage error) when the Space has no event by that name or index.
    """
    chats = find_chats(config)
    if endpoint is None:
        if len(chats) > 1:
            raise _ambiguous(config, chats)
        if chats:
            return _for_chat(config, chats[0])
        found = _candidates(config)
        if len(found) != 1:
            raise _not_one(config, found)
        return _contract(config, found[0].dependency, prefer_chain=True)
    if isinstance(endpoint, bool) or not isinstance(endpoint, (int, str)):
        raise ChatRequestError(f"endpoint must be an api_name such as '/chat' or a fn_index, got {endpoint!r}")
    if isinstance(endpoint, str):
        by_label = [chat for chat in chats if chat.label is not None and chat.label == endpoint]
        if len(by_label) == 1:
            return _for_chat(config, by_label[0])
    dependency = config.dependency(endpoint) if isinstance(endpoint, int) else _named(config, endpoint)
    chat = next((c for c in chats if any(step.fn_index == dependency.fn_index for step in c.steps)), None)
    chat = chat or chat_for(config, dependency.fn_index)
    if chat is not None:
        return _for_chat(config, chat)
    return _contract(config, dependency, prefer_chain=False)


def _ambiguous(config: SpaceConfig, chats: list[ChatChain]) -> AmbiguousChatError:
    listed: list[str] = []
    choices: list[str] = []
    for chat in chats:
        contract = _for_chat(config, chat)
        name = contract.api_name or f"fn_index {contract.fn_index}"
        api = _interface_api(config, chat)
        if api is not None and api.dependency.fn_index != contract.fn_index and _name(api.dependency):
            # 4.44's ChatInterface runs its private chain; its API page shows the API event.
            name += f" (API event {_name(api.dependency)})"
        box = (
            f"the {chat.message_box.type} {chat.label!r}"
            if chat.label
            else f"{chat.message_box.type} {chat.message_box.id}"
        )
        listed.append(f"{box} ({chat.trigger[1]}): {name}")
        choices.append(contract.api_name or str(contract.fn_index))
    return AmbiguousChatError(
        f"the Space has {len(chats)} chats (message boxes with their own chains) and qwen-space cannot tell which "
        f"one to use: {'; '.join(listed)}. Choose one with endpoint= in Python or --endpoint on the CLI (the "
        "api_name or fn_index shown, the box's label, or any step of its chain)",
        choices=tuple(choices),
    )


def _for_chat(config: SpaceConfig, chat: ChatChain) -> ChatContract:
    """The contract of one chat: a ChatInterface's API where it has one (equivalent, and
    one request), one event where the chain is one step, else the chain itself."""
    event = _interface_api(config, chat)
    if event is not None:
        return _chat_interface(config, event, prefer_chain=True, chat=chat)
    if len(chat.steps) == 1 and not carried_states(chat.steps, config.components):
        event = _event(config, config.dependency(chat.steps[0].fn_index))
        if event is not None and _is_blocks_chat(event):
            return _blocks(config, event)
    return _chain_contract(config, chat)


def _interface_api(config: SpaceConfig, chat: ChatChain) -> _Event | None:
    """The ChatInterface API event that reads the chat's message box, if the app has one."""
    box = chat.message_box.id
    for dependency in config.dependencies:
        if dependency.inputs[:1] == (box,) and dependency.backend_fn:
            event = _event(config, dependency)
            if event is not None and _is_chat_interface_api(event):
                return event
    return None


def _chain_contract(config: SpaceConfig, chat: ChatChain) -> ChatContract:
    components = config.components
    chatbot = chat.chatbot
    writers = [step for step in chat.steps if chatbot.id in step.outputs]
    reply = next((step for step in reversed(writers) if step.queue), writers[-1])
    seen: dict[int, Component] = {}
    for step in chat.steps:
        for component_id in step.inputs:
            if component_id in components:
                seen.setdefault(component_id, components[component_id])
    others = [c for c in seen.values() if c.id not in (chat.message_box.id, chatbot.id)]
    classified = iter(_extras(config, others))
    inputs = [
        _message(c) if c.id == chat.message_box.id else _history(c) if c.id == chatbot.id else next(classified)
        for c in seen.values()
    ]
    carried = carried_states(chat.steps, components)
    chatbot_format = config.chatbot_format(chatbot)
    return ChatContract(
        kind=AppKind.CHAIN,
        api_name=reply.api_name,
        fn_index=reply.fn_index,
        trigger_id=reply.trigger_id,
        inputs=tuple(inputs),
        output_types=tuple(_type_of(config, i) for i in reply.outputs),
        reply_slot=reply.outputs.index(chatbot.id),
        reply_format=chatbot_format,
        history=HistoryMode.CONVERSATION if carried else HistoryMode.REQUEST,
        history_format=chatbot_format,
        multimodal=chat.message_box.type == "multimodaltextbox",
        release=config.release,
        steps=chat.steps,
        message_id=chat.message_box.id,
        chatbot_id=chatbot.id,
        carried=tuple(c.label or f"gr.State {c.id}" for c in carried),
    )


def _type_of(config: SpaceConfig, component_id: int) -> str:
    component = config.components.get(component_id)
    return "missing" if component is None else component.type


@dataclass(frozen=True, slots=True)
class _Event:
    """A dependency with its input and output components (every id found in the config)."""

    dependency: Dependency
    inputs: tuple[Component, ...]
    outputs: tuple[Component, ...]


def _event(config: SpaceConfig, dependency: Dependency) -> _Event | None:
    inputs = [config.components.get(i) for i in dependency.inputs]
    outputs = [config.components.get(i) for i in dependency.outputs]
    if any(c is None for c in [*inputs, *outputs]):
        return None
    return _Event(dependency, tuple(c for c in inputs if c), tuple(c for c in outputs if c))


def _events(config: SpaceConfig) -> list[_Event]:
    return [e for d in config.dependencies if (e := _event(config, d)) is not None and d.backend_fn]


def _named(config: SpaceConfig, api_name: str) -> Dependency:
    wanted = api_name if api_name.startswith("/") else f"/{api_name}"
    for dependency in config.dependencies:
        if dependency.api_name is not None and f"/{dependency.api_name}" == wanted:
            return dependency
    known = ", ".join(config.endpoint_names()) or "none"
    raise ChatRequestError(
        f"the Space has no endpoint {wanted} (it has: {known}); name one of those, or an event by its fn_index"
    )


def _is_chat_interface_api(event: _Event) -> bool:
    """``[message, State, ...] -> [reply, that State, ...]``: the ChatInterface API event."""
    inputs, outputs = event.inputs, event.outputs
    return (
        len(inputs) >= 2
        and len(outputs) >= 2
        and inputs[0].type in TEXT_INPUTS
        and inputs[1].type == "state"
        and outputs[1].id == inputs[1].id
        and outputs[0].type in ("json", "textbox")
    )


def _history_slot(event: _Event) -> int | None:
    """The input slot of the Chatbot that is also an output (the history)."""
    output_ids = [c.id for c in event.outputs]
    return next((i for i, c in enumerate(event.inputs) if c.type == "chatbot" and c.id in output_ids), None)


def _is_blocks_chat(event: _Event) -> bool:
    """A text input (other than a system prompt) and a Chatbot in, that Chatbot out."""
    return (
        any(c.type in TEXT_INPUTS and _kind(c) is not OptionKind.SYSTEM for c in event.inputs)
        and _history_slot(event) is not None
    )


def _candidates(config: SpaceConfig) -> list[_Event]:
    """One event per chat: a function bound to several triggers is one event."""
    events = _events(config)
    found = [e for e in events if _is_chat_interface_api(e)]
    starts = _chain_starts(config)
    groups: list[list[_Event]] = []
    for event in events:
        # A 4.44 ChatInterface's chain event is that ChatInterface's chat, found by its API.
        if event in found or not _is_blocks_chat(event) or _chain_start(event, starts) is not None:
            continue
        dependency = event.dependency
        for group in groups:
            first = group[0].dependency
            if (first.inputs, first.outputs) == (dependency.inputs, dependency.outputs) and _same_function(
                first.api_name, dependency.api_name
            ):
                group.append(event)
                break
        else:
            groups.append([event])
    return found + [_submitted(config, group) for group in groups]


_DUPLICATE_SUFFIX = re.compile(r"_\d+$")


def _same_function(a: str | None, b: str | None) -> bool:
    """Whether two api_names may be one function's: Gradio names the second binding of
    ``f`` ``f_1``, the third ``f_2``. Unnamed (private) events compare by inputs alone."""
    if a is None or b is None:
        return True
    stem_a, stem_b = _DUPLICATE_SUFFIX.sub("", a), _DUPLICATE_SUFFIX.sub("", b)
    return stem_a in (b, stem_b) or a in (b, stem_b)


def _submitted(config: SpaceConfig, group: list[_Event]) -> _Event:
    """The binding fired by a text input's submit, else the first: what the UI sends on Enter."""
    for event in group:
        for component_id, name in event.dependency.targets:
            component = config.components.get(component_id) if component_id is not None else None
            if name == "submit" and component is not None and component.type in TEXT_INPUTS:
                return event
    return group[0]


def _not_one(config: SpaceConfig, found: list[_Event]) -> ContractMismatchError:
    how = 'choose one with endpoint="/name" (or a fn_index) in Python, or --endpoint /name on the CLI'
    if found:
        listed = "; ".join(_summary(config, e.dependency) for e in found)
        return ContractMismatchError(
            f"the Space has {len(found)} chat events and qwen-space cannot tell which one is the chat: {listed}. {how}"
        )
    events = [d for d in config.dependencies if d.backend_fn and d.visibility is not Visibility.PRIVATE]
    listed = "; ".join(_summary(config, d) for d in events[:12])
    more = f" and {len(events) - 12} more" if len(events) > 12 else ""
    return ContractMismatchError(
        "the Space has no chat event qwen-space recognises (a gr.ChatInterface, or an event that takes a "
        f"text input and a Chatbot and returns that Chatbot); its events: {listed or 'none'}{more}. "
        f"If one of them is the chat, {how}"
    )


def _summary(config: SpaceConfig, dependency: Dependency) -> str:
    def show(ids: tuple[int, ...]) -> str:
        parts = []
        for component_id in ids:
            component = config.components.get(component_id)
            if component is None:
                parts.append(f"missing component {component_id}")
            else:
                parts.append(component.type + (f" {component.label!r}" if component.label else ""))
        return "[" + ", ".join(parts) + "]"

    name = _name(dependency) or "unnamed"
    inputs, outputs = show(dependency.inputs), show(dependency.outputs)
    return f"{name} (fn_index {dependency.fn_index}, inputs {inputs}, outputs {outputs})"


# -- building the contract ----------------------------------------------------------


def _contract(config: SpaceConfig, dependency: Dependency, *, prefer_chain: bool) -> ChatContract:
    event = _event(config, dependency) if dependency.backend_fn else None
    if event is not None and _is_chat_interface_api(event):
        return _chat_interface(config, event, prefer_chain=prefer_chain)
    start = None if event is None else _chain_start(event, _chain_starts(config))
    if event is not None and start is not None:
        return _chain(config, event, start)
    if event is not None and _is_blocks_chat(event):
        return _blocks(config, event)
    raise ContractMismatchError(
        f"{_summary(config, dependency)} is not a chat event: qwen-space needs a gr.ChatInterface API event "
        "or an event that takes a text input and a Chatbot and returns that Chatbot"
    )


def _chat_interface(
    config: SpaceConfig, api: _Event, *, prefer_chain: bool, chat: ChatChain | None = None
) -> ChatContract:
    state = api.inputs[1].id
    seed = next(
        (
            e
            for e in _events(config)
            if not e.dependency.queue
            and len(e.inputs) == 1
            and e.inputs[0].type == "chatbot"
            and state in e.dependency.outputs
        ),
        None,
    )
    if seed is None and prefer_chain:
        # 4.44: the UI's own chain (message stored in a State, then the queued event).
        starts = _chain_starts(config) if chat is None else _chain_starts(config, {s.fn_index for s in chat.steps})
        for event in _events(config) if chat is None else _step_events(config, chat):
            start = _chain_start(event, starts)
            if start is not None and event.inputs[2:] == api.inputs[2:] and start.inputs == api.inputs[:1]:
                return _chain(config, event, start)
    inputs = [_message(api.inputs[0]), _state(api.inputs[1]), *_extras(config, api.inputs[2:])]
    return ChatContract(
        kind=AppKind.CHAT_INTERFACE,
        api_name=_name(api.dependency),
        fn_index=api.dependency.fn_index,
        trigger_id=api.dependency.trigger_id,
        inputs=tuple(inputs),
        output_types=tuple(c.type for c in api.outputs),
        reply_slot=0,
        reply_format=ChatbotFormat.TEXT,
        history=HistoryMode.SESSION,
        history_format=None if seed is None else config.chatbot_format(seed.inputs[0]),
        history_seed=None
        if seed is None
        else SessionSeed(fn_index=seed.dependency.fn_index, api_name=_name(seed.dependency)),
        multimodal=api.inputs[0].type == "multimodaltextbox",
        release=config.release,
    )


def _step_events(config: SpaceConfig, chat: ChatChain) -> list[_Event]:
    return [e for step in chat.steps if (e := _event(config, config.dependency(step.fn_index))) is not None]


def _chain_starts(config: SpaceConfig, among: set[int] | None = None) -> list[_Event]:
    """Non-queued events that store a text input's value in a State (4.44's first step)."""
    return [
        start
        for start in _events(config)
        if (among is None or start.dependency.fn_index in among)
        and not start.dependency.queue
        and len(start.inputs) == 1
        and start.inputs[0].type in TEXT_INPUTS
        and len(start.outputs) == 2
        and start.outputs[0] == start.inputs[0]
        and start.outputs[1].type == "state"
    ]


def _chain_start(event: _Event, starts: list[_Event]) -> _Event | None:
    """4.44's ChatInterface chain: ``event`` is ``[State, Chatbot, ...] -> [Chatbot]``
    (queued) and a non-queued event stores a text input's value in that State first."""
    inputs = event.inputs
    if not (
        event.dependency.queue
        and len(inputs) >= 2
        and inputs[0].type == "state"
        and inputs[1].type == "chatbot"
        and event.outputs == (inputs[1],)
    ):
        return None
    return next((start for start in starts if start.outputs[1] == inputs[0]), None)


def _chain(config: SpaceConfig, event: _Event, start: _Event) -> ChatContract:
    chatbot = event.inputs[1]
    chatbot_format = config.chatbot_format(chatbot)
    inputs = [_state(event.inputs[0]), _history(chatbot), *_extras(config, event.inputs[2:])]
    return ChatContract(
        kind=AppKind.CHAT_INTERFACE,
        api_name=_name(event.dependency),
        fn_index=event.dependency.fn_index,
        trigger_id=event.dependency.trigger_id,
        inputs=tuple(inputs),
        output_types=(chatbot.type,),
        reply_slot=0,
        reply_format=chatbot_format,
        history=HistoryMode.REQUEST,
        history_format=chatbot_format,
        message_seed=SessionSeed(fn_index=start.dependency.fn_index, api_name=_name(start.dependency)),
        history_holds_message=True,
        multimodal=start.inputs[0].type == "multimodaltextbox",
        release=config.release,
    )


def _blocks(config: SpaceConfig, event: _Event) -> ChatContract:
    history = _history_slot(event)
    if history is None:  # _is_blocks_chat found one: unreachable
        raise ContractMismatchError(f"{_summary(config, event.dependency)} has no Chatbot in and out")
    message = _message_slot(event.dependency, event.inputs)
    chatbot = event.inputs[history]
    chatbot_format = config.chatbot_format(chatbot)
    others = [c for slot, c in enumerate(event.inputs) if slot not in (message, history)]
    classified = iter(_extras(config, others))
    inputs = [
        _message(c) if slot == message else _history(c) if slot == history else next(classified)
        for slot, c in enumerate(event.inputs)
    ]
    if _is_qwen_layout(event) and inputs[2].role is not InputRole.SYSTEM:
        # Declared beats derived: the Qwen demos' hidden third textbox is the system prompt.
        inputs[2] = _slot(event.inputs[2], InputRole.SYSTEM, _kind(event.inputs[2]))
    return ChatContract(
        kind=AppKind.BLOCKS,
        api_name=_name(event.dependency),
        fn_index=event.dependency.fn_index,
        trigger_id=event.dependency.trigger_id,
        inputs=tuple(inputs),
        output_types=tuple(c.type for c in event.outputs),
        reply_slot=event.outputs.index(chatbot),
        reply_format=chatbot_format,
        history=HistoryMode.REQUEST,
        history_format=chatbot_format,
        multimodal=event.inputs[message].type == "multimodaltextbox",
        release=config.release,
    )


def _is_qwen_layout(event: _Event) -> bool:
    """The Qwen demos' ``model_chat(query, history, system)``, whatever the release names
    its bindings (``model_chat``, ``model_chat_1``)."""
    name = event.dependency.api_name or ""
    return (
        _DUPLICATE_SUFFIX.sub("", name) == "model_chat"
        and tuple(c.type for c in event.inputs) == ("textbox", "chatbot", "textbox")
        and event.dependency.inputs[0] != event.dependency.inputs[2]
    )


def _message_slot(dependency: Dependency, components: tuple[Component, ...]) -> int:
    """The text input the message goes to: the one whose submit fires the event, else the
    first visible one whose label does not make it a system prompt, else the first."""
    texts = [slot for slot, c in enumerate(components) if c.type in TEXT_INPUTS]
    for component_id, event in dependency.targets:
        if event == "submit" and component_id in dependency.inputs:
            slot = dependency.inputs.index(component_id)
            if slot in texts:
                return slot
    plain = [s for s in texts if components[s].visible and _kind(components[s]) is not OptionKind.SYSTEM]
    return (plain or texts)[0]


def _name(dependency: Dependency) -> str | None:
    return f"/{dependency.api_name}" if dependency.api_name else None


def _message(component: Component) -> ChatInput:
    role = InputRole.MULTIMODAL_MESSAGE if component.type == "multimodaltextbox" else InputRole.MESSAGE
    return ChatInput(
        role=role, component_id=component.id, component=component.type, label=component.label, default=None
    )


def _history(component: Component) -> ChatInput:
    return ChatInput(
        role=InputRole.HISTORY, component_id=component.id, component=component.type, label=component.label, default=None
    )


def _state(component: Component) -> ChatInput:
    return ChatInput(
        role=InputRole.STATE, component_id=component.id, component=component.type, label=component.label, default=None
    )


def _kind(component: Component) -> OptionKind | None:
    label = component.label
    if label is None:
        return None
    for rule in LABEL_RULES:
        if component.type in rule.components and rule.pattern.search(label):
            return rule.kind
    return None


def _copies_system_prompt(config: SpaceConfig, component: Component) -> bool:
    """:data:`SYSTEM_COPY_RULE`: another event writes ``component`` from a system-prompt textbox."""
    if component.type != "textbox" or component.label is not None:
        return False
    for dependency in config.dependencies:
        if component.id not in dependency.outputs:
            continue
        for source_id in dependency.inputs:
            source = config.components.get(source_id)
            if source is not None and source.id != component.id and _kind(source) is OptionKind.SYSTEM:
                return True
    return False


def _extras(config: SpaceConfig, components: Iterable[Component]) -> list[ChatInput]:
    """Roles of the inputs beside the message and the history, in order."""
    slots: list[ChatInput] = []
    system_taken = False
    for component in components:
        kind = _kind(component)
        if component.type == "state":
            slots.append(_state(component))
            continue
        role = InputRole.CONSTANT
        if not system_taken and (kind is OptionKind.SYSTEM or _copies_system_prompt(config, component)):
            role, system_taken = InputRole.SYSTEM, True
        elif component.type in OPTION_COMPONENTS and component.label is not None:
            role = InputRole.OPTION
        slots.append(_slot(component, role, kind))
    return slots


def _slot(component: Component, role: InputRole, kind: OptionKind | None) -> ChatInput:
    props = component.props
    is_option = role is InputRole.OPTION
    return ChatInput(
        role=role,
        component_id=component.id,
        component=component.type,
        label=component.label,
        default=component.default,
        kind=kind,
        minimum=component.number("minimum") if is_option and component.type in NUMERIC_OPTIONS else None,
        maximum=component.number("maximum") if is_option and component.type in NUMERIC_OPTIONS else None,
        step=component.number("step") if is_option and component.type in NUMERIC_OPTIONS else None,
        choices=component.choices if is_option and component.type in ("dropdown", "radio", "checkboxgroup") else None,
        multiselect=is_option and component.type == "dropdown" and props.get("multiselect") is True,
        custom_values=is_option and component.type == "dropdown" and props.get("allow_custom_value") is True,
    )
