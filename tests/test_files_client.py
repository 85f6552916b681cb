"""client/core/files.py against loopback fakes: the cap holds before anything is sent,
the token goes only to the Space's origin, downloads are capped, saving never escapes
its folder nor overwrites a file. (Real Gradio servers: tests/live/test_live_files_blocks.py.)"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given, settings
from hypothesis import strategies as st
from qwen_space.client.core.files import LocalFile, download, save, save_bytes, upload
from qwen_space.client.core.transport import Transport
from qwen_space.client.errors import FileElsewhereError, RedirectRefusedError, ResponseTooLargeError, UsageError
from qwen_space.protocol._files import ReplyFile
from qwen_space.protocol.errors import FileTooLargeError, RequestRejectedError
from yarl import URL

TOKEN = "hf_secret_token"


class Recorder:
    def __init__(self) -> None:
        self.requests: list[web.Request] = []
        self.bodies: list[bytes] = []


async def _server(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> TestServer:
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


@pytest.fixture
async def space() -> AsyncIterator[tuple[TestServer, Recorder]]:
    seen = Recorder()

    async def handler(request: web.Request) -> web.StreamResponse:
        seen.requests.append(request)
        seen.bodies.append(await request.read())
        if request.path == "/gradio_api/upload":
            form = await _form(request, seen.bodies[-1])
            return web.json_response([f"/tmp/gradio/{i}/{name}" for i, name in enumerate(form)])
        if request.path == "/gradio_api/file=/big":
            return web.Response(body=b"x" * 2000)
        if request.path == "/gradio_api/file=/gone":
            return web.json_response({"detail": "File not allowed"}, status=403)
        if request.path.startswith("/gradio_api/file=/away"):
            raise web.HTTPFound(str(request.query.get("to", "http://127.0.0.2:9/x")))
        return web.Response(body=b"\x89PNG bytes", content_type="image/png")

    server = await _server(handler)
    yield server, seen
    await server.close()


async def _form(request: web.Request, body: bytes) -> list[str]:
    from email.parser import BytesParser
    from email.policy import HTTP

    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    return [str(part.get_filename()) for part in message.iter_parts()]


@pytest.fixture
async def transport() -> AsyncIterator[Transport]:
    made = Transport(headers={"X-Caller": "mine"}, token=TOKEN, send_token=True)
    yield made
    await made.close()


def _base(server: TestServer) -> URL:
    return URL(f"http://127.0.0.1:{server.port}")


async def test_upload_sends_one_multipart_request_and_returns_file_data(
    space: tuple[TestServer, Recorder], transport: Transport
) -> None:
    server, seen = space
    files = [LocalFile("чат.png", b"\x89PNG"), LocalFile("empty.txt", b"")]
    values = await upload(transport, _base(server) / "gradio_api" / "upload", files, within=10)
    assert [v["path"] for v in values] == ["/tmp/gradio/0/чат.png", "/tmp/gradio/1/empty.txt"]
    assert values[0] == {
        "path": "/tmp/gradio/0/чат.png",
        "orig_name": "чат.png",
        "size": 4,
        "mime_type": "image/png",
        "meta": {"_type": "gradio.FileData"},
    }
    assert seen.requests[0].content_type == "multipart/form-data"
    assert seen.requests[0].headers["x-hf-authorization"] == f"Bearer {TOKEN}"


async def test_a_file_over_the_cap_is_refused_before_anything_is_sent(
    space: tuple[TestServer, Recorder], transport: Transport, tmp_path: Path
) -> None:
    server, seen = space
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:  # sparse: 200 MB on paper, nothing on disk
        handle.truncate(200 * 1024 * 1024)
    with pytest.raises(FileTooLargeError) as caught:
        LocalFile.read(big, argument="--max-upload-size")
    message = str(caught.value)
    assert "104,857,600-byte cap (100 MiB)" in message
    assert "--max-upload-size" in message
    assert isinstance(caught.value, UsageError)
    small = [LocalFile("ok.txt", b"ok"), LocalFile("over.bin", b"x" * 11)]
    with pytest.raises(FileTooLargeError, match="max_upload_size="):
        await upload(transport, _base(server) / "gradio_api" / "upload", small, within=10, max_size=10)
    assert seen.requests == []


async def test_a_file_on_disk_is_streamed_with_its_length_and_exact_bytes(
    space: tuple[TestServer, Recorder], transport: Transport, tmp_path: Path
) -> None:
    """``LocalFile.at`` reads nothing; the upload reads it in chunks (several here) and
    sends a Content-Length, not a chunked body; the parts carry the exact bytes."""
    from email.parser import BytesParser
    from email.policy import HTTP

    server, seen = space
    data = os.urandom(700 * 1024)
    path = tmp_path / "big.png"
    path.write_bytes(data)
    on_disk = LocalFile.at(path)
    assert (on_disk.content, on_disk.size, on_disk.path) == (b"", len(data), path)
    files = [on_disk, LocalFile("note.txt", b"in memory")]
    values = await upload(transport, _base(server) / "gradio_api" / "upload", files, within=10)
    assert [v["size"] for v in values] == [len(data), 9]
    request, body = seen.requests[0], seen.bodies[0]
    assert request.headers["Content-Length"] == str(len(body))
    assert "Transfer-Encoding" not in request.headers
    head = f"Content-Type: {request.headers['Content-Type']}\r\n\r\n".encode()
    parts = list(BytesParser(policy=HTTP).parsebytes(head + body).iter_parts())
    assert [p.get_payload(decode=True) for p in parts] == [data, b"in memory"]


@pytest.mark.parametrize("change", ["shrink", "grow", "remove"])
async def test_a_file_changed_after_it_was_attached_is_refused_naming_it(
    space: tuple[TestServer, Recorder], transport: Transport, tmp_path: Path, change: str
) -> None:
    server, seen = space
    path = tmp_path / "draft.txt"
    path.write_bytes(b"x" * 1000)
    attached = LocalFile.at(path)
    if change == "remove":
        path.unlink()
    else:
        path.write_bytes(b"x" * (10 if change == "shrink" else 5000))
    with pytest.raises(UsageError, match=r"draft\.txt") as caught:
        await upload(transport, _base(server) / "gradio_api" / "upload", [attached], within=10)
    assert ("cannot read" if change == "remove" else "changed size") in str(caught.value)
    assert not any(body.endswith(b"--\r\n") for body in seen.bodies)  # no whole body reached the Space


async def test_at_refuses_a_file_over_the_cap_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)
    with pytest.raises(FileTooLargeError, match="--max-upload-size"):
        LocalFile.at(big, argument="--max-upload-size")
    os.mkfifo(tmp_path / "pipe")
    with pytest.raises(UsageError, match="not a regular file"):  # and no wait for a writer
        LocalFile.at(tmp_path / "pipe")


async def test_an_unreadable_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="cannot read"):
        LocalFile.read(tmp_path / "missing.png")


async def test_download_on_the_space_sends_the_token(space: tuple[TestServer, Recorder], transport: Transport) -> None:
    server, seen = space
    base = _base(server)
    file = ReplyFile(url=str(base / "gradio_api" / "file=/t/cat.png"), name="cat.png", mime_type="image/png")
    assert await download(transport, file, space=base, within=10) == b"\x89PNG bytes"
    assert seen.requests[0].headers["x-hf-authorization"] == f"Bearer {TOKEN}"


async def test_a_file_on_another_origin_gets_no_request_at_all(
    space: tuple[TestServer, Recorder], transport: Transport
) -> None:
    server, seen = space
    base = _base(server)
    assert server.port is not None
    other_port = f"http://127.0.0.1:{server.port + 1}/gradio_api/file=/t/cat.png"
    for url in (other_port, f"https://127.0.0.1:{server.port}/x.png", "/relative.png", "http://[::1"):
        file = ReplyFile(url=url, name="cat.png", mime_type="image/png")
        with pytest.raises(FileElsewhereError) as caught:
            await download(transport, file, space=base, within=10)
        assert caught.value.url == url
    assert seen.requests == []


async def test_a_redirect_to_another_origin_is_not_followed(
    space: tuple[TestServer, Recorder], transport: Transport
) -> None:
    server, seen = space
    base = _base(server)
    file = ReplyFile(url=str(base / "gradio_api" / "file=/away"), name="x", mime_type="image/png")
    with pytest.raises(RedirectRefusedError):
        await download(transport, file, space=base, within=10)
    assert len(seen.requests) == 1


async def test_downloads_are_capped_and_refusals_typed(
    space: tuple[TestServer, Recorder], transport: Transport
) -> None:
    server, _ = space
    base = _base(server)
    big = ReplyFile(url=str(base / "gradio_api" / "file=/big"), name="big", mime_type="image/png")
    with pytest.raises(ResponseTooLargeError, match="max_download_size"):
        await download(transport, big, space=base, within=10, max_size=1000)
    assert len(await download(transport, big, space=base, within=10, max_size=2000)) == 2000
    gone = ReplyFile(url=str(base / "gradio_api" / "file=/gone"), name="gone.png", mime_type="image/png")
    with pytest.raises(RequestRejectedError, match=r"gone\.png"):
        await download(transport, gone, space=base, within=10)


async def test_save_puts_the_file_in_the_folder(
    space: tuple[TestServer, Recorder], transport: Transport, tmp_path: Path
) -> None:
    server, _ = space
    base = _base(server)
    file = ReplyFile(url=str(base / "gradio_api" / "file=/t/cat.png"), name="../../cat.png", mime_type="image/png")
    first = await save(transport, file, tmp_path / "out", space=base, within=10)
    second = await save(transport, file, tmp_path / "out", space=base, within=10)
    assert first == tmp_path / "out" / "cat.png"
    assert second == tmp_path / "out" / "cat (1).png"
    assert first.read_bytes() == second.read_bytes() == b"\x89PNG bytes"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["cat (1).png", "cat.png"]


def test_save_never_overwrites_nor_follows_a_link(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep me")
    folder = tmp_path / "save"
    folder.mkdir()
    (folder / "a.txt").symlink_to(outside)
    (folder / "b").write_bytes(b"old")
    saved = save_bytes(b"new", "a.txt", folder)
    assert saved == folder / "a (1).txt"
    assert outside.read_bytes() == b"keep me"
    assert save_bytes(b"new", "b", folder) == folder / "b (1)"
    assert (folder / "b").read_bytes() == b"old"
    assert not [p for p in folder.iterdir() if p.name.startswith(".qwen-space-")]


def test_a_folder_that_cannot_be_made_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(UsageError, match="cannot write into the folder"):
        save_bytes(b"x", "a", tmp_path / "file" / "sub")


@settings(max_examples=60)
@given(st.text(max_size=300), st.binary(max_size=64))
def test_any_name_saves_inside_the_folder_with_its_bytes(name: str, content: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        saved = save_bytes(content, name, folder)
        assert saved.parent == Path(folder)
        assert os.path.realpath(saved).startswith(os.path.realpath(folder) + os.sep)
        assert saved.read_bytes() == content
        assert os.listdir(folder) == [saved.name]


async def test_a_url_with_credentials_or_no_scheme_is_not_fetched(
    space: tuple[TestServer, Recorder], transport: Transport
) -> None:
    # Credentials in a reply's URL are the Space's choice of whom we log in as; a URL
    # without a scheme has no origin to compare. Neither is fetched, and no ValueError escapes.
    server, seen = space
    base = _base(server)
    for url in (
        f"http://attacker:pw@127.0.0.1:{server.port}/gradio_api/file=/t/cat.png",
        f"http://attacker@127.0.0.1:{server.port}/gradio_api/file=/t/cat.png",
        f"//127.0.0.1:{server.port}/gradio_api/file=/t/cat.png",
    ):
        with pytest.raises(FileElsewhereError):
            await download(transport, ReplyFile(url=url, name="cat.png", mime_type="image/png"), space=base, within=10)
    assert seen.requests == []


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    outcome: list[BaseException | LocalFile] = []

    def read() -> None:
        try:
            outcome.append(LocalFile.read(fifo))
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # unblock the reader so the test ends
        with fifo.open("wb"):
            pass
        reader.join(10)
        pytest.fail("LocalFile.read blocked on a FIFO")
    assert len(outcome) == 1
    assert isinstance(outcome[0], UsageError)
    assert "not a regular file" in str(outcome[0])


def test_a_directory_or_device_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"cannot read|not a regular file"):
        LocalFile.read(tmp_path)
    with pytest.raises(UsageError, match="not a regular file"):
        LocalFile.read("/dev/zero", max_size=10)


def test_save_works_where_hard_links_are_not_supported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    def no_links(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(os, "link", no_links)
    (tmp_path / "a.txt").write_bytes(b"old")
    assert save_bytes(b"new", "a.txt", tmp_path) == tmp_path / "a (1).txt"
    assert (tmp_path / "a.txt").read_bytes() == b"old"
    assert (tmp_path / "a (1).txt").read_bytes() == b"new"


def test_without_links_a_file_made_meanwhile_is_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Another save of the same name lands between our check and our rename.
    def no_links(*args: object, **kwargs: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    real_replace = os.replace
    raced: list[Path] = []
    racing: list[bool] = []

    def replace(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> None:
        if not racing:
            racing.append(True)
            raced.append(save_bytes(b"theirs", "a.txt", tmp_path))
        real_replace(source, target)

    monkeypatch.setattr(os, "link", no_links)
    monkeypatch.setattr(os, "replace", replace)
    ours = save_bytes(b"ours", "a.txt", tmp_path)
    assert ours != raced[0]
    assert {ours.read_bytes(), raced[0].read_bytes()} == {b"ours", b"theirs"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a (1).txt", "a.txt"]


def test_a_saved_file_has_the_permissions_of_any_new_file(tmp_path: Path) -> None:
    # Not the temp file's 0600: a saved image is as readable as one the user made.
    before = os.umask(0o022)
    try:
        saved = save_bytes(b"x", "a.png", tmp_path)
    finally:
        os.umask(before)
    assert saved.stat().st_mode & 0o777 == 0o644


def test_a_failed_save_without_links_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    def fails(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(os, "link", fails)
    monkeypatch.setattr(os, "replace", fails)
    with pytest.raises(UsageError, match="cannot save"):
        save_bytes(b"x", "a.txt", tmp_path)
    assert list(tmp_path.iterdir()) == []
