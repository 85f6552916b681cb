"""Hypothesis strategies shared by the property tests."""

from itertools import pairwise

from hypothesis import strategies as st
from qwen_space.protocol import JSONValue, SSEEvent

# Text that survives an SSE round trip: no CR (a line break on the wire), no
# surrogates (not encodable as UTF-8). LF is allowed in data: it becomes two lines.
_field_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"), max_size=20)
_data_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\r"), max_size=60)

sse_events = st.builds(
    SSEEvent,
    data=_data_text,
    event=st.one_of(st.just("message"), _field_text.filter(bool)),
    id=_field_text.filter(lambda s: "\x00" not in s),
    retry=st.one_of(st.none(), st.integers(min_value=0, max_value=10**9)),
)

json_values: st.SearchStrategy[JSONValue] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@st.composite
def chunked(draw: st.DrawFn, payload: bytes) -> list[bytes]:
    """``payload`` cut at drawn division points (every chunking is equally possible)."""
    if len(payload) < 2:
        return [payload]
    cuts = sorted(draw(st.sets(st.integers(min_value=1, max_value=len(payload) - 1), max_size=12)))
    bounds = [0, *cuts, len(payload)]
    return [payload[a:b] for a, b in pairwise(bounds)]
