"""File names a Space gives, made safe to save, and the media type a name implies.

A reply file's name is whatever the app wrote (Gradio keeps ``orig_name`` as given:
``../../x`` survives), so before it touches a disk it becomes one harmless path
component on every OS. The media-type table is ours, not :mod:`mimetypes`, which
reads the machine's ``mime.types`` files: the same name must mean the same type
everywhere, and this layer reads no files.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["MAX_NAME_BYTES", "guess_mime_type", "percent_decoded", "percent_encoded", "safe_filename"]

_ESCAPE = re.compile(rb"%([0-9A-Fa-f]{2})")

#: Most file systems allow 255 bytes; the rest leaves room for `` (123)`` and a temp suffix.
MAX_NAME_BYTES = 200
_FORBIDDEN = frozenset('<>:"/\\|?*')
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{device}{n}" for device in ("COM", "LPT") for n in [*"123456789", "¹", "²", "³"]}
)
_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "svg": "image/svg+xml",
    "avif": "image/avif",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "ico": "image/x-icon",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "ogg": "audio/ogg",
    "flac": "audio/flac",
    "m4a": "audio/mp4",
    "mp4": "video/mp4",
    "webm": "video/webm",
    "mov": "video/quicktime",
    "pdf": "application/pdf",
    "json": "application/json",
    "zip": "application/zip",
    "txt": "text/plain",
    "md": "text/markdown",
    "csv": "text/csv",
    "html": "text/html",
}


def guess_mime_type(name: str) -> str:
    """The media type a file name's extension implies, ``application/octet-stream`` if none."""
    _, dot, extension = name.rpartition(".")
    return _TYPES.get(extension.lower(), "application/octet-stream") if dot else "application/octet-stream"


def safe_filename(name: str, *, default: str = "file") -> str:
    """``name`` as one path component that is safe to create in a folder on any OS.

    Only the last component of a path survives; control characters, lone surrogates
    and the characters Windows forbids become ``_``; leading dots and spaces go (no
    ``..``, no hidden files), trailing ones too (Windows drops them); a reserved
    device name (``CON``, ``nul.txt``, ``COM1``...) gets a ``_`` in front; the name is
    cut to :data:`MAX_NAME_BYTES` UTF-8 bytes, keeping a short extension. An empty
    result is ``default``.
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(_safe_char(c) for c in unicodedata.normalize("NFC", base))
    cleaned = cleaned.strip(" .")
    if not cleaned:
        cleaned = default
    if cleaned.split(".", 1)[0].rstrip(" ").upper() in _RESERVED:
        cleaned = f"_{cleaned}"
    return _shorten(cleaned)


def _safe_char(char: str) -> str:
    category = unicodedata.category(char)
    if char in _FORBIDDEN or category in ("Cc", "Cs", "Cf", "Zl", "Zp"):
        return "_"
    return char


def _shorten(name: str) -> str:
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or len(extension.encode()) > 16:
        stem, extension = name, ""
    room = MAX_NAME_BYTES - (len(extension.encode()) + 1 if extension else 0)
    cut = stem.encode()[:room].decode(errors="ignore").rstrip(" .") or "file"
    return f"{cut}.{extension}" if extension else cut


# Not urllib.parse: this package imports nothing of urllib (tests/test_packaging.py).
def percent_decoded(text: str) -> bytes:
    """``text`` with each ``%XX`` escape decoded (a stray ``%`` stays itself), as bytes."""
    return _ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text.encode("utf-8", "surrogatepass"))


def percent_encoded(char: str) -> str:
    """Every UTF-8 byte of ``char`` as ``%XX``."""
    return "".join(f"%{byte:02X}" for byte in char.encode("utf-8", "surrogatepass"))
