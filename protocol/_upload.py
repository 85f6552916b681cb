"""The upload request: the multipart body Gradio's ``{api_prefix}/upload`` takes, its
answer, the size cap, and the data URLs files arrive in through the OpenAI face.

Gradio reads one part named ``files`` per file and answers with a JSON list of the
server paths it stored them at, in order; those paths are what a call may then name
(a launched app refuses any other). Browsers put the file name in the part's
headers as raw UTF-8, escaping only ``"``, CR and LF (the HTML standard's rule), and
so do we: Gradio keeps unicode names as given.
"""

from __future__ import annotations

import base64
import binascii
import posixpath
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from ._file_names import percent_decoded
from ._join import error_for_response, media_type
from ._json import loads
from .errors import FileTooLargeError, InvalidDataURLError, RemoteProtocolError, UsageError

__all__ = [
    "PART_END",
    "DataURL",
    "UploadForm",
    "new_boundary",
    "parse_data_url",
    "parse_upload_response",
    "storable_name",
]

# RFC 2046's characters but the space, so that the header needs no quotes.
_BOUNDARY = re.compile(r"[0-9A-Za-z'()+_,\-./:=?]{1,70}")
_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_NAME_ESCAPES = str.maketrans({'"': "%22", "\r": "%0D", "\n": "%0A"})
#: What follows each file's content in the body.
PART_END = b"\r\n"


def new_boundary() -> str:
    """A fresh multipart boundary (random: no file can be made to contain it)."""
    return f"qwen-space-{secrets.token_hex(16)}"


@dataclass(frozen=True, slots=True)
class UploadForm:
    """The ``multipart/form-data`` body of one upload of ``names`` (in order).

    ``body(contents)`` joins the parts around the files' bytes. A caller that streams
    the files from disk sends ``head(i)``, file ``i``'s bytes and ``PART_END`` for each
    file, then ``closing``: ``length(sizes)`` bytes in all, known before anything is read.
    """

    names: tuple[str, ...]
    boundary: str

    def __post_init__(self) -> None:
        if not isinstance(self.boundary, str) or not _BOUNDARY.fullmatch(self.boundary):
            raise UsageError(
                f"multipart boundary {self.boundary!r} is not a valid one (1 to 70 characters of RFC 2046's set, "
                "no spaces); use new_boundary()"
            )
        for position, name in enumerate(self.names):
            if not isinstance(name, str):
                raise UsageError(f"names[{position}] must be a string, got {type(name).__name__}")

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def head(self, index: int) -> bytes:
        """The bytes before file ``index``'s content: the delimiter and the part's headers."""
        filename = _encode_name(self.names[index].translate(_NAME_ESCAPES))
        return b"".join(
            [
                f"--{self.boundary}".encode(),
                b'\r\nContent-Disposition: form-data; name="files"; filename="',
                filename,
                b'"\r\nContent-Type: application/octet-stream\r\n\r\n',
            ]
        )

    @property
    def closing(self) -> bytes:
        """The bytes after the last part."""
        return f"--{self.boundary}--\r\n".encode()

    def length(self, sizes: Sequence[int]) -> int:
        """The body's length in bytes for files of ``sizes`` (in order)."""
        if len(sizes) != len(self.names):
            raise UsageError(f"{len(self.names)} file names but {len(sizes)} sizes")
        parts = sum(len(self.head(i)) + size + len(PART_END) for i, size in enumerate(sizes))
        return parts + len(self.closing)

    def body(self, contents: Sequence[bytes]) -> bytes:
        if len(contents) != len(self.names):
            raise UsageError(f"{len(self.names)} file names but {len(contents)} contents")
        delimiter = f"--{self.boundary}".encode()
        pieces: list[bytes] = []
        for index, (name, content) in enumerate(zip(self.names, contents, strict=True)):
            if delimiter in content:  # only a caller-chosen boundary can meet this
                raise UsageError(f"the file {name!r} contains the multipart boundary; use new_boundary()")
            pieces += [self.head(index), content, PART_END]
        pieces.append(self.closing)
        return b"".join(pieces)


def storable_name(name: str) -> str:
    """The name to send for a file so that every release can store it.

    Gradio stores an upload under the last path component of its name, cleaned:
    ``..`` is refused (HTTP 400), and before 6.x a name with no letter or digit
    cleans to nothing, which stores the file as its folder. Such a stem becomes
    ``file``; any other name goes as it is (the call's ``orig_name`` keeps it anyway).
    """
    base = name.rsplit("/", 1)[-1]
    stem, extension = posixpath.splitext(base)
    return base if any(c.isalnum() for c in stem) else f"file{extension}"


def parse_upload_response(status: int, content_type: str | None, body: bytes, *, expected: int) -> list[str]:
    """The server paths of an upload's ``expected`` files, in order, or the typed error
    for a refusal (:func:`error_for_response`) or an answer that is not the list."""
    if status != 200:
        raise error_for_response(status, content_type, body)
    if media_type(content_type) != "application/json":
        raise RemoteProtocolError(
            f"the upload answered {(content_type or 'no content type')[:100]} instead of a JSON list of paths; "
            "the URL may not be a Gradio app"
        )
    paths = loads(body, what="the upload answer")
    if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        raise RemoteProtocolError(f"the upload answer is not a list of server paths: {body[:200]!r}")
    if len(paths) != expected:
        raise RemoteProtocolError(f"the upload of {expected} file(s) answered {len(paths)} path(s)")
    return [p for p in paths if isinstance(p, str)]


@dataclass(frozen=True, slots=True)
class DataURL:
    """The bytes of a ``data:`` URL and its media type (``text/plain`` if it names none)."""

    mime_type: str
    data: bytes


def parse_data_url(url: str, *, limit: int, argument: str) -> DataURL:
    """Decode a ``data:[<type>][;base64],<data>`` URL whose bytes are at most ``limit``.

    The size is checked from the encoded length before anything is decoded, so a
    huge URL costs no memory beyond itself; ``argument`` names what raises the cap
    (in :class:`FileTooLargeError`). Malformed URLs raise :class:`InvalidDataURLError`.
    """
    if not isinstance(url, str) or url[:5].lower() != "data:":
        raise InvalidDataURLError(f"expected a data: URL (data:<type>;base64,<data>), got {str(url)[:40]!r}")
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise InvalidDataURLError("the data: URL has no ',' before its data")
    params = [p.strip() for p in header.split(";")]
    is_base64 = len(params) > 1 and params[-1].lower() == "base64"
    mime = (params[0] or "text/plain").lower()
    if not re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", mime):
        raise InvalidDataURLError(f"the data: URL's media type {params[0][:60]!r} is not type/subtype")
    # Exact for well-formed data (base64: 4 characters per 3 bytes; %XX: 3 per byte).
    # Only a '%' and two hex digits is an escape: a stray '%' decodes as itself.
    most = len(payload.rstrip("=")) * 3 // 4 if is_base64 else len(payload) - 2 * len(_ESCAPE.findall(payload))
    if most > limit:
        raise FileTooLargeError("the data: URL's file", size=most, limit=limit, argument=argument)
    if not payload.isascii():
        raise InvalidDataURLError("the data: URL holds characters that are not ASCII; percent-encode or base64 them")
    if not is_base64:
        return DataURL(mime, percent_decoded(payload))
    try:
        return DataURL(mime, base64.b64decode(payload.encode("ascii"), validate=True))
    except (binascii.Error, ValueError, UnicodeError):
        raise InvalidDataURLError(
            "the data: URL's base64 is malformed (characters outside the alphabet, or bad padding)"
        ) from None


def _encode_name(name: str) -> bytes:
    # A name read from a POSIX path may hold undecodable bytes as surrogate escapes:
    # send those bytes back as they were; any other lone surrogate becomes "?".
    try:
        return name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return name.encode("utf-8", "replace")
