"""vcrpy cassettes of Gradio sessions: the project's one recording configuration.

* Requests match on method, path, query and body, with the random session hash
  normalised to ``SESSION`` (in the ``queue/data`` query and in JSON bodies), so a
  replay with a fresh hash finds its interaction; scheme, host and port are not
  matched, so a cassette recorded from a replica on a random loopback port replays
  against any URL.
* Nothing secret is written: the credential headers (``Authorization``,
  ``x-hf-authorization``, ``x-api-key``, ``Cookie``, ``Set-Cookie``: the list of
  ``qwen_space.client.core.secrets``, which ``serve`` scrubs by too) are removed, and
  the credentials they carried (whatever their form), the tokens given to
  :func:`record_cassette` and anything that looks like a Hugging Face token
  (``hf_...``) are redacted from every URL, header, status line and body, should the
  Space echo them. The login of an ``auth=`` app is kept with ``[REDACTED]`` for user
  name and password, and its answer's cookies with ``[REDACTED]`` for their values:
  requests match on that form whatever credentials a replay logs in with, and the
  replayed login is accepted (a replay without ``auth=`` skips it).
* A recording replaces a cassette only once it succeeded (:func:`record_cassette`
  writes a temporary file next to it and renames it over the old one), and never
  inside the installed package.
* The YAML is readable: SSE bodies are block scalars, one message per line. It is
  loaded with vcrpy's safe loader (a cassette with unsafe tags fails with
  :class:`CassetteError` without constructing anything) and its shape is checked
  before anything reads it. A file over :data:`MAX_CASSETTE_BYTES` (64 MiB; the
  longest bundled recording is under 1 MiB) is refused before it is read.

vcrpy buffers a whole response body while recording and replays it as one chunk,
so cassettes check protocol content, not timing (the loopback fault tests do that).
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import site
import stat
import sysconfig
from collections.abc import Container, Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import yaml

from ..core.errors import CassetteError, UsageError, missing_from_cassette
from ..core.login import FORM
from ..core.secrets import REDACTED, Redactor, is_credential_header

if TYPE_CHECKING:
    # vcrpy is imported when a cassette is used, not with the package: it is most of
    # the import time of qwen_space.client, and most users never touch a cassette.
    import vcr
    from vcr.request import Request

__all__ = [
    "BUNDLED_CASSETTES",
    "MAX_CASSETTE_BYTES",
    "SESSION_PLACEHOLDER",
    "CassetteInfo",
    "Interaction",
    "ReadableYAML",
    "Recording",
    "bundled_cassette",
    "bundled_directory",
    "cassette_vcr",
    "load_interactions",
    "load_manifest",
    "locate_cassette",
    "record_cassette",
    "refuse_installed_package",
    "safe_name",
    "save_manifest",
    "use_cassette",
]

SESSION_PLACEHOLDER = "SESSION"
MANIFEST = "manifest.json"
#: The package data directory holding the cassettes recorded for this release.
BUNDLED_CASSETTES = "qwen_space.cassettes"
DEFAULT_CASSETTE = "gradio-5.50.0/hello.yaml"
#: Larger files are refused before they are read: a chat's recording is far smaller.
MAX_CASSETTE_BYTES = 64 * 1024 * 1024

_SESSION_IN_BODY = re.compile(rb'("session_hash"\s*:\s*")[^"]*(")')
# A multipart body's first line: ``--`` and its boundary (RFC 2046's characters, no space).
_MULTIPART_START = re.compile(rb"--([0-9A-Za-z'()+_,\-./:=?]{1,70})\r\n")
#: The boundary a cassette holds for every multipart body (an upload's is random each time).
BOUNDARY_PLACEHOLDER = "qwen-space-BOUNDARY"
# Besides the credential headers (client/core/secrets.py), which are never written.
_DROP_RESPONSE_HEADERS = {"date", "server", "x-request-id", "x-proxied-host", "link"}
_SAFE_NAME = re.compile(r"[A-Za-z0-9._+-]{1,64}")


@dataclass(frozen=True, slots=True, kw_only=True)
class CassetteInfo:
    """One manifest entry: where and how a cassette was recorded."""

    cassette: str
    url: str
    gradio_version: str | None
    scenario: str
    prompt: str
    recorded_at: str


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


def safe_name(text: str | None, fallback: str = "unknown") -> str:
    """``text`` if it is a plain file name part (letters, digits, ``._+-``, at most 64,
    not ``..``), else ``fallback``: for names that come from a server."""
    if text and _SAFE_NAME.fullmatch(text) and ".." not in text:
        return text
    return fallback


class _Scrubber:
    """Removes credentials from what vcrpy is about to write.

    The credentials a request carries are learnt from its headers before they are
    dropped, so a Space that echoes them, in a header or a body, an hour later,
    has them redacted too: tokens can be any string, not only ``hf_...``.
    """

    def __init__(self, known: Iterable[str | None] = ()) -> None:
        self._redactor = Redactor(known)
        self._login = False

    def _redact_headers(self, headers: Mapping[str, Any], drop: Container[str]) -> dict[str, Any]:
        for name, values in headers.items():
            for value in values if isinstance(values, list) else [values]:
                self._redactor.learn(name, str(value))
        return {
            name: [self._text(str(v)) for v in values] if isinstance(values, list) else self._text(values)
            for name, values in headers.items()
            if not is_credential_header(name) and name.lower() not in drop
        }

    def _text(self, text: str) -> str:
        return self._redactor.published(text.encode("utf-8", "surrogatepass")).decode("utf-8", "surrogatepass")

    def request(self, request: Request) -> Request:
        request.headers = self._redact_headers(request.headers, ())
        request.uri = self._text(request.uri)
        # vcrpy filters a request, then at once its response: this tells response() whose.
        self._login = _is_login(request)
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        if isinstance(body, bytes):
            request.body = self._redactor.published(_normal_body(request, body))
            boundary = multipart_boundary(body)
            if boundary is not None:  # the header names the boundary the body no longer holds
                request.headers = {
                    name: _with_placeholder(values, boundary) if name.lower() == "content-type" else values
                    for name, values in request.headers.items()
                }
        return request

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        cookies = [
            _placeholder_cookie(str(value))
            for name, values in response["headers"].items()
            if name.lower() == "set-cookie"
            for value in (values if isinstance(values, list) else [values])
        ]
        response["headers"] = self._redact_headers(response["headers"], _DROP_RESPONSE_HEADERS)
        if self._login and cookies:
            # The cookies' names without their values, so that a replayed login is accepted.
            response["headers"]["Set-Cookie"] = cookies
        status = response.get("status")
        if isinstance(status, dict) and isinstance(status.get("message"), str):
            status["message"] = self._text(status["message"])
        body = response.get("body", {}).get("string")
        if isinstance(body, str):
            body = body.encode("utf-8")
        if isinstance(body, bytes):
            response["body"]["string"] = self._redactor.published(body)
        return response


def _without_session_hash(body: bytes) -> bytes:
    return _SESSION_IN_BODY.sub(rb"\g<1>" + SESSION_PLACEHOLDER.encode() + rb"\g<2>", body)


def multipart_boundary(body: bytes) -> bytes | None:
    """The boundary of a whole multipart body (its first line names it, its last line
    closes it), else ``None``."""
    match = _MULTIPART_START.match(body)
    if match is None or not body.endswith(b"--" + match.group(1) + b"--\r\n"):
        return None
    return match.group(1)


def _without_boundary(body: bytes) -> bytes:
    """A multipart body with its boundary replaced by the placeholder: an upload draws a
    new random one each time, so a replay would never match the recording otherwise.
    The boundary occurs nowhere in the parts (that is what makes it a boundary)."""
    boundary = multipart_boundary(body)
    if boundary is None:
        return body
    return body.replace(b"--" + boundary, b"--" + BOUNDARY_PLACEHOLDER.encode())


def _with_placeholder(values: Any, boundary: bytes) -> Any:
    placeholder, text = BOUNDARY_PLACEHOLDER, boundary.decode("ascii")
    if isinstance(values, list):
        return [str(v).replace(text, placeholder) for v in values]
    return str(values).replace(text, placeholder)


def _is_login(request: Request) -> bool:
    # Gradio's form login (client/core/login.py), at the app's root under any root path;
    # the form, since an app's own endpoint may be named "login" (and posts JSON).
    return (
        request.method == "POST"
        and urlsplit(request.uri).path.endswith("/login")
        and str(request.headers.get("Content-Type", "")).startswith(FORM)
    )


def _normal_body(request: Request, body: bytes) -> bytes:
    """``body`` as a cassette holds it: the session hash replaced, and a login form's
    user name and password. A published cassette names no account, and a replay
    with any credentials (or none: then there is no login) finds the recorded login."""
    if not _is_login(request):
        return _without_session_hash(_without_boundary(body))
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    return urlencode([(k, REDACTED if k in ("username", "password") else v) for k, v in pairs]).encode()


def _placeholder_cookie(header: str) -> str:
    """A ``Set-Cookie`` with its value (the session token) replaced, its name and attributes kept."""
    pair, semicolon, attributes = header.partition(";")
    return f"{pair.partition('=')[0].strip()}={REDACTED}{semicolon}{attributes}"


def _body_matcher(r1: Request, r2: Request) -> None:
    def normal(request: Request) -> bytes:
        body = request.body
        if body is None:
            return b""
        return _normal_body(request, body.encode("utf-8") if isinstance(body, str) else bytes(body))

    if normal(r1) != normal(r2):
        raise AssertionError(f"bodies differ: {normal(r1)[:200]!r} != {normal(r2)[:200]!r}")


class _ReadableDumper(yaml.SafeDumper):
    """Block style for multi-line strings, so SSE bodies read one message per line."""


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


def _short(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 100 else f"{text[:60]}...{text[-20:]} ({len(text)} characters)"


def _cassette_stat(path: Path) -> os.stat_result | None:
    """The file's status, ``None`` if it does not exist; :class:`CassetteError` if it
    exists but cannot be a cassette (checked before a byte of it is read)."""
    try:
        status = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise CassetteError(f"{_short(path)}: the file name is too long for this system") from None
        raise CassetteError(f"{_short(path)} cannot be read ({exc.strerror})") from None
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


def _read_text(path: Path) -> str:
    """A cassette-sized UTF-8 file, or :class:`CassetteError` naming it."""
    if _cassette_stat(path) is None:
        raise CassetteError(f"no cassette at {_short(path)}; record one with `qwen-space record`")
    try:
        with path.open("rb") as file:
            # Bounded even if the file grew since it was checked.
            data = file.read(MAX_CASSETTE_BYTES + 1)
    except OSError as exc:
        raise CassetteError(f"{_short(path)} cannot be read ({exc.strerror})") from None
    if len(data) > MAX_CASSETTE_BYTES:
        raise CassetteError(f"{path} is over the {MAX_CASSETTE_BYTES >> 20} MiB limit for a cassette")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CassetteError(
            f"{path} is not a text file (byte {exc.start} is not UTF-8); a cassette is UTF-8 YAML"
        ) from None


def _load(path: Path) -> dict[str, Any]:
    text = _read_text(path)
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


def _atomic_write(path: Path, data: bytes) -> None:
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
        raise CassetteError(f"cannot write {_short(path)} ({exc.strerror}); nothing was replaced") from None
    finally:
        temporary.unlink(missing_ok=True)


class _Persister:
    """vcrpy's file persister, with the project's limits on reading and atomic writes."""

    @staticmethod
    def load_cassette(cassette_path: str, serializer: Any) -> Any:
        from vcr.persisters.filesystem import CassetteNotFoundError
        from vcr.serialize import deserialize

        path = Path(cassette_path)
        status = _cassette_stat(path)
        if status is None or status.st_size == 0:
            raise CassetteNotFoundError()  # vcrpy records it anew (or, replaying, finds nothing)
        text = _read_text(path)
        try:
            return deserialize(text, serializer)
        except CassetteError as error:
            raise CassetteError(f"{path} {error}") from None

    @staticmethod
    def save_cassette(cassette_path: str, cassette_dict: dict[str, Any], serializer: Any) -> None:
        from vcr.serialize import serialize

        path = Path(cassette_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        _atomic_write(path, serialize(cassette_dict, serializer).encode("utf-8"))


def cassette_vcr(record_mode: str = "none", *, tokens: Iterable[str | None] = ()) -> vcr.VCR:
    """A ``vcr.VCR`` with the project's recording configuration; ``tokens`` are redacted
    wherever they appear, with the credentials the requests carry."""
    import vcr

    scrubber = _Scrubber(tokens)
    configured = vcr.VCR(
        serializer="yaml",
        record_mode=record_mode,
        match_on=["method", "path", "query", "gradio_body"],
        filter_query_parameters=[("session_hash", SESSION_PLACEHOLDER)],
        before_record_request=scrubber.request,
        before_record_response=scrubber.response,
        decode_compressed_response=True,
        # A block that failed is not a recording: the cassette stays as it was.
        record_on_exception=False,
    )
    configured.register_serializer("yaml", ReadableYAML)
    configured.register_matcher("gradio_body", _body_matcher)
    configured.register_persister(_Persister)
    return configured


@contextmanager
def use_cassette(path: str | Path, *, record_mode: str = "none") -> Iterator[Any]:
    """Record or replay aiohttp traffic from ``path`` (vcrpy errors become :class:`CassetteError`).

    To re-record a cassette, use :func:`record_cassette`: it replaces the old one only
    when the recording succeeds.
    """
    path = Path(path)
    # Missing, a directory, too large, not text, empty: said here, before vcrpy guesses.
    if record_mode == "none" and not _read_text(path).strip():
        raise CassetteError(f"{path} is empty; record it with `qwen-space record`")
    elif record_mode != "none" and (record_mode != "once" or _cassette_stat(path) is None):
        # Only a recording writes: replaying an installed cassette is what it is there for.
        refuse_installed_package(path)
    from vcr.errors import CannotOverwriteExistingCassetteException

    with ExitStack() as stack:
        cassette = stack.enter_context(cassette_vcr(record_mode).use_cassette(str(path)))
        try:
            yield cassette
        except CannotOverwriteExistingCassetteException as exc:
            raise missing_from_cassette(exc, f"the cassette {path.name}") from None


class Recording:
    """A recording in progress (see :func:`record_cassette`)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cassette: Any = None
        self.kept = True

    def discard(self) -> None:
        """Keep the old cassette even though the block ends without an error."""
        self.kept = False


@contextmanager
def record_cassette(path: str | Path, *, tokens: Iterable[str | None] = ()) -> Iterator[Recording]:
    """Record a fresh cassette for ``path``: into a temporary file next to it, renamed over
    ``path`` only when the block succeeds (and did not :meth:`Recording.discard` it), so a
    failed recording leaves the old cassette byte for byte. ``tokens`` (those in use) are
    redacted, with whatever credentials the requests carry."""
    path = Path(path)
    refuse_installed_package(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CassetteError(f"cannot record into {_short(path.parent)} ({exc.strerror})") from None
    recording = Recording(path)
    temporary = path.with_name(f".{path.name[:200]}.{secrets.token_hex(6)}.recording")
    try:
        with cassette_vcr("all", tokens=tokens).use_cassette(str(temporary)) as cassette:
            recording.cassette = cassette
            yield recording
        # No file when nothing was asked of the Space: the old cassette stays.
        if recording.kept and temporary.exists():
            try:
                os.replace(temporary, path)
            except OSError as exc:
                raise CassetteError(f"cannot replace {_short(path)} ({exc.strerror})") from None
    finally:
        temporary.unlink(missing_ok=True)


def _install_directories() -> list[Path]:
    found = [*site.getsitepackages(), site.getusersitepackages()]
    found += [sysconfig.get_path(key) for key in ("purelib", "platlib")]
    return [Path(directory).resolve() for directory in found if directory]


def refuse_installed_package(path: str | Path) -> None:
    """:class:`UsageError` when ``path`` lies inside the installed qwen-space package.

    An editable install's package is the developer's checkout, where the bundled
    cassettes are recorded; an installed one is never written to.
    """
    from ... import protocol

    client_dir = Path(__file__).resolve().parents[1]  # client/recording/cassette.py: client/
    packages = {client_dir, Path(protocol.__file__).resolve().parent, bundled_directory().resolve()}
    if client_dir.parent.name == "qwen_space":
        packages.add(client_dir.parent)
    installed = _install_directories()
    target = Path(path).resolve()
    for package in packages:
        if target.is_relative_to(package) and any(package.is_relative_to(d) for d in installed):
            raise UsageError(
                f"{path} is inside the installed qwen-space package ({package}), which is never written to: "
                "record into a directory of your own (`qwen-space record --out DIR`, or a cassette path "
                "next to your test)"
            )


def bundled_directory() -> Path:
    """The directory of the cassettes shipped in the package."""
    return Path(str(resources.files(BUNDLED_CASSETTES)))


def bundled_cassette(name: str = DEFAULT_CASSETTE) -> Path:
    """The path of a cassette shipped in the package (``gradio-5.50.0/hello.yaml`` by default).

    A bare file name such as ``hello.yaml`` names the default Gradio version's.
    """
    directory = bundled_directory()
    manifest = load_manifest(directory)
    if "/" not in name:
        default = f"{DEFAULT_CASSETTE.split('/')[0]}/{name}"
        matches = [known for known in manifest if known.endswith(f"/{name}")]
        name = default if default in manifest else matches[0] if len(matches) == 1 else name
    if name not in manifest:
        base = name.rsplit("/", 1)[-1]
        examples = sorted(
            manifest, key=lambda known: (not known.endswith(f"/{base}"), known != DEFAULT_CASSETTE, known)
        )
        listed = ", ".join(examples[:3]) or "none"
        raise CassetteError(
            f"no bundled cassette {name!r}; bundled are e.g. {listed} ({len(manifest)} in all: "
            "`qwen-space replay --list` lists them)"
        )
    path = directory / name
    if not path.is_file():
        raise CassetteError(f"the bundled cassette {name} is missing from the installed package; reinstall qwen-space")
    return path


def locate_cassette(name: str | None) -> Path:
    """A cassette file by path, else by bundled name; the default bundled one for ``None``."""
    if name is None:
        return bundled_cassette()
    path = Path(name)
    if _cassette_stat(path) is not None:
        return path
    if path.is_absolute() or name.startswith((".", "~")):
        raise CassetteError(f"{name}: no such cassette file")
    try:
        return bundled_cassette(name)
    except CassetteError as error:
        raise CassetteError(f"{name}: no such file, and {error}") from None


def load_manifest(directory: str | Path) -> dict[str, CassetteInfo]:
    """The manifest of a cassette directory, keyed by cassette path relative to it."""
    manifest = Path(directory) / MANIFEST
    if _cassette_stat(manifest) is None:
        return {}
    try:
        entries = json.loads(_read_text(manifest))
    except (ValueError, RecursionError) as exc:  # RecursionError: nested past Python's limit
        reason = " ".join(str(exc).split())[:200]
        raise CassetteError(f"the cassette manifest {manifest} is not JSON ({reason})") from None
    fields = {"url", "gradio_version", "scenario", "prompt", "recorded_at"}
    if not isinstance(entries, dict) or not all(
        isinstance(entry, dict)
        and set(entry) == fields
        and all(isinstance(v, (str, type(None))) for v in entry.values())
        for entry in entries.values()
    ):
        raise CassetteError(
            f"the cassette manifest {manifest} is malformed: each cassette's entry has text fields "
            f"{', '.join(sorted(fields))}"
        )
    return {name: CassetteInfo(cassette=name, **entry) for name, entry in entries.items()}


def save_manifest(directory: str | Path, infos: list[CassetteInfo]) -> None:
    """Add ``infos`` to the manifest of ``directory`` (replacing entries of the same
    cassette), atomically."""
    existing = load_manifest(directory)
    existing.update({info.cassette: info for info in infos})
    payload = {
        name: {k: v for k, v in asdict(info).items() if k != "cassette"} for name, info in sorted(existing.items())
    }
    text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
    _atomic_write(Path(directory) / MANIFEST, text.encode("utf-8"))
