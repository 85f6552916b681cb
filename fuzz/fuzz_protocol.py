"""atheris (libFuzzer) target over the protocol layer: SSE decoder, message parser,
chat job, the client's ChatStream, join response and config parsers.

The invariant, as h11's fuzzer states it: any bytes either parse, or raise the
package's own error (a QwenSpaceError), never anything else; whatever the chat
job accepted, its shown text is a string; and ChatStream, fed the same bytes in
other chunks, never raises and ends with the same text as the typed path. Run: ``tox -e fuzz`` (bounded time), or
``python fuzz/fuzz_protocol.py -max_total_time=600`` for longer.
"""

import contextlib
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from qwen_space.protocol import (
        ChatbotFormat,
        ChatJob,
        ChatStream,
        QwenSpaceError,
        SSEDecoder,
        parse_config,
        parse_join_response,
        parse_message,
    )

FORMATS = list(ChatbotFormat)
ROOT = Path(__file__).resolve().parent.parent


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    chatbot_format = FORMATS[fdp.ConsumeIntInRange(0, len(FORMATS) - 1)]
    event_id = "e" if fdp.ConsumeBool() else None
    chunk_size = fdp.ConsumeIntInRange(1, 64)
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    decoder = SSEDecoder(max_event_size=1 << 16)
    job = ChatJob(event_id=event_id, reply_slot=1, reply_format=chatbot_format)
    try:
        for start in range(0, len(stream), chunk_size):
            for event in decoder.feed(stream[start : start + chunk_size]):
                message = parse_message(event.data)
                job.receive(message)
        decoder.close()
        job.stream_ended()
    except QwenSpaceError:
        pass
    assert isinstance(job.text, str)
    fast = ChatJob(event_id=event_id, reply_slot=1, reply_format=chatbot_format)
    chat_stream = ChatStream(fast, max_event_size=1 << 16)
    for start in range(0, len(stream), 7):
        chat_stream.feed(stream[start : start + 7])
    if not job.state.is_terminal and not fast.state.is_terminal:
        assert fast.text == job.text, "ChatStream and the typed path disagree"
    for parser in (lambda: parse_join_response(200, "application/json", stream), lambda: parse_config(stream)):
        with contextlib.suppress(QwenSpaceError):
            parser()


def seed_corpus() -> str:
    """Real streams to start from: the captures' bodies and the cassettes' streams."""
    corpus = Path(tempfile.mkdtemp(prefix="qwen-space-fuzz-"))
    captures = (ROOT / "tests" / "data" / "gradio-protocol-captures.txt").read_bytes()
    for index, block in enumerate(captures.split(b"\n====")):
        lines = [line for line in block.split(b"\n") if line.startswith(b"data: ")]
        if lines:
            (corpus / f"capture-{index}").write_bytes(b"\x01\x00\x10" + b"\n\n".join(lines) + b"\n\n")
    return str(corpus)


if __name__ == "__main__":
    argv = [*sys.argv, seed_corpus()]
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()
