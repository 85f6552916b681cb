import pytest
from hypothesis import given
from hypothesis import strategies as st
from qwen_space.protocol import SSEDecoder, SSEEvent
from qwen_space.protocol.errors import ChatRequestError, RemoteProtocolError, UsageError

from .sse_encoding import encode_events
from .strategies import chunked, sse_events


def decode_all(chunks: list[bytes], **kwargs: int) -> list[SSEEvent]:
    decoder = SSEDecoder(**kwargs)
    events = [event for chunk in chunks for event in decoder.feed(chunk)]
    return events + decoder.close()


def check_three_ways(payload: bytes, expected: list[SSEEvent]) -> None:
    """h11's tr(): whole, one byte at a time, and followed by an unterminated event."""
    assert decode_all([payload]) == expected
    assert decode_all([payload[i : i + 1] for i in range(len(payload))]) == expected
    assert decode_all([payload + b"data: never dispatched"]) == expected


class TestWhatwgExamples:
    def test_gradio_message(self) -> None:
        check_three_ways(
            b'data: {"msg":"heartbeat","event_id":null}\n\n',
            [SSEEvent(data='{"msg":"heartbeat","event_id":null}')],
        )

    def test_multi_line_data_joined_with_lf(self) -> None:
        check_three_ways(b"data: YHOO\ndata: +2\ndata: 10\n\n", [SSEEvent(data="YHOO\n+2\n10")])

    def test_comments_and_id_persistence(self) -> None:
        payload = b": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n"
        check_three_ways(
            payload,
            [
                SSEEvent(data="first event", id="1"),
                SSEEvent(data="second event", id=""),
                SSEEvent(data=" third event", id=""),
            ],
        )

    def test_empty_data_fields(self) -> None:
        check_three_ways(b"data\n\ndata\ndata\n\ndata:", [SSEEvent(data=""), SSEEvent(data="\n")])

    def test_event_type_and_retry(self) -> None:
        check_three_ways(
            b"event: generating\nretry: 3000\ndata: x\n\nretry: 1a\ndata: y\n\n",
            [SSEEvent(data="x", event="generating", retry=3000), SSEEvent(data="y")],
        )

    def test_id_with_nul_is_ignored(self) -> None:
        check_three_ways(
            b"id: 7\ndata: a\n\nid: 8\x009\ndata: b\n\n", [SSEEvent(data="a", id="7"), SSEEvent(data="b", id="7")]
        )

    def test_event_without_data_is_not_dispatched(self) -> None:
        check_three_ways(b"event: ping\n\ndata: a\n\n", [SSEEvent(data="a")])

    def test_unknown_field_is_ignored(self) -> None:
        check_three_ways(b"foo: bar\ndata: a\n\n", [SSEEvent(data="a")])


class TestLineEndings:
    @pytest.mark.parametrize("newline", [b"\n", b"\r", b"\r\n"])
    def test_each_line_ending(self, newline: bytes) -> None:
        payload = b"data: a" + newline + b"data: b" + newline + newline
        check_three_ways(payload, [SSEEvent(data="a\nb")])

    def test_crlf_split_across_chunks(self) -> None:
        assert decode_all([b"data: a\r", b"\ndata: b\r", b"\n\r", b"\n"]) == [SSEEvent(data="a\nb")]

    def test_cr_at_chunk_end_then_blank_line(self) -> None:
        decoder = SSEDecoder()
        assert decoder.feed(b"data: a\r") == []
        assert decoder.feed(b"\r") == [SSEEvent(data="a")]

    def test_unicode_separators_stay_inside_data(self) -> None:
        text = "a\u2028b\u0085c\u2029d\x0be\x0cf\x1cg"
        check_three_ways(f"data: {text}\n\n".encode(), [SSEEvent(data=text)])


class TestBytes:
    def test_bom_is_stripped_once(self) -> None:
        check_three_ways(b"\xef\xbb\xbfdata: a\n\n", [SSEEvent(data="a")])
        assert decode_all([b"\xef", b"\xbb", b"\xbfdata: a\n\n"]) == [SSEEvent(data="a")]

    def test_second_bom_is_data(self) -> None:
        assert decode_all([b"\xef\xbb\xbf\xef\xbb\xbfdata: a\n\n"]) == []

    def test_invalid_utf8_becomes_replacement_characters(self) -> None:
        check_three_ways(b"data: \xff\xfe ok\n\n", [SSEEvent(data="\ufffd\ufffd ok")])

    def test_multibyte_character_split_across_chunks(self) -> None:
        payload = "data: Привет 🐱\n\n".encode()
        assert decode_all([payload[:9], payload[9:21], payload[21:]]) == [SSEEvent(data="Привет 🐱")]


class TestLimits:
    def test_oversized_unterminated_line_raises(self) -> None:
        decoder = SSEDecoder(max_event_size=1000)
        decoder.feed(b"data: " + b"x" * 500)
        with pytest.raises(RemoteProtocolError, match="exceeded 1000 bytes"):
            decoder.feed(b"x" * 600)
        with pytest.raises(RemoteProtocolError, match="exceeded 1000 bytes"):
            decoder.feed(b"\n\n")

    def test_events_before_an_oversized_line_are_returned_first(self) -> None:
        decoder = SSEDecoder(max_event_size=100)
        assert decoder.feed(b"data: ok\n\ndata: " + b"x" * 200) == [SSEEvent(data="ok")]
        assert decoder.failed
        with pytest.raises(RemoteProtocolError, match="exceeded 100 bytes"):
            decoder.close()

    def test_oversized_multi_line_event_raises(self) -> None:
        decoder = SSEDecoder(max_event_size=100)
        with pytest.raises(RemoteProtocolError):
            decoder.feed(b"data: 0123456789012345678901234567890123456789\n" * 5)

    def test_event_at_the_limit_passes(self) -> None:
        line = b"data: " + b"x" * 94
        assert decode_all([line + b"\n\n"], max_event_size=100) == [SSEEvent(data="x" * 94)]

    def test_default_limit_accepts_a_large_image_payload(self) -> None:
        data = "A" * (6 * 1024 * 1024)
        assert decode_all([f"data: {data}\n\n".encode()]) == [SSEEvent(data=data)]

    def test_closed_decoder_refuses_more_input(self) -> None:
        decoder = SSEDecoder()
        decoder.close()
        # Feeding a closed decoder is a bug in the caller, not a chat's failure.
        with pytest.raises(RuntimeError, match="closed"):
            decoder.feed(b"data: a\n\n")

    @pytest.mark.parametrize("size", [0, -1])
    def test_a_limit_that_admits_nothing_is_a_usage_error(self, size: int) -> None:
        with pytest.raises(UsageError, match="max_event_size") as caught:
            SSEDecoder(max_event_size=size)
        assert not isinstance(caught.value, ChatRequestError)  # a setting, not a chat request

    def test_incomplete_event_is_reported(self) -> None:
        decoder = SSEDecoder()
        decoder.feed(b"data: a\n")
        assert decoder.has_incomplete_event
        decoder.feed(b"\n")
        assert not decoder.has_incomplete_event


class TestProperties:
    @given(st.lists(sse_events, max_size=8), st.data())
    def test_chunking_is_invisible(self, events: list[SSEEvent], data: st.DataObject) -> None:
        """Any chunking of a stream, in each line-ending style, decodes like the whole stream."""
        for newline in (b"\n", b"\r\n", b"\r"):
            payload = encode_events(events).replace(b"\n", newline)
            whole = decode_all([payload])
            assert decode_all(data.draw(chunked(payload))) == whole == events

    @given(st.lists(sse_events, max_size=8))
    def test_round_trip(self, events: list[SSEEvent]) -> None:
        """decode(encode(events)) == events."""
        assert decode_all([encode_events(events)]) == events

    @given(st.lists(st.binary(max_size=64), max_size=8))
    def test_total_over_arbitrary_bytes(self, chunks: list[bytes]) -> None:
        """Arbitrary bytes give events or RemoteProtocolError, nothing else."""
        decoder = SSEDecoder(max_event_size=128)
        try:
            for chunk in chunks:
                for event in decoder.feed(chunk):
                    assert isinstance(event.data, str)
            decoder.close()
        except RemoteProtocolError:
            pass


class TestGradioStreams:
    def test_a_long_line_between_short_events(self) -> None:
        long = b"x" * 300_000
        payload = b"data: a\n\ndata: " + long + b"\n\ndata: b\n\n"
        for size in (1, 4096, 65536, len(payload)):
            assert decode_all([payload[i : i + size] for i in range(0, len(payload), size)]) == [
                SSEEvent(data="a"),
                SSEEvent(data=long.decode()),
                SSEEvent(data="b"),
            ]

    def test_events_past_the_limit_raise_after_the_valid_ones(self) -> None:
        decoder = SSEDecoder(max_event_size=20)
        assert decoder.feed(b"data: ok\n\ndata: " + b"y" * 40 + b"\n\n") == [SSEEvent(data="ok")]
        with pytest.raises(RemoteProtocolError, match="exceeded 20 bytes"):
            decoder.feed(b"data: more\n\n")


def outcome(chunks: list[bytes], max_event_size: int) -> tuple[list[SSEEvent], bool]:
    """The events, and whether the limit broke, with the error taken when it comes."""
    decoder = SSEDecoder(max_event_size=max_event_size)
    events: list[SSEEvent] = []
    try:
        for chunk in chunks:
            events += decoder.feed(chunk)
        decoder.close()
    except RemoteProtocolError:
        return events, True
    return events, False


@given(
    st.lists(st.binary(max_size=40) | st.sampled_from([b"data: ", b"\n", b"\r", b": c", b"\n\n"]), max_size=20),
    st.data(),
)
def test_where_reads_cut_never_decides_the_limit(parts: list[bytes], data: st.DataObject) -> None:
    payload = b"".join(parts)
    whole = outcome([payload], 32)
    assert outcome(data.draw(chunked(payload)), 32) == whole
    assert outcome([payload[i : i + 1] for i in range(len(payload))], 32) == whole
