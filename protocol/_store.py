"""What the browser keeps while a chain runs: the current value of every component.

A step's inputs are read from the store; its outputs are written back, whole values or
Gradio's update dicts (``{"__type__": "update", "value": ...}``: only a ``value`` key
changes the value). ``gr.State`` values live on the server: a State input is sent as
``null`` and a State output is not kept.
"""

from __future__ import annotations

from collections.abc import Mapping

from ._chain import ChainStep
from ._config import Component
from ._json import JSONValue

__all__ = ["ComponentStore"]


class ComponentStore:
    """Component values by id: the config's initial values, overridden by ``values``."""

    __slots__ = ("_components", "_values")

    def __init__(self, components: Mapping[int, Component], values: Mapping[int, JSONValue] | None = None) -> None:
        self._components = components
        self._values: dict[int, JSONValue] = dict(values or {})

    def get(self, component_id: int) -> JSONValue:
        if component_id in self._values:
            return self._values[component_id]
        component = self._components.get(component_id)
        return None if component is None else component.default

    def set(self, component_id: int, value: JSONValue) -> None:
        self._values[component_id] = value

    def inputs(self, step: ChainStep) -> list[JSONValue]:
        """The step's ``data``: each input's value, ``null`` for a State."""
        return [None if self._is_state(i) else self.get(i) for i in step.inputs]

    def apply(self, step: ChainStep, data: object) -> None:
        """Write a step's output values (a list as long as its outputs; anything else is ignored)."""
        if not isinstance(data, list):
            return
        for component_id, value in zip(step.outputs, data, strict=False):
            if self._is_state(component_id):
                continue
            if isinstance(value, dict) and value.get("__type__") == "update":
                if "value" in value:
                    self._values[component_id] = value["value"]
                continue
            self._values[component_id] = value

    def _is_state(self, component_id: int) -> bool:
        component = self._components.get(component_id)
        return component is not None and component.type == "state"
