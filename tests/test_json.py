"""``loads`` (orjson first) means what the standard library's json means, with integers
beyond 64 bits read as floats."""

import json
import math
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from qwen_space.protocol._json import loads
from qwen_space.protocol.errors import RemoteProtocolError

# Values JSON can carry, and some it cannot quite: lone surrogates, NaN, huge integers.
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.sampled_from([2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 0, -0.0, 1.0, 1, True])
    | st.floats()
    | st.text()
    | st.sampled_from(["\udc00", "\ud800x", "\u2028\u0085", "\x00", "\ufeff"]),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=16,
)


def deep(depth: int) -> str:
    return "[" * depth + "]" * depth


def same(a: Any, b: Any) -> bool:
    """Equal, with NaN equal to NaN and ints, floats and bools told apart (iterative:
    the values may nest deeper than the recursion limit)."""
    pending = [(a, b)]
    while pending:
        x, y = pending.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, float):
            if not ((math.isnan(x) and math.isnan(y)) or (x == y and math.copysign(1, x) == math.copysign(1, y))):
                return False
        elif isinstance(x, list):
            if len(x) != len(y):
                return False
            pending += zip(x, y, strict=True)
        elif isinstance(x, dict):
            if list(x) != list(y):
                return False
            pending += [(x[k], y[k]) for k in x]
        elif x != y:
            return False
    return True


def reference(text: str) -> Any:
    """json, with orjson's one rule for integers written out again here."""
    return json.loads(text, parse_int=lambda s: int(s) if -(2**63) <= int(s) <= 2**64 - 1 else float(s))


def check(text: str) -> None:
    try:
        expected: Any = reference(text)
    except (ValueError, RecursionError):
        try:
            loads(text, what="x")
        except RemoteProtocolError:
            return
        raise AssertionError(f"loads accepted what json refuses: {text[:80]!r}") from None
    assert same(loads(text, what="x"), expected)


@settings(max_examples=500)
@given(values, st.booleans(), st.sampled_from([None, 0, 2]))
@example(2**64, False, None)
@example(-(2**63) - 1, False, None)
@example(float("nan"), False, None)
@example("\udc00", True, None)
def test_same_value_as_json(value: Any, ascii_only: bool, indent: int | None) -> None:
    check(json.dumps(value, ensure_ascii=ascii_only, indent=indent))


@given(st.text(max_size=40))
@example('{"a":1,"a":2}')
@example('\ufeff{"a":1}')
@example("1.")
@example("01")
@example("1e400")
@example("-1e-400")
@example('"\\ud800"')
@example("[1,]")
@example("Infinity")
@example("-NaN")
@example(' {"a": 12345678901234567890} ')
@example(deep(1100))
@example(deep(990))
def test_same_answer_on_any_text(text: str) -> None:
    check(text)


@given(st.text(alphabet='[]{}":,0123456789.eE+-truefalsnul \\', max_size=60))
def test_same_answer_on_json_like_text(text: str) -> None:
    check(text)


@given(values)
def test_a_large_document_means_the_same(value: Any) -> None:
    """Documents over 256 KiB take json's path: the same meaning, checked past the size."""
    check(json.dumps([value, "x" * 300_000, 2**64, -(2**63) - 1, 2**63]))
