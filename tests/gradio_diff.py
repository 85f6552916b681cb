"""A test-side copy of the Gradio server's diff algorithm (``gradio.utils.diff``).

``variant`` selects which server generation to imitate:

* ``"correct"``: deletes renumbered within their own list, so they apply in order;
* ``"pre_5_29_1"``: deletes not renumbered (4.17 to 5.29.0: applying them raises);
* ``"nested_renumber"``: 5.29.1 to 6.31.0, where the renumbering runs again at every
  enclosing list level and silently corrupts inner lists.
"""

from typing import Literal

from qwen_space.protocol import JSONValue

Variant = Literal["correct", "pre_5_29_1", "nested_renumber"]


def server_diff(old: JSONValue, new: JSONValue, variant: Variant = "correct") -> list[JSONValue]:
    return _diff(old, new, [], variant)


def _diff(old: JSONValue, new: JSONValue, path: list[JSONValue], variant: Variant) -> list[JSONValue]:
    if old == new:
        return []
    if type(old) is not type(new):
        return [["replace", path, new]]
    if isinstance(old, str) and isinstance(new, str) and new.startswith(old):
        return [["append", path, new[len(old) :]]]
    if isinstance(old, list) and isinstance(new, list):
        edits: list[JSONValue] = []
        for i in range(min(len(old), len(new))):
            edits += _diff(old[i], new[i], [*path, i], variant)
        if variant == "correct":
            edits += [["delete", [*path, len(new)], None] for _ in range(len(new), len(old))]
        else:
            edits += [["delete", [*path, i], None] for i in range(len(new), len(old))]
        if variant == "nested_renumber":
            edits = _renumber_every_delete(edits)
        edits += [["add", [*path, i], new[i]] for i in range(len(old), len(new))]
        return edits
    if isinstance(old, dict) and isinstance(new, dict):
        edits = []
        for key in old:
            if key in new:
                edits += _diff(old[key], new[key], [*path, key], variant)
        edits += [["delete", [*path, key], None] for key in old if key not in new]
        edits += [["add", [*path, key], new[key]] for key in new if key not in old]
        return edits
    return [["replace", path, new]]


def _renumber_every_delete(edits: list[JSONValue]) -> list[JSONValue]:
    """The 5.29.1+ defect: the k-th delete of a list index collected at this level,
    nested or not, has that index lowered by k (gradio.utils.diff; deletes of dict
    keys are neither renumbered nor counted)."""
    renumbered: list[JSONValue] = []
    count = 0
    for edit in edits:
        if isinstance(edit, list) and edit[0] == "delete" and isinstance(edit[1], list):
            last = edit[1][-1]
            if isinstance(last, int):
                edit = ["delete", [*edit[1][:-1], last - count], None]
                count += 1
        renumbered.append(edit)
    return renumbered


def chunk_edits(old: list[JSONValue], new: list[JSONValue], variant: Variant = "correct") -> list[JSONValue]:
    """``output.data`` of a process_generating message after the first: edits per slot."""
    return [server_diff(o, n, variant) for o, n in zip(old, new, strict=True)]
