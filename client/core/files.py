"""Files to and from a Space: upload before a call, download and save what a reply holds.

Uploads go to ``{root}{api_prefix}/upload`` in one multipart request, after every
file was checked against the cap (``max_upload_size``, 100 MiB by default): a file
over it is refused before a byte is sent. Downloads go through the client's
transport (:class:`SpaceTransport`), so the token and headers follow its rules and a redirect never
leaves the Space's origin; a file on another origin is not fetched at all (no
credential goes there, and a server running qwen-space does not fetch arbitrary
URLs from its own network): :class:`FileElsewhereError` gives its URL instead.
Saving never writes outside the folder nor over a file: the bytes go to a temp file
in the folder, which is then linked under the first free name (``name (1).png``...).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import secrets
import stat
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from yarl import URL

from ...protocol import QwenSpaceError
from ...protocol._file_names import guess_mime_type, safe_filename
from ...protocol._files import ReplyFile, file_data
from ...protocol._join import error_for_response
from ...protocol._json import JSONValue
from ...protocol._upload import (
    PART_END,
    UploadForm,
    new_boundary,
    parse_upload_response,
    storable_name,
)
from ...protocol.errors import FileTooLargeError
from ..errors import FileElsewhereError, ResponseTooLargeError, UsageError
from .login import same_origin
from .seam import Deadline, SpaceTransport, StreamedBody

__all__ = [
    "DEFAULT_MAX_DOWNLOAD_SIZE",
    "DEFAULT_MAX_UPLOAD_SIZE",
    "LocalFile",
    "download",
    "save",
    "save_bytes",
    "upload",
]

#: The default cap on one uploaded file (Hugging Face Spaces' proxy takes far more; a chat seldom needs it).
DEFAULT_MAX_UPLOAD_SIZE = 100 * 1024 * 1024
#: The default cap on one downloaded reply file.
DEFAULT_MAX_DOWNLOAD_SIZE = 100 * 1024 * 1024
_UPLOAD_ANSWER_LIMIT = 1024 * 1024
# What an upload reads from disk at a time: small beside any file worth streaming, and
# large enough that the thread hand-off per chunk costs nothing measurable.
_CHUNK = 256 * 1024
_ARGUMENT = "max_upload_size="
# What link() answers on file systems without hard links (FAT, some network and FUSE mounts).
_NO_LINKS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.ENOSYS, errno.EMLINK})


@dataclass(frozen=True, slots=True)
class LocalFile:
    """A file to upload: its name as the Space will see it, its bytes, its media type.

    A file made by :meth:`at` is on disk: ``path`` says where, ``content`` is empty, and
    its ``disk_size`` bytes are read as they are uploaded, never held whole.
    """

    name: str
    content: bytes
    mime_type: str | None = None
    path: Path | None = None
    disk_size: int = 0

    @property
    def size(self) -> int:
        """The file's size in bytes (on disk when it was checked)."""
        return self.disk_size if self.path is not None else len(self.content)

    @classmethod
    def read(
        cls, path: str | os.PathLike[str], *, max_size: int = DEFAULT_MAX_UPLOAD_SIZE, argument: str = _ARGUMENT
    ) -> LocalFile:
        """Read ``path``, refusing it (:class:`FileTooLargeError`) before reading if it is over
        ``max_size``; ``argument`` is what the message names to raise the cap."""
        where = Path(path)
        try:
            with _open_regular(where) as handle:
                _check_size(str(where), os.fstat(handle.fileno()).st_size, max_size, argument)
                content = handle.read(max_size + 1)
        except OSError as exc:
            raise UsageError(f"cannot read the file {str(where)!r} to upload ({exc.strerror or exc})") from exc
        _check_size(str(where), len(content), max_size, argument)  # it grew while read
        return cls(where.name, content, guess_mime_type(where.name))

    @classmethod
    def at(
        cls, path: str | os.PathLike[str], *, max_size: int = DEFAULT_MAX_UPLOAD_SIZE, argument: str = _ARGUMENT
    ) -> LocalFile:
        """The file at ``path``, checked (a regular file, at most ``max_size`` bytes) but not
        read: its bytes are streamed from disk when uploaded. A file that changes size
        before then is refused at the upload."""
        where = Path(path)
        try:
            with _open_regular(where) as handle:
                size = os.fstat(handle.fileno()).st_size
        except OSError as exc:
            raise UsageError(f"cannot read the file {str(where)!r} to upload ({exc.strerror or exc})") from exc
        _check_size(str(where), size, max_size, argument)
        return cls(where.name, b"", guess_mime_type(where.name), path=where, disk_size=size)


def _open_regular(where: Path) -> BinaryIO:
    # Non-blocking open: a FIFO would otherwise wait for a writer forever.
    handle = open(os.open(where, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb")  # noqa: SIM115 (the caller closes it)
    if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
        handle.close()
        raise UsageError(
            f"{str(where)!r} is not a regular file (a directory, pipe or device); "
            "upload a file, or copy the data into one first"
        )
    return handle


async def upload(
    transport: SpaceTransport,
    upload_url: URL,
    files: Sequence[LocalFile],
    *,
    within: float | None,
    deadline: Deadline | None = None,
    max_size: int = DEFAULT_MAX_UPLOAD_SIZE,
    argument: str = _ARGUMENT,
) -> list[dict[str, JSONValue]]:
    """Upload ``files`` in one request to ``upload_url`` (``{root}{api_prefix}/upload``)
    and return their ``FileData`` values, in order, for the call.

    Every file is checked against ``max_size`` first: one over it raises
    :class:`FileTooLargeError`, naming ``argument`` as what raises the cap, and nothing is sent.
    """
    for item in files:
        _check_size(repr(item.name), item.size, max_size, argument)
    if not files:
        return []
    form = UploadForm(tuple(storable_name(f.name) for f in files), new_boundary())
    body = _Body(form, files)
    try:
        answer = await transport.send(
            "POST",
            upload_url,
            what="the upload",
            phase="upload",
            within=within,
            limit=_UPLOAD_ANSWER_LIMIT,
            body=StreamedBody(body.chunks, form.length([f.size for f in files])),
            content_type=form.content_type,
            deadline=deadline,
            doing="uploading files",
        )
    except QwenSpaceError:
        # A file that could not be read as checked stopped the body: that is the cause.
        if body.problem is not None:
            raise body.problem from None
        raise
    if body.problem is not None:
        raise body.problem
    paths = parse_upload_response(answer.status, answer.content_type, answer.body, expected=len(files))
    return [
        file_data(path, name=f.name, size=f.size, mime_type=f.mime_type or guess_mime_type(f.name))
        for path, f in zip(paths, files, strict=True)
    ]


class _Body:
    """The multipart body of an upload, produced as it is sent: files on disk are read
    in chunks (memory stays about one chunk, whatever their size), files in memory are
    sent from their bytes without a joined copy. A file on disk that no longer has the
    size it was checked at stops the body: ``problem`` then says which."""

    def __init__(self, form: UploadForm, files: Sequence[LocalFile]) -> None:
        self._form = form
        self._files = files
        self.problem: UsageError | None = None

    async def chunks(self) -> AsyncIterator[bytes]:
        for index, file in enumerate(self._files):
            yield self._form.head(index)
            if file.path is None:
                for start in range(0, len(file.content), _CHUNK):
                    yield file.content[start : start + _CHUNK]
            else:
                async for chunk in self._from_disk(file, file.path):
                    yield chunk
            yield PART_END
        yield self._form.closing

    async def _from_disk(self, file: LocalFile, path: Path) -> AsyncIterator[bytes]:
        try:
            handle = _open_regular(path)
        except (OSError, UsageError) as exc:
            self.problem = UsageError(f"cannot read the file {str(path)!r} to upload ({_reason(exc)})")
            raise self.problem from exc
        with handle:
            if os.fstat(handle.fileno()).st_size != file.disk_size:
                self.problem = UsageError(
                    f"the file {str(path)!r} changed size after it was attached ({file.disk_size:,} bytes then); "
                    "nothing was stored from it: send it again"
                )
                raise self.problem
            left = file.disk_size
            while left:
                # Off the event loop: a slow disk must not stall the other chats.
                chunk = await asyncio.to_thread(handle.read, min(left, _CHUNK))
                if not chunk:
                    self.problem = UsageError(f"the file {str(path)!r} was cut short while it was uploaded")
                    raise self.problem
                left -= len(chunk)
                yield chunk


async def download(
    transport: SpaceTransport,
    file: ReplyFile,
    *,
    space: URL,
    within: float | None,
    max_size: int = DEFAULT_MAX_DOWNLOAD_SIZE,
) -> bytes:
    """The bytes of a reply file on the Space's origin (``space``), at most ``max_size``."""
    url = _on_space(file, space)
    try:
        answer = await transport.send(
            "GET", url, what=f"the reply file {file.name!r}", phase="download", within=within, limit=max_size
        )
    except ResponseTooLargeError as exc:
        raise ResponseTooLargeError(
            f"the reply file {file.name!r} is larger than the download cap of {max_size:,} bytes; "
            "raise max_download_size to save it, or fetch its URL yourself: " + file.url,
            limit=max_size,
        ) from exc
    if answer.status != 200:
        error = error_for_response(answer.status, answer.content_type, answer.body)
        raise type(error)(
            f"the Space refused the reply file {file.name!r} ({file.url}): {error.message}",
            status=error.status,
            detail=error.detail,
        )
    return answer.body


async def save(
    transport: SpaceTransport,
    file: ReplyFile,
    folder: str | os.PathLike[str],
    *,
    space: URL,
    within: float | None,
    max_size: int = DEFAULT_MAX_DOWNLOAD_SIZE,
) -> Path:
    """Download a reply file and save it in ``folder`` (see :func:`save_bytes`)."""
    content = await download(transport, file, space=space, within=within, max_size=max_size)
    return save_bytes(content, file.name, folder)


def save_bytes(content: bytes, name: str, folder: str | os.PathLike[str]) -> Path:
    """Write ``content`` into ``folder`` under the sanitised ``name``, or ``name (1)``... if
    taken; never outside ``folder``, never over an existing file; returns the path."""
    home = Path(folder)
    try:
        home.mkdir(parents=True, exist_ok=True)
        descriptor, temp = _new_temp(home)
    except OSError as exc:
        raise UsageError(f"cannot write into the folder {str(home)!r} ({exc.strerror or exc})") from exc
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        return _claim(Path(temp), home, safe_filename(name))
    except OSError as exc:
        raise UsageError(f"cannot save {name!r} into {str(home)!r} ({exc.strerror or exc})") from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)


def _new_temp(home: Path) -> tuple[int, str]:
    # Not tempfile.mkstemp: its 0600 would stay on the saved file; 0666 minus the
    # umask gives the permissions any new file of the user's gets.
    while True:
        temp = str(home / f".qwen-space-{secrets.token_hex(8)}.part")
        try:
            return os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), temp
        except FileExistsError:
            continue


def _claim(temp: Path, home: Path, name: str) -> Path:
    """Give ``temp`` the first free name; a link fails rather than replace a file that
    appeared meanwhile. Where the file system has no links, the name is first taken by
    an exclusively created empty file, which ``os.replace`` then replaces: a file
    someone else made meanwhile is never the one replaced."""
    stem, dot, extension = name.rpartition(".")
    if not stem:
        stem, dot, extension = name, "", ""
    links = True
    number = 0
    while number < 10_000:
        candidate = home / (name if number == 0 else f"{stem} ({number}){dot}{extension}")
        try:
            if links:
                os.link(temp, candidate, follow_symlinks=False)
            else:
                os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL))
                try:
                    os.replace(temp, candidate)
                except OSError:
                    os.unlink(candidate)  # our empty placeholder, not a file of anyone's
                    raise
            return candidate
        except FileExistsError:
            number += 1
        except (NotImplementedError, OSError) as exc:
            if not links or (isinstance(exc, OSError) and exc.errno not in _NO_LINKS):
                raise
            links = False
    raise UsageError(f"{str(home)!r} already holds 10,000 files named like {name!r}; choose another folder")


def _on_space(file: ReplyFile, space: URL) -> URL:
    try:
        url = URL(file.url)
        origin = url.origin() if url.absolute and url.scheme else None
    except (ValueError, TypeError):
        raise FileElsewhereError(f"the reply file {file.name!r} has a malformed URL", url=file.url) from None
    if url.user is not None or url.password is not None:  # the Space choosing whom we log in as
        raise FileElsewhereError(
            f"the reply file {file.name!r} has credentials in its URL; qwen-space does not fetch it", url=file.url
        )
    if origin is None or not same_origin(origin, space):
        raise FileElsewhereError(
            f"the reply file {file.name!r} is at {file.url}, not on the Space ({space.origin()}); qwen-space does "
            "not fetch it, so that your token and headers stay with the Space: fetch it yourself if you trust it",
            url=file.url,
        )
    return url


def _reason(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


def _check_size(what: str, size: int, limit: int, argument: str) -> None:
    if size > limit:
        raise FileTooLargeError(f"the file {what}", size=size, limit=limit, argument=argument)
