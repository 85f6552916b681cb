"""The pure side of files: FileData values, Chatbot entries, the multipart upload body
and its answer, reply files in every release's shapes, data URLs and safe names."""

from __future__ import annotations

import base64
import email.parser
import email.policy
import os
import posixpath
import urllib.parse
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from qwen_space.protocol import QwenSpaceError
from qwen_space.protocol._chatbot import ChatbotFormat
from qwen_space.protocol._file_names import MAX_NAME_BYTES, guess_mime_type, safe_filename
from qwen_space.protocol._files import (
    ReplyFile,
    chatbot_reply_files,
    file_data,
    files_in,
    multimodal_value,
    reply_file_data,
    reply_files,
    user_file_entries,
)
from qwen_space.protocol._release import Release
from qwen_space.protocol._upload import (
    UploadForm,
    new_boundary,
    parse_data_url,
    parse_upload_response,
    storable_name,
)
from qwen_space.protocol.errors import (
    FileTooLargeError,
    InvalidDataURLError,
    RemoteProtocolError,
    RequestRejectedError,
    UsageError,
)

ROOT = "http://127.0.0.1:7860"
META = {"_type": "gradio.FileData"}


def fd(path: str, **extra: Any) -> dict[str, Any]:
    return {"path": path, "url": f"{ROOT}/gradio_api/file={path}", "meta": META, **extra}


# --- values in a call ------------------------------------------------------------


def test_file_data_is_what_every_release_takes() -> None:
    assert file_data("/tmp/gradio/ab/cat.png", name="cat.png", size=3, mime_type="image/png") == {
        "path": "/tmp/gradio/ab/cat.png",
        "orig_name": "cat.png",
        "size": 3,
        "mime_type": "image/png",
        "meta": {"_type": "gradio.FileData"},
    }
    with pytest.raises(UsageError):
        file_data("", name="x", size=0)


def test_multimodal_value() -> None:
    files = [file_data("/p", name="a", size=1)]
    assert multimodal_value("hi", files) == {"text": "hi", "files": files}


@pytest.mark.parametrize(
    ("chatbot", "major", "expected"),
    [
        (ChatbotFormat.TUPLES, 4, [{"file": "F", "alt_text": None}, None]),
        (ChatbotFormat.MESSAGES, 4, {"role": "user", "content": {"file": "F", "alt_text": None}}),
        (
            ChatbotFormat.MESSAGES,
            5,
            {"role": "user", "metadata": None, "content": {"file": "F", "alt_text": None}, "options": None},
        ),
        (
            ChatbotFormat.NORMALISED,
            6,
            {
                "role": "user",
                "metadata": None,
                "content": [{"type": "file", "file": "F", "alt_text": None}],
                "options": None,
            },
        ),
    ],
)
def test_user_file_entries(chatbot: ChatbotFormat, major: int, expected: Any) -> None:
    value = file_data("/p", name="a", size=1)
    entries = user_file_entries([value, value], chatbot=chatbot, release=_release(major))
    assert len(entries) == 2
    assert entries[0] == _substitute(expected, value)


def _release(major: int) -> Release:
    return Release(protocol="sse_v3", gradio_major=major, api_prefix="/gradio_api" if major >= 5 else "")


def _substitute(shape: Any, value: Any) -> Any:
    if shape == "F":
        return value
    if isinstance(shape, dict):
        return {k: _substitute(v, value) for k, v in shape.items()}
    if isinstance(shape, list):
        return [_substitute(v, value) for v in shape]
    return shape


def test_a_text_output_holds_no_file_entries() -> None:
    with pytest.raises(UsageError):
        user_file_entries([file_data("/p", name="a", size=1)], chatbot=ChatbotFormat.TEXT, release=_release(5))


# --- the upload body and answer --------------------------------------------------


def _parts(form: UploadForm, contents: list[bytes]) -> list[tuple[Any, Any, Any]]:
    """The body read back by the standard library's MIME parser, as a server would."""
    head = f"Content-Type: {form.content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + form.body(contents))
    return [
        (part.get_param("name", header="content-disposition"), part.get_filename(), part.get_payload(decode=True))
        for part in message.iter_parts()
    ]


def test_the_body_carries_each_file_under_files_with_its_raw_utf8_name() -> None:
    form = UploadForm(("чат 🐱.png", "empty", 'q"uote\r\n.bin'), new_boundary())
    contents = [b"\x89PNG\r\n\x00\xff", b"", bytes(range(256))]
    body = form.body(contents)
    assert "чат 🐱.png".encode() in body  # raw UTF-8, as browsers send it
    assert b'filename="q%22uote%0D%0A.bin"' in body
    assert _parts(form, contents) == [
        ("files", "чат 🐱.png", contents[0]),
        ("files", "empty", b""),
        ("files", "q%22uote%0D%0A.bin", contents[2]),
    ]


@given(
    st.lists(st.tuples(st.text(max_size=30), st.binary(max_size=300)), min_size=1, max_size=4),
)
def test_any_names_and_bytes_read_back_exactly(files: list[tuple[str, bytes]]) -> None:
    form = UploadForm(tuple(name for name, _ in files), new_boundary())
    parts = _parts(form, [content for _, content in files])
    assert [content for _, _, content in parts] == [content for _, content in files]


def test_undecodable_bytes_of_a_posix_name_are_sent_as_they_were() -> None:
    body = UploadForm((b"caf\xe9.txt".decode("utf-8", "surrogateescape"), "\ud800x"), "b").body([b"", b""])
    assert b'filename="caf\xe9.txt"' in body
    assert b'filename="?x"' in body


@pytest.mark.parametrize("boundary", ["", "x" * 71, "bad boundary ", "semi;colon", "new\nline"])
def test_bad_boundaries_are_refused(boundary: str) -> None:
    with pytest.raises(UsageError):
        UploadForm(("a",), boundary)


@given(st.lists(st.text(max_size=20), max_size=3), st.text(max_size=80), st.lists(st.binary(max_size=40), max_size=3))
def test_the_form_raises_only_our_errors(names: list[str], boundary: str, contents: list[bytes]) -> None:
    try:
        body = UploadForm(tuple(names), boundary).body(contents)
    except UsageError:
        return
    assert body.startswith(f"--{boundary}".encode())
    assert body.endswith(f"--{boundary}--\r\n".encode())


@pytest.mark.parametrize(
    ("name", "sent"),
    [
        ("..", "file"),
        ("a/..", "file"),
        (".", "file"),
        ("???", "file"),
        ("", "file"),
        ("😀.png", "file.png"),
        (".bashrc", ".bashrc"),
        ("чат 🐱.png", "чат 🐱.png"),
        ("x/y.txt", "y.txt"),
        ("a..", "a.."),
    ],
)
def test_a_name_no_release_can_store_is_sent_as_file(name: str, sent: str) -> None:
    assert storable_name(name) == sent


def test_a_file_holding_a_chosen_boundary_is_refused() -> None:
    form = UploadForm(("a",), "abc")
    with pytest.raises(UsageError):
        form.body([b"xx--abc"])
    with pytest.raises(UsageError):
        form.body([])


def test_the_upload_answer_is_the_list_of_paths() -> None:
    assert parse_upload_response(200, "application/json", b'["/t/a/x.png", "/t/b/y"]', expected=2) == [
        "/t/a/x.png",
        "/t/b/y",
    ]


@pytest.mark.parametrize(
    ("status", "content_type", "body", "error"),
    [
        (200, "application/json", b'{"detail": "x"}', RemoteProtocolError),
        (200, "application/json", b'["/a"]', RemoteProtocolError),  # one path for two files
        (200, "application/json", b'["/a", 3]', RemoteProtocolError),
        (200, "application/json", b'["/a", ""]', RemoteProtocolError),
        (200, "application/json", b"not json", RemoteProtocolError),
        (200, "text/html", b"<html></html>", RemoteProtocolError),
        (400, "application/json", b'{"detail": "Invalid content type."}', RequestRejectedError),
        (413, "text/plain", b"File exceeds the maximum allowed size", RequestRejectedError),
    ],
)
def test_anything_else_is_a_typed_error(status: int, content_type: str, body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_upload_response(status, content_type, body, expected=2)


@given(st.integers(100, 599), st.one_of(st.none(), st.text(max_size=40)), st.binary(max_size=200))
def test_the_upload_answer_parser_raises_only_our_errors(status: int, content_type: str | None, body: bytes) -> None:
    try:
        paths = parse_upload_response(status, content_type, body, expected=1)
    except QwenSpaceError:
        return
    assert status == 200
    assert len(paths) == 1
    assert isinstance(paths[0], str)


# --- reply files -------------------------------------------------------------------


def test_files_in_every_release_shape() -> None:
    # Captured shapes: 5.50 component message, 6.31 parts, a file message, 4.44 tuples.
    image = fd("/t/a/cat.png", orig_name="cat.png", mime_type=None, size=3)
    document = fd("/t/b/r.pdf", orig_name="../../r.pdf", mime_type="application/pdf")
    chat_550 = [
        {"role": "user", "metadata": None, "content": "draw", "options": None},
        {"role": "assistant", "metadata": None, "content": {"component": "image", "value": image}, "options": None},
        {"role": "assistant", "metadata": None, "content": {"file": document, "alt_text": None}, "options": None},
    ]
    chat_631 = [
        {"role": "user", "metadata": None, "content": [{"type": "text", "text": "draw"}], "options": None},
        {
            "role": "assistant",
            "metadata": None,
            "content": [
                {"type": "component", "component": "image", "value": image, "constructor_args": {}, "props": {}},
                {"type": "file", "file": document, "alt_text": None},
            ],
            "options": None,
        },
    ]
    chat_444 = [["draw", {"file": image, "alt_text": None}], [None, {"file": document, "alt_text": None}]]
    expected = (
        ReplyFile(url=image["url"], name="cat.png", mime_type="image/png", size=3),
        ReplyFile(url=document["url"], name="../../r.pdf", mime_type="application/pdf", size=None),
    )
    for chat in (chat_550, chat_631, chat_444):
        assert chatbot_reply_files(chat, root=ROOT, api_prefix="/gradio_api") == expected


def test_the_users_own_files_are_not_the_replys() -> None:
    mine = fd("/t/u/mine.png")
    chat = [{"role": "user", "content": {"file": mine, "alt_text": None}}, {"role": "assistant", "content": "ok"}]
    assert chatbot_reply_files(chat, root=ROOT) == ()
    assert chatbot_reply_files([[{"file": mine, "alt_text": None}, None]], root=ROOT) == ()
    answer = fd("/t/v/answer.png")
    chat.append({"role": "assistant", "content": {"file": answer, "alt_text": None}})
    assert [f.name for f in chatbot_reply_files(chat, root=ROOT, since=2)] == ["answer.png"]
    with pytest.raises(RemoteProtocolError):
        chatbot_reply_files({"not": "a chatbot"}, root=ROOT)


def test_image_file_and_gallery_outputs() -> None:
    one = {"path": "/t/a/x.webp", "url": "/file=/t/a/x.webp", "orig_name": None, "meta": META}  # 4.44 relative
    assert files_in(one, root=ROOT + "/") == (
        ReplyFile(url=f"{ROOT}/file=/t/a/x.webp", name="x.webp", mime_type="image/webp"),
    )
    gallery = [{"image": fd("/t/1/a.jpg"), "caption": "a"}, {"video": fd("/t/2/b.mp4"), "caption": None}]
    assert [(f.name, f.mime_type) for f in files_in(gallery, root=ROOT)] == [
        ("a.jpg", "image/jpeg"),
        ("b.mp4", "video/mp4"),
    ]
    no_url = {"path": "/t/c/y.txt", "meta": META}
    assert files_in([no_url, no_url], root=ROOT, api_prefix="/gradio_api") == (
        ReplyFile(url=f"{ROOT}/gradio_api/file=/t/c/y.txt", name="y.txt", mime_type="text/plain"),
    )
    elsewhere = fd("/x", url="https://cdn.example/z.png")
    assert files_in(elsewhere, root=ROOT)[0].url == "https://cdn.example/z.png"


def test_a_non_http_file_url_is_a_protocol_error() -> None:
    for url in ("javascript:alert(1)", "file:///etc/passwd", "data:text/plain,x"):
        with pytest.raises(RemoteProtocolError):
            files_in({"path": "/x", "url": url, "meta": META}, root=ROOT)


def test_a_reply_file_url_is_safe_to_print() -> None:
    # Escape sequences, newlines, bidi overrides and spaces in a URL would reach a
    # terminal or a Markdown link as they are: they are percent-encoded, as a browser does.
    hostile = "\x1b]8;;https://evil\x07\u202e gnp.exe\nX-Injected: 1\x85"
    for value in (
        {"path": "/x", "url": f"https://cdn.example/{hostile}", "meta": META},
        {"path": f"/t/{hostile}", "meta": META},
        {"path": "/x", "url": f"/gradio_api/file=/t/{hostile}", "meta": META},
    ):
        (found,) = files_in(value, root=ROOT, api_prefix="/gradio_api")
        assert found.url.isprintable(), found.url
        assert " " not in found.url
        assert all(escape in found.url for escape in ("%1B", "%E2%80%AE", "%0A"))
        assert urllib.parse.unquote(found.url).endswith(hostile)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["path", "url", "meta", "orig_name", "mime_type", "size", "_type", "x"]), children
        )
    ),
    max_leaves=30,
)


@given(json_values, st.text(max_size=20))
def test_reply_file_extraction_raises_only_our_errors(value: object, prefix: str) -> None:
    for reader in (files_in, chatbot_reply_files):
        try:
            found = reader(value, root=ROOT, api_prefix=prefix)
        except QwenSpaceError:
            continue
        assert all(isinstance(f, ReplyFile) and f.mime_type for f in found)


# --- data URLs ---------------------------------------------------------------------


def test_data_urls() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(100)
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    assert parse_data_url(url, limit=len(png), argument="--max-upload-size").data == png
    assert parse_data_url(url, limit=len(png), argument="x").mime_type == "image/png"
    assert parse_data_url("data:,a%20b", limit=10, argument="x").data == b"a b"
    assert parse_data_url("DATA:Text/Plain;charset=utf-8;base64,aGk=", limit=2, argument="x").mime_type == "text/plain"


def test_a_data_url_over_the_cap_is_refused_before_decoding() -> None:
    huge = "data:image/png;base64," + "A" * 4_000_000 + "!"  # not even valid: never decoded
    with pytest.raises(FileTooLargeError) as caught:
        parse_data_url(huge, limit=1_000_000, argument="--max-upload-size")
    assert caught.value.limit == 1_000_000
    assert "--max-upload-size" in str(caught.value)
    assert "1,000,000" in str(caught.value)


@pytest.mark.parametrize("payload", ["%" * 100 + "a" * 100, "%zz" * 50, "%4" * 100, "%%41" * 40])
def test_stray_percent_signs_count_toward_the_cap(payload: str) -> None:
    # A '%' not followed by two hex digits decodes as itself: it is a byte, not an escape.
    with pytest.raises(FileTooLargeError):
        parse_data_url("data:," + payload, limit=10, argument="x")


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.png",
        "data:image/png;base64",
        "data:image/png;base64,@@@@",
        "data:image/png;base64,abc",
        "data:not a type;base64,aGk=",
        "data:image/png;base64,aGk=\n",
        "data:,%FF\u00e9",
    ],
)
def test_malformed_data_urls(url: str) -> None:
    with pytest.raises(InvalidDataURLError):
        parse_data_url(url, limit=100, argument="x")


@given(st.text(max_size=80), st.integers(0, 100))
def test_data_url_parsing_raises_only_our_errors(tail: str, limit: int) -> None:
    for url in (tail, "data:" + tail, "data:image/png;base64," + tail):
        try:
            parsed = parse_data_url(url, limit=limit, argument="x")
        except UsageError:
            continue
        assert len(parsed.data) <= limit


# --- names -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../x", "x"),
        ("..\\..\\evil.exe", "evil.exe"),
        ("a\x00b.png", "a_b.png"),
        ("CON", "_CON"),
        ("nul.txt", "_nul.txt"),
        ("Com1 .png", "_Com1 .png"),
        ("", "file"),
        ("..", "file"),
        (".bashrc", "bashrc"),
        ("name. ", "name"),
        ("a/", "file"),
        ("r\u202egnp.exe", "r_gnp.exe"),
        ("chat 🐱.png", "chat 🐱.png"),
        ('what?:*"<>|.txt', "what_______.txt"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_long_names_keep_their_extension() -> None:
    name = safe_filename("é" * 500 + ".png")
    assert name.endswith(".png")
    assert len(name.encode()) <= MAX_NAME_BYTES


@given(st.text(max_size=600))
def test_sanitised_names_never_escape_a_folder(name: str) -> None:
    safe = safe_filename(name)
    assert safe not in ("", ".", "..")
    assert not {"/", "\\", "\x00"} & set(safe)
    assert len(safe.encode()) <= MAX_NAME_BYTES
    assert posixpath.dirname(posixpath.normpath(posixpath.join("/save", safe))) == "/save"
    assert os.path.basename(safe) == safe
    assert safe.split(".", 1)[0].strip().upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}


def test_mime_types_come_from_our_table() -> None:
    assert guess_mime_type("A.JPG") == "image/jpeg"
    assert guess_mime_type("x") == "application/octet-stream"
    assert guess_mime_type("x.unknown") == "application/octet-stream"


def test_the_chatbots_reply_files_are_marked_to_go_back_as_the_space_named_them() -> None:
    """A file the Chatbot's reply holds goes back in the next turn's history as the Space's
    own FileData (its path, not re-uploaded); a gr.Image output beside it is not in the
    Chatbot, so it is not marked."""
    drawn: Any = {"path": "/tmp/gradio/a/d.png", "url": f"{ROOT}/gradio_api/file=/tmp/gradio/a/d.png", "meta": META}
    beside: Any = {"path": "/tmp/gradio/b/e.png", "url": None, "orig_name": "e.png", "meta": META}
    chat: Any = [
        {"role": "user", "content": "draw"},
        {"role": "assistant", "content": {"file": drawn, "alt_text": None}},
    ]
    found = reply_files(
        [chat, beside], ["chatbot", "image"], chatbot_slot=0, since=1, root=ROOT, api_prefix="/gradio_api"
    )
    assert [(f.name, f.path, f.in_chat) for f in found] == [
        ("d.png", "/tmp/gradio/a/d.png", True),
        ("e.png", "/tmp/gradio/b/e.png", False),
    ]
    assert reply_file_data(found[0]) == {
        "path": "/tmp/gradio/a/d.png",
        "url": drawn["url"],
        "orig_name": "d.png",
        "size": None,
        "mime_type": "image/png",
        "meta": META,
    }
