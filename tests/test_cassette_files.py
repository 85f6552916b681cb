"""Cassette files as the command line and the library meet them: malformed, binary, huge,
oddly named, a directory, a pipe. Each is one typed error naming the file, with the exit
code of its kind, and no traceback or Python internals on the terminal."""

import asyncio
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from qwen_space.client import SpaceClient
from qwen_space.client.errors import CassetteError
from qwen_space.client.recording import bundled_cassette, recorded_messages, use_cassette
from qwen_space.client.recording.cassette import MAX_CASSETTE_BYTES

from .cli import Result, run_cli

HELLO = bundled_cassette("gradio-5.50.0/hello.yaml")
#: What must never reach a user's terminal: Python's own words for our failures.
INTERNALS = re.compile(
    r"Traceback|Error:.*object|NoneType|not subscriptable|JSONDecodeError|KeyError|TypeError|AttributeError"
    r"|IsADirectoryError|UnicodeDecodeError|<unicode string>|Errno"
)


def hello() -> dict[str, Any]:
    loaded = yaml.safe_load(HELLO.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def interaction(cassette: dict[str, Any], route: str) -> dict[str, Any]:
    found = next(i for i in cassette["interactions"] if i["request"]["uri"].split("?")[0].endswith(route))
    assert isinstance(found, dict)
    return found


def _integer_uri(c: dict[str, Any]) -> None:
    interaction(c, "/queue/join")["request"]["uri"] = 42


def _null_response_body(c: dict[str, Any]) -> None:
    interaction(c, "/queue/data")["response"]["body"]["string"] = None


def _numeric_response_body(c: dict[str, Any]) -> None:
    interaction(c, "/config")["response"]["body"]["string"] = 12345


def _numeric_request_body(c: dict[str, Any]) -> None:
    interaction(c, "/queue/join")["request"]["body"] = 7


def _join_body_not_json(c: dict[str, Any]) -> None:
    interaction(c, "/queue/join")["request"]["body"] = "this is not JSON"


def _join_answer_not_json(c: dict[str, Any]) -> None:
    interaction(c, "/queue/join")["response"]["body"]["string"] = "<html>not json</html>"


def _join_answer_a_list(c: dict[str, Any]) -> None:
    interaction(c, "/queue/join")["response"]["body"]["string"] = "[1, 2]"


def _config_not_json(c: dict[str, Any]) -> None:
    interaction(c, "/config")["response"]["body"]["string"] = "not a config"


def _status_a_string(c: dict[str, Any]) -> None:
    interaction(c, "/config")["response"]["status"] = "200 OK"


def _extra_request_key(c: dict[str, Any]) -> None:
    interaction(c, "/config")["request"]["surprise"] = True


def _headers_a_list(c: dict[str, Any]) -> None:
    interaction(c, "/config")["response"]["headers"] = ["Content-Type: application/json"]


def _interactions_not_a_list(c: dict[str, Any]) -> None:
    c["interactions"] = {"a": 1}


def _no_interactions(c: dict[str, Any]) -> None:
    del c["interactions"]


MALFORMED: dict[str, Callable[[dict[str, Any]], None]] = {
    f.__name__.lstrip("_"): f
    for f in (
        _integer_uri,
        _null_response_body,
        _numeric_response_body,
        _numeric_request_body,
        _join_body_not_json,
        _join_answer_not_json,
        _join_answer_a_list,
        _config_not_json,
        _status_a_string,
        _extra_request_key,
        _headers_a_list,
        _interactions_not_a_list,
        _no_interactions,
    )
}
#: Damage the cassette's structure itself: refused by every reader, vcrpy's replay included.
STRUCTURAL = {
    "integer_uri",
    "null_response_body",
    "numeric_response_body",
    "numeric_request_body",
    "status_a_string",
    "extra_request_key",
    "headers_a_list",
    "interactions_not_a_list",
    "no_interactions",
}


def write_malformed(tmp_path: Path, name: str) -> Path:
    cassette = hello()
    MALFORMED[name](cassette)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cassette, allow_unicode=True), encoding="utf-8")
    return path


def assert_clean(result: Result, code: int, *named: str) -> None:
    assert result.code == code, result.err
    assert not INTERNALS.search(result.err), result.err
    assert len(result.err) < 1000
    for name in named:
        assert name in result.err, result.err


@pytest.mark.parametrize("name", sorted(MALFORMED))
async def test_replay_of_a_malformed_cassette(tmp_path: Path, name: str) -> None:
    path = write_malformed(tmp_path, name)
    result = await run_cli("replay", str(path))
    if name in ("join_answer_not_json", "join_answer_a_list", "config_not_json"):
        # A well-formed cassette of a misbehaving Space: the client meets the fault, as live.
        assert result.code not in (0, 1), result.err
        assert not INTERNALS.search(result.err), result.err
        return
    assert_clean(result, 12, str(path))


@pytest.mark.parametrize("name", sorted(MALFORMED))
async def test_cassette_diff_of_a_malformed_cassette(tmp_path: Path, name: str) -> None:
    path = write_malformed(tmp_path, name)
    result = await run_cli("cassette", "diff", str(HELLO), str(path))
    if name == "join_body_not_json":
        # The answers are the same; what was asked cannot be read, and the diff says so.
        assert_clean(result, 11)
        assert "request: (readable) -> (not readable: " in result.out
        return
    assert_clean(result, 12, str(path))
    reverse = await run_cli("cassette", "diff", str(path), str(HELLO))
    assert_clean(reverse, 12, str(path))


@pytest.mark.parametrize("name", sorted(STRUCTURAL))
def test_use_cassette_refuses_a_malformed_cassette_naming_it(tmp_path: Path, name: str) -> None:
    path = write_malformed(tmp_path, name)

    async def ask() -> None:
        async with SpaceClient("http://replay.invalid") as space:
            await space.complete([{"role": "user", "content": "Hello! Who are you?"}])

    with pytest.raises(CassetteError, match=re.escape(str(path))), use_cassette(path):
        asyncio.run(ask())
    with pytest.raises(CassetteError, match=re.escape(str(path))):
        recorded_messages(path)


@pytest.mark.parametrize(
    "content",
    [b"\xff\xfe\x00binary\x00" * 1000, b"version: 1\ninteractions: [\x00\x01]\n", b"", b"- just\n- a list\n"],
    ids=["not-utf8", "control-characters", "empty", "a-yaml-list"],
)
async def test_replay_and_diff_of_a_file_that_is_not_a_cassette(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "odd.yaml"
    path.write_bytes(content)
    assert_clean(await run_cli("replay", str(path)), 12, str(path))
    assert_clean(await run_cli("cassette", "diff", str(path), str(HELLO)), 12, str(path))


async def test_a_directory_is_not_reported_missing(tmp_path: Path) -> None:
    result = await run_cli("replay", str(tmp_path))
    assert_clean(result, 12, str(tmp_path), "is a directory")
    assert "no such" not in result.err
    diff = await run_cli("cassette", "diff", str(HELLO), str(tmp_path))
    assert_clean(diff, 12, str(tmp_path), "is a directory")


async def test_a_300_character_file_name() -> None:
    name = "x" * 300 + ".yaml"
    result = await run_cli("replay", name)
    assert_clean(result, 12, "too long")
    diff = await run_cli("cassette", "diff", name, str(HELLO))
    assert_clean(diff, 12, "too long")


async def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with path.open("wb") as file:
        # Sparse: the size is there, the disk and the reading are not.
        file.truncate(MAX_CASSETTE_BYTES + 1)
    result = await run_cli("replay", str(path))
    assert_clean(result, 12, str(path), "64 MiB")
    with pytest.raises(CassetteError, match="64 MiB"):
        recorded_messages(path)


async def test_a_pipe_is_refused_without_waiting_for_a_writer(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    result = await run_cli("replay", str(fifo), timeout=30)
    assert_clean(result, 12, str(fifo), "not a regular file")


async def test_an_unknown_bundled_name_lists_a_few_and_says_how_to_list_all() -> None:
    result = await run_cli("replay", "gradio-9.9.9/nope.yaml")
    assert_clean(result, 12, "gradio-9.9.9/nope.yaml", "qwen-space replay --list")
    assert result.err.count(".yaml") <= 6, result.err


async def test_replay_list_names_every_bundled_cassette() -> None:
    result = await run_cli("replay", "--list")
    assert result.code == 0, result.err
    names = re.findall(r"gradio-[\d.]+/\w+\.yaml", result.out)
    assert len(names) == 21
    assert "gradio-5.50.0/hello.yaml" in names


async def test_replay_of_the_name_its_header_shows() -> None:
    default = await run_cli("replay")
    assert "replaying hello.yaml" in default.err
    by_name = await run_cli("replay", "hello.yaml")
    assert by_name.code == 0, by_name.err
    assert by_name.out == default.out


def test_a_bare_bundled_name_is_the_default_versions() -> None:
    assert bundled_cassette("error.yaml") == bundled_cassette("gradio-5.50.0/error.yaml")
    with pytest.raises(CassetteError, match="qwen-space replay --list"):
        bundled_cassette("nope.yaml")
