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

import json
import os
import re
import secrets
import site
import sysconfig
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import CassetteError, UsageError, missing_from_cassette
from .scrubbing import SESSION_PLACEHOLDER, Scrubber, body_matcher
from .storage import (
    MAX_CASSETTE_BYTES,
    Interaction,
    Persister,
    ReadableYAML,
    atomic_write,
    cassette_stat,
    load_interactions,
    read_text,
    short_path,
)

if TYPE_CHECKING:
    # vcrpy is imported when a cassette is used, not with the package: it is most of
    # the import time of qwen_space.client, and most users never touch a cassette.
    import vcr

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

MANIFEST = "manifest.json"
#: The package data directory holding the cassettes recorded for this release.
BUNDLED_CASSETTES = "qwen_space.cassettes"
DEFAULT_CASSETTE = "gradio-5.50.0/hello.yaml"

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


def safe_name(text: str | None, fallback: str = "unknown") -> str:
    """``text`` if it is a plain file name part (letters, digits, ``._+-``, at most 64,
    not ``..``), else ``fallback``: for names that come from a server."""
    if text and _SAFE_NAME.fullmatch(text) and ".." not in text:
        return text
    return fallback


def cassette_vcr(record_mode: str = "none", *, tokens: Iterable[str | None] = ()) -> vcr.VCR:
    """A ``vcr.VCR`` with the project's recording configuration; ``tokens`` are redacted
    wherever they appear, with the credentials the requests carry."""
    import vcr

    scrubber = Scrubber(tokens)
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
    configured.register_matcher("gradio_body", body_matcher)
    configured.register_persister(Persister)
    return configured


@contextmanager
def use_cassette(path: str | Path, *, record_mode: str = "none") -> Iterator[Any]:
    """Record or replay aiohttp traffic from ``path`` (vcrpy errors become :class:`CassetteError`).

    To re-record a cassette, use :func:`record_cassette`: it replaces the old one only
    when the recording succeeds.
    """
    path = Path(path)
    # Missing, a directory, too large, not text, empty: said here, before vcrpy guesses.
    if record_mode == "none" and not read_text(path).strip():
        raise CassetteError(f"{path} is empty; record it with `qwen-space record`")
    elif record_mode != "none" and (record_mode != "once" or cassette_stat(path) is None):
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
        raise CassetteError(f"cannot record into {short_path(path.parent)} ({exc.strerror})") from None
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
                raise CassetteError(f"cannot replace {short_path(path)} ({exc.strerror})") from None
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
    if cassette_stat(path) is not None:
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
    if cassette_stat(manifest) is None:
        return {}
    try:
        entries = json.loads(read_text(manifest))
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
    atomic_write(Path(directory) / MANIFEST, text.encode("utf-8"))
