"""A Blocks app that takes files and answers with files, served with ``launch()`` as a
Space is: ``python tests/live/files_app.py PORT``. Runs under Gradio 4.44 to 6.x.

``launch()`` sets ``has_launched``, after which Gradio 5 and 6 refuse in a call any
path the app did not hand out (its uploads); 4.44 refuses paths outside its upload
folder whatever the launch. The functions report each file's name, size and sha256,
so a test proves the exact bytes arrived, and the files they answer with are
written by them, so a test can compare the bytes it downloads.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator

import gradio as gr

MAJOR = int(gr.__version__.split(".")[0])
OUT = tempfile.mkdtemp(prefix="files-app-")


def describe(paths: list[str]) -> str:
    described = []
    for path in paths:
        with open(path, "rb") as handle:
            content = handle.read()
        described.append(
            {"name": os.path.basename(path), "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
        )
    return json.dumps(described, ensure_ascii=False)


def digest(files: list[str] | None) -> str:
    return describe(list(files or []))


def digest_message(message: dict[str, object]) -> str:
    files = message.get("files") or []
    assert isinstance(files, list)
    paths = [f if isinstance(f, str) else f["path"] for f in files]
    return json.dumps({"text": message.get("text"), "files": json.loads(describe(paths))}, ensure_ascii=False)


def paths_in(value: object) -> list[str]:
    """The files a Chatbot value holds once Gradio preprocessed it: a path string, a
    ``(path, alt)`` tuple (4.x, 5.x), a dict or an object with a ``path`` (6.x)."""
    if isinstance(value, str):
        return [value] if os.path.isfile(value) else []
    if isinstance(value, dict):
        return paths_in(value["path"]) if "path" in value else [p for v in value.values() for p in paths_in(v)]
    if isinstance(value, list | tuple):
        return [p for v in value for p in paths_in(v)]
    return paths_in(value.path) if hasattr(value, "path") else []


def history_files(chat: list[object]) -> str:
    return describe(paths_in(chat))


def draw(name: str) -> tuple[str, str, list[dict[str, object]], str]:
    """An image (for gr.Image and the Chatbot) and a document (for gr.File and the Chatbot)."""
    image = os.path.join(OUT, f"{name}.png")
    document = os.path.join(OUT, f"{name} report.pdf")
    with open(image, "wb") as handle:
        handle.write(b"\x89PNG\r\n\x1a\n" + hashlib.sha256(name.encode()).digest() * 100)
    with open(document, "wb") as handle:
        handle.write(b"%PDF-1.4\n" + bytes(range(256)) * 40)
    chat = [
        {"role": "user", "content": f"draw {name}"},
        {"role": "assistant", "content": gr.Image(image)},
        {"role": "assistant", "content": {"path": document}},
    ]
    return image, document, chat, describe([image, document])


def look(picture: str, question: str) -> Iterator[str]:
    """A vision chat's shape: an image and a question in, an answer streamed token by token."""
    with open(picture, "rb") as handle:
        seen = hashlib.sha256(handle.read()).hexdigest()
    answer = ""
    for token in [f"{question!r}:", *[f" {seen[i : i + 4]}" for i in range(0, 64, 4)] * 4]:
        answer += token
        yield answer


def build() -> gr.Blocks:
    chatbot_args: dict[str, object] = {"type": "messages"} if MAJOR < 6 else {}
    with gr.Blocks() as demo:
        files = gr.File(file_count="multiple", type="filepath", label="Files")
        multimodal = gr.MultimodalTextbox(label="Message")
        name = gr.Textbox(label="Name")
        report = gr.Textbox(label="Report")
        image = gr.Image(type="filepath", label="Image")
        document = gr.File(label="Document")
        chatbot = gr.Chatbot(label="Chat", **chatbot_args)
        gr.Button("Digest").click(digest, files, report, api_name="digest")
        gr.Button("Digest message").click(digest_message, multimodal, report, api_name="digest_message")
        gr.Button("Draw").click(draw, name, [image, document, chatbot, report], api_name="draw")
        gr.Button("History").click(history_files, chatbot, report, api_name="history_files")
        picture = gr.Image(type="filepath", label="Picture")
        question = gr.Textbox(label="Question")
        gr.Button("Look").click(look, [picture, question], report, api_name="look")
    return demo


def main() -> None:
    port = int(sys.argv[1])
    if MAJOR >= 5:
        build().queue().launch(server_name="127.0.0.1", server_port=port, show_error=True, quiet=True)
        return
    # 4.44's launch() probes its own page, whose API description breaks under the
    # pydantic installed with it (gradio_client's get_type meets a bool schema), so
    # launch() gives up. 4.44 checks every path in a call against its upload folder
    # whether launched or not (processing_utils.move_files_to_cache), so mounting
    # it changes nothing this app tests.
    import uvicorn
    from fastapi import FastAPI

    app = gr.mount_gradio_app(FastAPI(), build().queue(), path="/", show_error=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
