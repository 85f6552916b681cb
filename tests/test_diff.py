"""DiffedOutputs and its TextBuilder: private units of the protocol, tested here on purpose."""

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qwen_space.protocol import JSONValue
from qwen_space.protocol._diff import DiffedOutputs, TextBuilder

from .gradio_diff import server_diff
from .strategies import json_values


def apply_one(old: JSONValue, edits: JSONValue) -> DiffedOutputs:
    outputs = DiffedOutputs([old])
    outputs.apply([edits])
    return outputs


@given(json_values, json_values)
def test_oracle_correct_server_diffs_rebuild_new(old: JSONValue, new: JSONValue) -> None:
    """Edits from the server's diff algorithm, applied in order, give ``new`` exactly."""
    outputs = apply_one(old, server_diff(old, new))
    assert not outputs.is_desynchronised(0)
    assert outputs.value(0) == new


@given(json_values, json_values)
def test_oracle_pre_5_29_1_deletes_desynchronise_never_corrupt(old: JSONValue, new: JSONValue) -> None:
    """Unrenumbered deletes (Gradio 4.17-5.29.0) either apply exactly or desynchronise."""
    outputs = apply_one(old, server_diff(old, new, "pre_5_29_1"))
    assert outputs.is_desynchronised(0) or outputs.value(0) == new


@given(st.lists(st.text(max_size=5), max_size=30))
def test_string_appends_accumulate(pieces: list[str]) -> None:
    """Many appends to one string read back as their concatenation, at any point."""
    outputs = DiffedOutputs([["hi", ""]])
    for i, piece in enumerate(pieces):
        outputs.apply([[["append", [1], piece]]])
        if i % 7 == 0:
            assert outputs.value(0) == ["hi", "".join(pieces[: i + 1])]
    assert outputs.value(0) == ["hi", "".join(pieces)]


def test_pre_5_29_1_trailing_deletes_desynchronise() -> None:
    outputs = apply_one([1, 2, 3], [["delete", [1], None], ["delete", [2], None]])
    assert outputs.is_desynchronised(0)
    outputs.apply([[["replace", [], [9]]]])
    assert outputs.value(0) == [1, 3], "a desynchronised output ignores edits until a full value"


def test_nested_renumber_defect_is_silently_wrong_as_documented() -> None:
    old: JSONValue = [[1, 2], [3, 4]]
    edits = server_diff(old, [[1], [3]], "nested_renumber")
    assert edits == [["delete", [0, 1], None], ["delete", [1, 0], None]]
    assert apply_one(old, list(edits)).value(0) == [[1], [4]]


def test_captured_chatbot_appends() -> None:
    tuples = DiffedOutputs([[["hi", "Hello"]]])
    tuples.apply([[["append", [0, 1], " there"]]])
    normalised = DiffedOutputs(
        [
            [
                {"role": "user", "content": [{"text": "hi", "type": "text"}]},
                {"role": "assistant", "content": [{"text": "Hello", "type": "text"}]},
            ]
        ]
    )
    normalised.apply([[["append", [1, "content", 0, "text"], " there"]]])
    assert tuples.value(0) == [["hi", "Hello there"]]
    value = normalised.value(0)
    assert isinstance(value, list)
    assert value[1] == {"role": "assistant", "content": [{"text": "Hello there", "type": "text"}]}


def test_empty_edit_list_means_unchanged_and_late_slots_start_from_null() -> None:
    outputs = DiffedOutputs(["Echo:", None])
    outputs.apply([[["append", [], " hi"]], []])
    outputs.apply([[], [], [["replace", [], 5]]])
    assert [outputs.value(0), outputs.value(1), outputs.value(2)] == ["Echo: hi", None, 5]


def test_full_values_are_copied_not_shared() -> None:
    original: list[JSONValue] = [["a", [1]]]
    snapshot = copy.deepcopy(original)
    outputs = DiffedOutputs(original)
    outputs.apply([[["append", [0], "b"], ["add", [1, 1], 2]]])
    assert original == snapshot
    assert outputs.value(0) == ["ab", [1, 2]]


@pytest.mark.parametrize(
    "edits",
    [
        "not a list",
        [["append"]],
        [["append", "0", "x"]],
        [["append", [True], "x"]],
        [["append", [5], "x"]],
        [["append", [0], 3]],
        [["explode", [0], None]],
        [["delete", [], None]],
        [["add", [9], "x"]],
        [["replace", [0, "k"], 1]],
        [["append", [], "x"]],
    ],
)
def test_edits_that_cannot_apply_desynchronise(edits: JSONValue) -> None:
    outputs = DiffedOutputs([["a", 1]])
    outputs.apply([edits])
    assert outputs.is_desynchronised(0)


def test_many_appends_read_back_exactly() -> None:
    # The cost per append is measured by benchmarks/protocol_cost.py, not here.
    outputs = DiffedOutputs([["q", ""]])
    for _ in range(20_000):
        outputs.apply([[["append", [1], "token "]]])
    assert outputs.value(0) == ["q", "token " * 20_000]


@given(st.text(max_size=20), st.lists(st.text(max_size=3000), max_size=40), st.integers(min_value=0, max_value=40))
def test_builds_the_concatenation(start: str, pieces: list[str], read_at: int) -> None:
    """Whatever the pieces and whenever the text is read, it is the concatenation."""
    builder = TextBuilder(start)
    for i, piece in enumerate(pieces):
        builder.append(piece)
        if i == read_at:
            assert builder.build_after("<") == "<" + start + "".join(pieces[: i + 1])
    assert builder.build_after("") == start + "".join(pieces)
    assert len(builder) == len(start) + sum(map(len, pieces))


@given(st.lists(st.text("ab", max_size=3000), max_size=12), st.text("ab", max_size=30), st.integers(0, 12))
def test_is_prefix_of_compares_without_building(pieces: list[str], tail: str, cut: int) -> None:
    builder = TextBuilder()
    for piece in pieces:
        builder.append(piece)
    whole = "".join(pieces)
    for text in (whole, whole + tail, whole[: len(whole) - cut], tail + whole, whole[:cut] + tail + whole[cut:]):
        assert builder.is_prefix_of(text) == text.startswith(whole)
        assert builder.is_prefix_of(tail + text, len(tail)) == text.startswith(whole)
