"""atheris (libFuzzer) target over the protocol layer: ChatStream (SSE decoder, JSON,
message parser, chat job), the join response and config parsers.

The invariants, as h11's fuzzer states them: ChatStream never raises, whatever the
bytes; it ends in the same state with the same text and events however the bytes
are cut into reads (finished runs included); and the parsers either parse or raise
the package's own error (a QwenSpaceError), never anything else. Run: ``tox -e fuzz``
(bounded time), or ``python fuzz/fuzz_protocol.py -max_total_time=600`` for longer.
"""

import contextlib
import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from qwen_space.protocol import ChatEvent, ChatStream, Failed, QwenSpaceError, TextDelta, parse_config
    from qwen_space.protocol._chatbot import ChatbotFormat
    from qwen_space.protocol._job import ChatJob
    from qwen_space.protocol._join import parse_join_response

FORMATS = list(ChatbotFormat)
ROOT = Path(__file__).resolve().parent.parent


def run(stream: bytes, size: int, event_id: str | None, chatbot_format: ChatbotFormat) -> tuple[ChatJob, list[object]]:
    job = ChatJob(event_id=event_id, reply_slot=1, reply_format=chatbot_format)
    chat_stream = ChatStream(job, max_event_size=1 << 16)
    events: list[ChatEvent] = []
    for start in range(0, len(stream), size):
        events += chat_stream.feed(stream[start : start + size])
    events += chat_stream.end()
    assert job.state.is_terminal
    return job, comparable(events)


def comparable(events: list[ChatEvent]) -> list[object]:
    """Deltas joined (reads cut text differently) and errors by kind, message and partial text."""
    out: list[object] = []
    for event in events:
        if isinstance(event, TextDelta) and out and isinstance(out[-1], TextDelta):
            out[-1] = TextDelta(out[-1].text + event.text)
        elif isinstance(event, Failed):
            out.append((type(event.error), str(event.error), event.error.partial_text))
        else:
            out.append(event)
    return out


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    chatbot_format = FORMATS[fdp.ConsumeIntInRange(0, len(FORMATS) - 1)]
    event_id = "e" if fdp.ConsumeBool() else None
    size = fdp.ConsumeIntInRange(1, 64)
    stream = fdp.ConsumeBytes(fdp.remaining_bytes())
    whole_job, whole = run(stream, max(len(stream), 1), event_id, chatbot_format)
    cut_job, cut = run(stream, size, event_id, chatbot_format)
    assert cut == whole, "the answer depends on how the bytes were cut"
    assert (cut_job.state, cut_job.text, cut_job.server_duration) == (
        whole_job.state,
        whole_job.text,
        whole_job.server_duration,
    )
    for parser in (lambda: parse_join_response(200, "application/json", stream), lambda: parse_config(stream)):
        with contextlib.suppress(QwenSpaceError):
            parser()


def seed_corpus() -> str:
    """Real streams to start from: the captures' bodies."""
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
