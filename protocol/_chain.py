"""What a person's Enter in a chat's message box makes the browser run: the event chain.

Gradio's front-end fires every dependency whose target is the trigger (a textbox's
``submit``, a button's ``click``), then, as each one ends, the dependencies that name it
in ``trigger_after`` (``.then``; ``.success`` ones only after a success, ``.failure`` ones
only after a failure, which ends a chat: they are no part of one). This module
finds those chains in ``/config``:

* a *message box* is a Textbox or MultimodalTextbox (not one labelled as a system
  prompt) that the chain of its ``submit`` reads, and whose chain reads and writes a
  Chatbot; a box without a ``submit`` chain is sent by a button's ``click`` that reads it
  (the one labelled like "Send" or "Submit" where there are several);
* its chain is the backend steps reached from the trigger, in an order where each
  step comes after the one it follows (what one browser tab does, one step at a time);
  JavaScript-only steps are skipped, their followers kept; trailing steps that write
  neither the Chatbot nor a ``gr.State`` are left out (they only change what the page
  shows after the reply).

Buttons bound to the Chatbot itself (retry, undo, like, clear, examples) are not
message boxes, so they never make a Space ambiguous. Everything is indexed once: the
work is linear in the size of ``/config``.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ._config import Component, Dependency, SpaceConfig

__all__ = ["ChainStep", "ChatChain", "carried_states", "chat_for", "find_chats"]

TEXT_INPUTS = frozenset({"textbox", "multimodaltextbox"})
_SEND_LABEL = re.compile(r"send|submit|chat|ask|go\b|run|发送|提交|➤|🚀", re.IGNORECASE)
_SYSTEM_LABEL = re.compile(r"^\s*system\s*:?\s*$|\bsystem[\s_-]*(message|prompt|instructions?)\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainStep:
    """One dependency of a chain, as the client runs it."""

    fn_index: int
    #: ``"/name"``; ``None`` for a private step (still callable by ``fn_index``).
    api_name: str | None
    #: ``False``: answered directly by ``run/predict``; ``True``: through the queue.
    queue: bool
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    #: The component whose event started the chain (the payload's ``trigger_id``).
    trigger_id: int | None
    #: The step this one follows (``None`` for the trigger's own dependencies).
    after: int | None
    #: A ``.success`` step: skipped when the step it follows failed.
    only_on_success: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ChatChain:
    """One chat of the app: a message box, the Chatbot its chain writes, and the chain."""

    message_box: Component
    chatbot: Component
    #: ``(component id, event)`` that starts the chain.
    trigger: tuple[int, str]
    steps: tuple[ChainStep, ...]

    @property
    def label(self) -> str | None:
        return self.message_box.label

    def names(self) -> list[str]:
        """How a caller may name this chat: the box's label, each step's api_name and fn_index."""
        names = [f"{self.label!r}"] if self.label else []
        names += [step.api_name for step in self.steps if step.api_name]
        names += [f"fn_index {step.fn_index}" for step in self.steps]
        return names

    def describe(self) -> str:
        box = (
            f"{self.message_box.type} {self.label!r}"
            if self.label
            else f"{self.message_box.type} {self.message_box.id}"
        )
        steps = ", ".join(_step_name(step) for step in self.steps)
        return f"{box} ({self.trigger[1]}): {steps}"


def _step_name(step: ChainStep) -> str:
    return f"{step.api_name or 'private'} (fn_index {step.fn_index}{'' if step.queue else ', not queued'})"


class _Index:
    """The config's dependencies by trigger and by the step they follow, built once."""

    def __init__(self, config: SpaceConfig) -> None:
        self.config = config
        self.by_trigger: dict[tuple[int, str], list[Dependency]] = {}
        self.followers: dict[int, list[Dependency]] = {}
        for dependency in config.dependencies:
            if dependency.trigger_after is not None:
                # A ``.failure`` step runs only after a failure, which ends the chat.
                if not dependency.trigger_only_on_failure:
                    self.followers.setdefault(dependency.trigger_after, []).append(dependency)
                continue
            for component_id, event in dependency.targets:
                if component_id is not None:
                    self.by_trigger.setdefault((component_id, event), []).append(dependency)

    def chain(self, trigger: tuple[int, str]) -> list[tuple[Dependency, int | None]]:
        """The dependencies the trigger starts, each after the one it follows, with that one's fn_index."""
        found: list[tuple[Dependency, int | None]] = []
        seen: set[int] = set()
        # Each dependency is seen once however the chain branches: linear, and no loop
        # survives a malformed config whose trigger_after points back.
        waiting: deque[tuple[Dependency, int | None]] = deque((d, None) for d in self.by_trigger.get(trigger, ()))
        while waiting:
            dependency, after = waiting.popleft()
            if dependency.fn_index in seen:
                continue
            seen.add(dependency.fn_index)
            found.append((dependency, after))
            waiting.extend((f, dependency.fn_index) for f in self.followers.get(dependency.fn_index, ()))
        return found


def find_chats(config: SpaceConfig) -> list[ChatChain]:
    """Every chat of the app, one per message box, in the order of the boxes' ids."""
    index = _Index(config)
    components = config.components
    chats: list[ChatChain] = []
    clicks: dict[int, list[tuple[int, str]]] = {}  # box id -> click triggers that read it
    submitted: set[int] = set()
    for (component_id, event), dependencies in index.by_trigger.items():
        component = components.get(component_id)
        if component is None:
            continue
        if event == "submit" and _is_message_box(component):
            chat = _chat(index, component, (component_id, event))
            if chat is not None:
                chats.append(chat)
                submitted.add(component_id)
        elif event == "click" and component.type == "button":
            boxes = [components[i] for d in dependencies for i in d.inputs if i in components]
            boxes = [box for box in boxes if _is_message_box(box)]
            if boxes:
                clicks.setdefault(boxes[0].id, []).append((component_id, event))
    for box_id, triggers in clicks.items():
        # A Send button of a box that has its own submit chain is the same chat.
        if box_id in submitted:
            continue
        for trigger in sorted(triggers, key=lambda t: _send_rank(components.get(t[0]))):
            chat = _chat(index, components[box_id], trigger)
            if chat is not None:
                chats.append(chat)
                break
    chats.sort(key=lambda c: (c.message_box.id, c.trigger[0]))
    return chats


def chat_for(config: SpaceConfig, fn_index: int) -> ChatChain | None:
    """The chat whose chain holds the dependency ``fn_index``, started from its root's
    trigger (a Send button a person could click, say), or ``None``."""
    by_fn = {d.fn_index: d for d in config.dependencies}
    dependency = by_fn.get(fn_index)
    seen: set[int] = set()
    while dependency is not None and dependency.trigger_after is not None and dependency.fn_index not in seen:
        seen.add(dependency.fn_index)
        dependency = by_fn.get(dependency.trigger_after)
    if dependency is None or not dependency.targets:
        return None
    component_id, event = dependency.targets[0]
    if component_id is None:
        return None
    index = _Index(config)
    trigger = (component_id, event)
    components = config.components
    for box_id in (i for d, _ in index.chain(trigger) if d.backend_fn for i in d.inputs):
        box = components.get(box_id)
        if box is not None and _is_message_box(box):
            chat = _chat(index, box, trigger)
            if chat is not None and any(step.fn_index == fn_index for step in chat.steps):
                return chat
            return None
    return None


def _is_message_box(component: Component) -> bool:
    """A text box a person can type a message into: visible, and not a system prompt."""
    label = component.label
    return (
        component.type in TEXT_INPUTS and component.visible and not (label is not None and _SYSTEM_LABEL.search(label))
    )


def _send_rank(button: Component | None) -> int:
    """Buttons labelled like Send or Submit first."""
    value = button.props.get("value") if button is not None else None
    return 0 if isinstance(value, str) and _SEND_LABEL.search(value) else 1


def _chat(index: _Index, box: Component, trigger: tuple[int, str]) -> ChatChain | None:
    """The chat ``trigger`` starts from ``box``, or ``None`` when it is no chat (the box is not
    read, or no Chatbot is both read and written)."""
    components = index.config.components
    chain = index.chain(trigger)
    read = {i for d, _ in chain if d.backend_fn for i in d.inputs}
    if box.id not in read:
        return None
    written = [i for d, _ in chain if d.backend_fn for i in d.outputs]
    chatbot = next((components[i] for i in written if i in read and _type(components, i) == "chatbot"), None)
    if chatbot is None:
        return None
    steps = [_step(d, after, trigger[0]) for d, after in chain if d.backend_fn]
    steps = _without_trailing(steps, chatbot.id, components)
    return ChatChain(message_box=box, chatbot=chatbot, trigger=trigger, steps=tuple(steps))


def _type(components: Mapping[int, Component], component_id: int) -> str | None:
    component = components.get(component_id)
    return None if component is None else component.type


def _step(dependency: Dependency, after: int | None, trigger_id: int) -> ChainStep:
    return ChainStep(
        fn_index=dependency.fn_index,
        api_name=f"/{dependency.api_name}" if dependency.api_name and dependency.visibility.value == "public" else None,
        queue=dependency.queue,
        inputs=dependency.inputs,
        outputs=dependency.outputs,
        trigger_id=trigger_id,
        after=after,
        only_on_success=dependency.trigger_only_on_success,
    )


def _without_trailing(steps: list[ChainStep], chatbot: int, components: Mapping[int, Component]) -> list[ChainStep]:
    def matters(step: ChainStep) -> bool:
        return any(i == chatbot or _type(components, i) == "state" for i in step.outputs)

    end = len(steps)
    while end > 0 and not matters(steps[end - 1]):
        end -= 1
    return steps[:end]


def carried_states(steps: Iterable[ChainStep], components: Mapping[int, Component]) -> list[Component]:
    """The ``gr.State`` inputs that carry the chat from turn to turn: a step reads them
    before any step of the chain wrote them, and a step of the chain writes them. Their
    value comes from earlier turns of the session, where a stateless request cannot put
    anything. (A State nothing writes holds its initial value: nothing is lost.)"""
    written: set[int] = set()
    carried: dict[int, Component] = {}
    for step in steps:
        for component_id in step.inputs:
            component = components.get(component_id)
            if component is not None and component.type == "state" and component_id not in written:
                carried.setdefault(component_id, component)
        written.update(step.outputs)
    return [component for component_id, component in carried.items() if component_id in written]
