"""The cassette file: readable YAML (SSE bodies as block scalars, one message per
line), loaded with vcrpy's safe loader and checked for shape before anything reads
it, refused over :data:`MAX_CASSETTE_BYTES` before it is read, and written whole or
not at all (a temporary file renamed over it)."""

from __future__ import annotations

import errno
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import CassetteError

if TYPE_CHECKING:
    # vcrpy is imported when a cassette is used, not with the package: it is most of
    # the import time of qwen_space.client, and most users never touch a cassette.
    pass


__all__ = [
    "MAX_CASSETTE_BYTES",
    "Interaction",
    "Persister",
    "ReadableYAML",
    "atomic_write",
    "cassette_stat",
    "load_interactions",
    "read_text",
    "short_path",
]

#: Larger files are refused before they are read: a chat's recording is far smaller.
MAX_CASSETTE_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Interaction:
    """One recorded request and its answer, as :func:`load_interactions` reads them."""

    method: str
    uri: str
    request_body: str | None
    status: int
    response_body: str
    #: The bodies' bytes as recorded (the texts above replace what is not UTF-8).
    request_bytes: bytes | None = None
    response_bytes: bytes = b""

    @property
    def route(self) -> str:
        """The URL without its query."""
        return self.uri.split("?", 1)[0]


class _ReadableDumper(yaml.SafeDumper):
    """Block style for multi-line strings, so SSE bodies read one message per line."""

    def ignore_aliases(self, data: Any) -> bool:
        return True  # a value written twice is written twice: the reader refuses aliases


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_ReadableDumper.add_representer(str, _represent_str)


def _kind(value: object) -> str:
    """A value's type in the words of YAML, not Python's."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, bytes):
        return "binary"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "an unknown value"


def _expect(value: object, types: tuple[type, ...], where: str, wanted: str) -> None:
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        raise CassetteError(f"{where} is {_kind(value)}, not {wanted}")


def _mapping(value: object, where: str, wanted: str) -> dict[Any, Any]:
    if not isinstance(value, dict):
        raise CassetteError(f"{where} is {_kind(value)}, not {wanted}")
    return value


def _check_headers(headers: object, where: str) -> None:
    for name, values in _mapping(headers, where, "a mapping of header names to values").items():
        _expect(name, (str,), f"a header name in {where}", "text")
        for value in values if isinstance(values, list) else [values]:
            _expect(value, (str,), f"{where} {name!r}", "text or a list of text")


def _check_interaction(interaction: object, n: int) -> None:
    where = f"interaction {n}"
    interaction = _mapping(interaction, where, "a mapping with a request and a response")
    request = _mapping(interaction.get("request"), f"{where}'s request", "a mapping")
    response = _mapping(interaction.get("response"), f"{where}'s response", "a mapping")
    fields = {"method", "uri", "body", "headers"}
    if set(request) != fields:
        odd = sorted(set(request) ^ fields)[0]
        raise CassetteError(f"{where}'s request {'lacks' if odd in fields else 'has an unknown field'} {odd!r}")
    _expect(request["method"], (str,), f"{where}'s request method", "text")
    _expect(request["uri"], (str,), f"{where}'s request uri", "text")
    _expect(request["body"], (str, bytes, type(None)), f"{where}'s request body", "text or null")
    _check_headers(request["headers"], f"{where}'s request headers")
    for field in ("status", "headers", "body"):
        if field not in response:
            raise CassetteError(f"{where}'s response lacks {field!r}")
    status = _mapping(response["status"], f"{where}'s response status", "a mapping with a code and a message")
    body = _mapping(response["body"], f"{where}'s response body", "a mapping with a 'string'")
    _expect(status.get("code"), (int,), f"{where}'s response status code", "a number")
    _expect(status.get("message"), (str,), f"{where}'s response status message", "text")
    _check_headers(response["headers"], f"{where}'s response headers")
    _expect(body.get("string"), (str, bytes), f"{where}'s response body string", "text")


def _refuse_aliases(text: str) -> None:
    """Aliases let a file of a few KB stand for gigabytes once read (each alias of a
    1 MB body is another 1 MB to decode and compare); cassettes never need them."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            raise CassetteError(
                "holds a YAML alias (*name), which a cassette never needs and which can expand a small "
                "file into gigabytes; re-record it with `qwen-space record`"
            )


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or getattr(exc, "reason", None) or "malformed"
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return " ".join(f"{where}{problem}".split())[:200]


class ReadableYAML:
    """vcrpy's serializer for the project's cassettes: readable YAML out; safe YAML of
    the right shape in, else :class:`CassetteError` (the one walk of a cassette's shape)."""

    @staticmethod
    def serialize(cassette: dict[str, Any]) -> str:
        return yaml.dump(cassette, Dumper=_ReadableDumper, allow_unicode=True, sort_keys=False, width=1_000_000)

    @staticmethod
    def deserialize(text: str) -> dict[str, Any]:
        from vcr.serializers import yamlserializer

        try:
            _refuse_aliases(text)
            cassette = yamlserializer.deserialize(text)
        except yaml.YAMLError as exc:
            raise CassetteError(
                f"is not a safe, well-formed vcrpy YAML file ({_yaml_problem(exc)}); re-record it "
                "with `qwen-space record`"
            ) from None
        try:
            cassette = _mapping(cassette, "the file", "a cassette (a mapping with 'interactions')")
            _expect(cassette.get("interactions"), (list,), "its 'interactions'", "a list")
            for n, interaction in enumerate(cassette["interactions"], 1):
                _check_interaction(interaction, n)
        except CassetteError as error:
            raise CassetteError(f"is not a vcrpy cassette: {error}; re-record it with `qwen-space record`") from None
        return cassette


def short_path(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 100 else f"{text[:60]}...{text[-20:]} ({len(text)} characters)"


def cassette_stat(path: Path) -> os.stat_result | None:
    """The file's status, ``None`` if it does not exist; :class:`CassetteError` if it
    exists but cannot be a cassette (checked before a byte of it is read)."""
    try:
        status = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise CassetteError(f"{short_path(path)}: the file name is too long for this system") from None
        raise CassetteError(f"{short_path(path)} cannot be read ({exc.strerror})") from None
    if stat.S_ISDIR(status.st_mode):
        raise CassetteError(f"{path} is a directory, not a cassette file: name one of the .yaml files in it")
    if not stat.S_ISREG(status.st_mode):
        raise CassetteError(f"{path} is not a regular file (a pipe, socket or device); a cassette is a .yaml file")
    if status.st_size > MAX_CASSETTE_BYTES:
        raise CassetteError(
            f"{path} is {status.st_size / 2**20:.0f} MiB, over the {MAX_CASSETTE_BYTES >> 20} MiB limit for a "
            "cassette: it is not a recording of a chat"
        )
    return status


def read_text(path: Path) -> str:
    """A cassette-sized UTF-8 file, or :class:`CassetteError` naming it."""
    if cassette_stat(path) is None:
        raise CassetteError(f"no cassette at {short_path(path)}; record one with `qwen-space record`")
    try:
        with path.open("rb") as file:
            # Bounded even if the file grew since it was checked.
            data = file.read(MAX_CASSETTE_BYTES + 1)
    except OSError as exc:
        raise CassetteError(f"{short_path(path)} cannot be read ({exc.strerror})") from None
    if len(data) > MAX_CASSETTE_BYTES:
        raise CassetteError(f"{path} is over the {MAX_CASSETTE_BYTES >> 20} MiB limit for a cassette")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteError(
            f"{path} is not a text file (byte {exc.start} is not UTF-8); a cassette is UTF-8 YAML"
        ) from None


def _load(path: Path) -> dict[str, Any]:
    text = read_text(path)
    if not text.strip():
        raise CassetteError(f"{path} is empty; record it with `qwen-space record`")
    try:
        return ReadableYAML.deserialize(text)
    except CassetteError as error:
        raise CassetteError(f"{path} {error}") from None


def load_interactions(path: str | Path) -> list[Interaction]:
    """The interactions of the cassette at ``path``, checked; :class:`CassetteError` naming
    the file when it is missing, too large, not UTF-8 YAML, unsafe or not a cassette."""
    path = Path(path)

    def text(body: str | bytes) -> str:
        return body if isinstance(body, str) else body.decode("utf-8", "replace")

    def raw(body: str | bytes) -> bytes:
        return body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body

    return [
        Interaction(
            method=i["request"]["method"],
            uri=i["request"]["uri"],
            request_body=None if i["request"]["body"] is None else text(i["request"]["body"]),
            status=i["response"]["status"]["code"],
            response_body=text(i["response"]["body"]["string"]),
            request_bytes=None if i["request"]["body"] is None else raw(i["request"]["body"]),
            response_bytes=raw(i["response"]["body"]["string"]),
        )
        for i in _load(path)["interactions"]
    ]


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``path`` whole or not at all: a temporary file next to it, renamed over it."""
    temporary = path.with_name(f".{path.name[:200]}.{secrets.token_hex(6)}.tmp")
    try:
        # 0o666 less the umask, as a plain open() would create it (mkstemp's 0o600 would not).
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise CassetteError(f"cannot write {short_path(path)} ({exc.strerror}); nothing was replaced") from None
    finally:
        temporary.unlink(missing_ok=True)


class Persister:
    """vcrpy's file persister, with the project's limits on reading and atomic writes."""

    @staticmethod
    def load_cassette(cassette_path: str, serializer: Any) -> Any:
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        path = Path(cassette_path)
        status = cassette_stat(path)
        if status is None or status.st_size == 0:
            raise CassetteNotFoundError()  # vcrpy records it anew (or, replaying, finds nothing)
        text = read_text(path)
        try:
            return deserialize(text, serializer)
        except CassetteError as error:
            raise CassetteError(f"{path} {error}") from None

    @staticmethod
    def save_cassette(cassette_path: str, cassette_dict: dict[str, Any], serializer: Any) -> None:
        from vcr.serialize import serialize

        path = Path(cassette_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, serialize(cassette_dict, serializer).encode("utf-8"))
