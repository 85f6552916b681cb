"""A Space's ``GET /config``: version, protocol, API prefix, dependencies, components.

Only what a queue client needs is modelled:

* ``fn_index`` is the dependency's ``id`` (4.32+), else its position in the list;
* the trigger id is the component id of the dependency's first target;
* an endpoint is found by ``api_name`` the way gradio_client does it: ``"/" + name``,
  skipping private dependencies (``api_name: false`` on 4.x/5.x,
  ``api_visibility: "private"`` on 6.x);
* a component's label, default value and the constraints an input checks (range,
  choices) are read from its ``props`` as the server declared them, for the chat
  contract (:mod:`._chat_contract`) to describe and check the inputs it sends.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

from ._chatbot import ChatbotFormat
from ._json import JSONValue, loads
from ._release import Release, release_of
from .errors import ChatRequestError, RemoteProtocolError

__all__ = [
    "Component",
    "Dependency",
    "SpaceConfig",
    "Visibility",
    "parse_config",
]

JSONObject: TypeAlias = dict[str, JSONValue]


class Visibility(enum.Enum):
    """Whether a client may call a dependency by name. One left out of the API docs
    only (``show_api=False``, Gradio 6's ``"undocumented"``) is still public."""

    PUBLIC = "public"
    PRIVATE = "private"


@dataclass(frozen=True, slots=True, kw_only=True)
class Component:
    id: int
    type: str
    props: JSONObject

    @property
    def label(self) -> str | None:
        """The label the app gave, or ``None``: unlabelled, blank, or a 6.x translation
        placeholder (``"__i18n__{...}"``, Gradio's own labels such as the ChatInterface's)."""
        label = self.props.get("label")
        if not isinstance(label, str) or not label.strip() or label.startswith("__i18n__"):
            return None
        return label

    @property
    def default(self) -> JSONValue:
        """The value the component starts with (``props.value``)."""
        return self.props.get("value")

    @property
    def visible(self) -> bool:
        # 6.x also has visible="hidden": rendered, not shown.
        return self.props.get("visible") not in (False, "hidden")

    def number(self, prop: str) -> float | None:
        """A numeric prop (``minimum``, ``maximum``, ``step``), ``None`` if absent or not a finite number."""
        value = self.props.get(prop)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return None
        return value

    @property
    def choices(self) -> tuple[JSONValue, ...] | None:
        """The values a dropdown, radio or checkbox group accepts, ``None`` if it declares none.

        4.x to 6.x send ``[[display name, value], ...]``; a bare value is its own name.
        """
        raw = self.props.get("choices")
        if not isinstance(raw, list):
            return None
        return tuple(item[1] if isinstance(item, list) and len(item) == 2 else item for item in raw)


@dataclass(frozen=True, slots=True, kw_only=True)
class Dependency:
    fn_index: int
    api_name: str | None
    visibility: Visibility
    targets: tuple[tuple[int | None, str], ...]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    #: Whether the event runs through the queue (``queue: false`` events are answered
    #: directly by ``run/predict``, and run there even when the app closed its API).
    queue: bool = True
    #: Whether a Python function runs (``false`` for pure-JavaScript events).
    backend_fn: bool = True
    #: The dependency this one follows in a ``.then``/``.success`` chain, if any.
    trigger_after: int | None = None
    #: A ``.success`` step: it runs only when the step it follows succeeded.
    trigger_only_on_success: bool = False
    #: A ``.failure`` step (Gradio 5+): it runs only when the step it follows failed.
    trigger_only_on_failure: bool = False

    @property
    def trigger_id(self) -> int | None:
        """The component that fires this dependency (``None`` for ``.then`` chains)."""
        return self.targets[0][0] if self.targets else None


@dataclass(frozen=True, slots=True, kw_only=True)
class SpaceConfig:
    version: str | None
    #: What the server's release does (protocol, diffs, formats, routes): read once here.
    release: Release
    connect_heartbeat: bool
    dependencies: tuple[Dependency, ...]
    components: Mapping[int, Component]

    @property
    def protocol(self) -> str:
        return self.release.protocol

    @property
    def api_prefix(self) -> str:
        return self.release.api_prefix

    def chatbot_format(self, component: Component) -> ChatbotFormat:
        """How ``component``'s value is laid out on this release (TEXT unless a chatbot)."""
        return self.release.chatbot_format(component.type, component.props)

    def dependency(self, fn_index: int) -> Dependency:
        """The dependency with ``fn_index``; a caller's mistyped index is a usage error
        (:class:`ChatRequestError`), not the Space's drift."""
        found = next((d for d in self.dependencies if d.fn_index == fn_index), None)
        if found is None:
            known = ", ".join(str(d.fn_index) for d in self.dependencies) or "none"
            raise ChatRequestError(
                f"the Space has no event with fn_index {fn_index} (it has: {known}; its endpoints: "
                f"{', '.join(self.endpoint_names()) or 'none'}); name one of those"
            )
        return found

    def endpoint_names(self) -> list[str]:
        return [f"/{d.api_name}" for d in self.dependencies if d.api_name and d.visibility is not Visibility.PRIVATE]


def parse_config(raw: bytes | str | Mapping[str, JSONValue]) -> SpaceConfig:
    """Parse ``/config``. Raises :class:`RemoteProtocolError` if it is malformed and
    :class:`ContractMismatchError` if the server speaks a protocol this client lacks."""
    payload = raw if isinstance(raw, Mapping) else loads(raw, what="the Space's /config")
    if not isinstance(payload, Mapping):
        raise RemoteProtocolError("config: expected a JSON object")
    protocol = payload.get("protocol", "ws")
    if not isinstance(protocol, str):
        raise RemoteProtocolError(f"config.protocol: expected a string, got {protocol!r}")
    version = payload.get("version")
    version = version if isinstance(version, str) else None
    prefix = payload.get("api_prefix") or ""
    if not isinstance(prefix, str) or (prefix and not prefix.startswith("/")):
        raise RemoteProtocolError(f"config.api_prefix: expected a path such as '/gradio_api', got {prefix!r}")
    release = release_of(version, protocol, prefix.rstrip("/"))
    raw_components = payload.get("components", [])
    raw_dependencies = payload.get("dependencies", [])
    if not isinstance(raw_components, list):
        raise RemoteProtocolError("config.components: expected an array")
    if not isinstance(raw_dependencies, list):
        raise RemoteProtocolError("config.dependencies: expected an array")
    components = {c.id: c for c in (_component(item, i) for i, item in enumerate(raw_components))}
    dependencies = tuple(_dependency(item, i) for i, item in enumerate(raw_dependencies))
    return SpaceConfig(
        version=version,
        release=release,
        connect_heartbeat=payload.get("connect_heartbeat") is True,
        dependencies=dependencies,
        components=components,
    )


def _component(item: JSONValue, position: int) -> Component:
    where = f"config.components[{position}]"
    if not isinstance(item, dict):
        raise RemoteProtocolError(f"{where}: expected an object")
    component_id = item.get("id")
    component_type = item.get("type")
    props = item.get("props", {})
    if not _is_int(component_id):
        raise RemoteProtocolError(f"{where}.id: expected an integer, got {component_id!r}")
    if not isinstance(component_type, str):
        raise RemoteProtocolError(f"{where}.type: expected a string, got {component_type!r}")
    assert isinstance(component_id, int)
    return Component(id=component_id, type=component_type, props=props if isinstance(props, dict) else {})


def _dependency(item: JSONValue, position: int) -> Dependency:
    where = f"config.dependencies[{position}]"
    if not isinstance(item, dict):
        raise RemoteProtocolError(f"{where}: expected an object")
    fn_index = item.get("id", position)
    if not _is_int(fn_index):
        raise RemoteProtocolError(f"{where}.id: expected an integer, got {fn_index!r}")
    assert isinstance(fn_index, int)
    raw_name = item.get("api_name")
    api_name = raw_name if isinstance(raw_name, str) and raw_name else None
    after = item.get("trigger_after")
    return Dependency(
        fn_index=fn_index,
        api_name=api_name,
        visibility=_visibility(item, raw_name),
        targets=_targets(item.get("targets", []), where),
        inputs=_ids(item.get("inputs", []), f"{where}.inputs"),
        outputs=_ids(item.get("outputs", []), f"{where}.outputs"),
        queue=item.get("queue") is not False,
        backend_fn=item.get("backend_fn") is not False,
        trigger_after=after if isinstance(after, int) and not isinstance(after, bool) else None,
        trigger_only_on_success=item.get("trigger_only_on_success") is True,
        trigger_only_on_failure=item.get("trigger_only_on_failure") is True,
    )


def _visibility(item: JSONObject, raw_name: JSONValue) -> Visibility:
    declared = item.get("api_visibility")
    if declared in ("public", "undocumented"):
        return Visibility.PUBLIC
    if declared == "private" or raw_name is False:
        return Visibility.PRIVATE
    return Visibility.PUBLIC


def _targets(raw: JSONValue, where: str) -> tuple[tuple[int | None, str], ...]:
    if not isinstance(raw, list):
        raise RemoteProtocolError(f"{where}.targets: expected an array")
    targets: list[tuple[int | None, str]] = []
    for target in raw:
        if not (isinstance(target, list) and len(target) == 2 and isinstance(target[1], str)):
            raise RemoteProtocolError(f"{where}.targets: expected [component id, event name] pairs, got {target!r}")
        component_id = target[0]
        if component_id is not None and not _is_int(component_id):
            raise RemoteProtocolError(f"{where}.targets: component id must be an integer or null")
        assert component_id is None or isinstance(component_id, int)
        targets.append((component_id, target[1]))
    return tuple(targets)


def _ids(raw: JSONValue, where: str) -> tuple[int, ...]:
    if not isinstance(raw, list) or not all(_is_int(i) for i in raw):
        raise RemoteProtocolError(f"{where}: expected an array of component ids")
    return tuple(i for i in raw if isinstance(i, int))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
