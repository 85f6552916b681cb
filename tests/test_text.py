from hypothesis import given
from hypothesis import strategies as st
from qwen_space.protocol._text import TextBuilder


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
