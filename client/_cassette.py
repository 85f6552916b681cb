"""vcrpy cassettes of Gradio sessions: the project's one recording configuration.

* Requests match on method, path, query and body, with the random session hash
  normalised to ``SESSION`` (in the ``queue/data`` query and in JSON bodies), so a
  replay with a fresh hash finds its interaction; scheme, host and port are not
  matched, so a cassette recorded from a replica on a random loopback port replays
  against any URL.
* ``Authorization``, ``x-hf-authorization``, ``Cookie`` and ``Set-Cookie`` are
  removed, and anything that looks like a Hugging Face token (``hf_...``) is
  replaced in bodies, before a cassette is written.
* The YAML is readable: SSE bodies are block scalars, one message per line. It is
  loaded with vcrpy's safe loader; a cassette with unsafe tags fails with
  :class:`CassetteError` without constructing anything.

vcrpy buffers a whole response body while recording and replays it as one chunk,
so cassettes check protocol content, not timing (the loopback fault tests do that).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ._errors import CassetteError, missing_from_cassette

if TYPE_CHECKING:
    # vcrpy is imported when a cassette is used, not with the package: it is most of
    # the import time of qwen_space.client, and most users never touch a cassette.
    import vcr
    from vcr.request import Request

__all__ = [
    "BUNDLED_CASSETTES",
    "SESSION_PLACEHOLDER",
    "CassetteInfo",
    "bundled_cassette",
    "cassette_vcr",
    "load_manifest",
    "use_cassette",
]

SESSION_PLACEHOLDER = "SESSION"
MANIFEST = "manifest.json"
#: The package data directory holding the cassettes recorded for this release.
BUNDLED_CASSETTES = "qwen_space.cassettes"
DEFAULT_CASSETTE = "gradio-5.50.0/hello.yaml"

_SESSION_IN_BODY = re.compile(rb'("session_hash"\s*:\s*")[^"]*(")')
_TOKEN = re.compile(r"hf_[A-Za-z0-9]{8,}")
_DROP_REQUEST_HEADERS = ["authorization", "x-hf-authorization", "cookie", "proxy-authorization"]
_DROP_RESPONSE_HEADERS = {"set-cookie", "date", "server", "x-request-id", "x-proxied-host", "link"}


@dataclass(frozen=True, slots=True, kw_only=True)
class CassetteInfo:
    """One manifest entry: where and how a cassette was recorded."""

    cassette: str
    url: str
    gradio_version: str | None
    scenario: str
    prompt: str
    recorded_at: str


def _without_session_hash(body: bytes) -> bytes:
    return _SESSION_IN_BODY.sub(rb"\g<1>" + SESSION_PLACEHOLDER.encode() + rb"\g<2>", body)


def _scrub_request(request: Request) -> Request:
    body = request.body
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, bytes):
        body = _without_session_hash(body)
        request.body = _TOKEN.sub("hf_REDACTED", body.decode("utf-8", "replace")).encode("utf-8")
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = {k: v for k, v in response["headers"].items() if k.lower() not in _DROP_RESPONSE_HEADERS}
    body = response.get("body", {}).get("string")
    if isinstance(body, bytes):
        response["body"]["string"] = _TOKEN.sub("hf_REDACTED", body.decode("utf-8", "replace")).encode("utf-8")
    return response


def _body_matcher(r1: Request, r2: Request) -> None:
    def normal(body: Any) -> bytes:
        if body is None:
            return b""
        return _without_session_hash(body.encode("utf-8") if isinstance(body, str) else bytes(body))

    if normal(r1.body) != normal(r2.body):
        raise AssertionError(f"bodies differ: {normal(r1.body)[:200]!r} != {normal(r2.body)[:200]!r}")


class _ReadableDumper(yaml.SafeDumper):
    """Block style for multi-line strings, so SSE bodies read one message per line."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_ReadableDumper.add_representer(str, _represent_str)


class _ReadableYAML:
    @staticmethod
    def serialize(cassette: dict[str, Any]) -> str:
        return yaml.dump(cassette, Dumper=_ReadableDumper, allow_unicode=True, sort_keys=False, width=1_000_000)

    @staticmethod
    def deserialize(text: str) -> Any:
        from vcr.serializers import yamlserializer

        try:
            return yamlserializer.deserialize(text)
        except yaml.YAMLError as exc:
            raise CassetteError(
                f"the cassette is not a safe, well-formed vcrpy YAML file ({exc}); re-record it "
                "with `qwen-space record`"
            ) from None


def cassette_vcr(record_mode: str = "none") -> vcr.VCR:
    """A ``vcr.VCR`` with the project's recording configuration."""
    import vcr

    configured = vcr.VCR(
        serializer="yaml",
        record_mode=record_mode,
        match_on=["method", "path", "query", "gradio_body"],
        filter_headers=_DROP_REQUEST_HEADERS,
        filter_query_parameters=[("session_hash", SESSION_PLACEHOLDER)],
        before_record_request=_scrub_request,
        before_record_response=_scrub_response,
        decode_compressed_response=True,
    )
    configured.register_serializer("yaml", _ReadableYAML)
    configured.register_matcher("gradio_body", _body_matcher)
    return configured


@contextmanager
def use_cassette(path: str | Path, *, record_mode: str = "none") -> Iterator[Any]:
    """Record or replay aiohttp traffic from ``path`` (vcrpy errors become :class:`CassetteError`)."""
    path = Path(path)
    if record_mode == "none" and not path.is_file():
        raise CassetteError(f"no cassette at {path}; record one with `qwen-space record`")
    configured = cassette_vcr(record_mode)
    from vcr.errors import CannotOverwriteExistingCassetteException

    try:
        with configured.use_cassette(str(path)) as cassette:
            yield cassette
    except CannotOverwriteExistingCassetteException as exc:
        raise missing_from_cassette(exc, f"the cassette {path.name}") from None


def bundled_cassette(name: str = DEFAULT_CASSETTE) -> Path:
    """The path of a cassette shipped in the package (``gradio-5.50.0/hello.yaml`` by default)."""
    path = Path(str(resources.files(BUNDLED_CASSETTES).joinpath(name)))
    if not path.is_file():
        known = ", ".join(sorted(load_manifest(path.parent.parent if "/" in name else path.parent))) or "none"
        raise CassetteError(f"no bundled cassette {name!r}; bundled: {known}")
    return path


def load_manifest(directory: str | Path) -> dict[str, CassetteInfo]:
    """The manifest of a cassette directory, keyed by cassette path relative to it."""
    manifest = Path(directory) / MANIFEST
    if not manifest.is_file():
        return {}
    try:
        entries = json.loads(manifest.read_text(encoding="utf-8"))
        return {name: CassetteInfo(cassette=name, **entry) for name, entry in entries.items()}
    except (ValueError, TypeError) as exc:
        raise CassetteError(f"the cassette manifest {manifest} is malformed ({exc})") from None


def save_manifest(directory: str | Path, infos: list[CassetteInfo]) -> None:
    """Add ``infos`` to the manifest of ``directory`` (replacing entries of the same cassette)."""
    existing = load_manifest(directory)
    existing.update({info.cassette: info for info in infos})
    payload = {
        name: {k: v for k, v in asdict(info).items() if k != "cassette"} for name, info in sorted(existing.items())
    }
    (Path(directory) / MANIFEST).write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
