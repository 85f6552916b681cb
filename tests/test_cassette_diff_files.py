"""``cassette diff`` names a changed file and both sha256 hashes (issue 25 item 4), and a
recording of a chat with files replays offline whatever boundary the upload draws.

The cassettes in ``tests/data/file_cassettes`` were recorded from the replicas on Gradio
6.31.0 by ``record.py`` there: ``upload-a``/``upload-b`` send ``note.txt`` (two versions)
and ``cat.png``; ``image-a``/``image-b`` receive an image, downloaded in the recording.
A test that needs a case no recording holds derives it from one and says how.
"""

import hashlib
from pathlib import Path
from typing import Any

import yaml
from qwen_space.client import SpaceClient
from qwen_space.client.recording import semantic_diff, use_cassette

from .cli import run_cli

DATA = Path(__file__).parent / "data" / "file_cassettes"
NOTES = {"upload-a": b"first version\n", "upload-b": b"second version\n"}
PICTURE = b"\x89PNG\r\n\x1a\n not really a picture"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def recorded_root(path: Path) -> str:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    uri: str = loaded["interactions"][0]["request"]["uri"]
    return uri.removesuffix("/config")


def test_a_changed_upload_is_named_with_both_hashes() -> None:
    lines = semantic_diff(DATA / "upload-a.yaml", DATA / "upload-b.yaml")
    a, b = NOTES["upload-a"], NOTES["upload-b"]
    assert f"sent file 'note.txt': sha256 {sha(a)}, 14 bytes -> sha256 {sha(b)}, 15 bytes" in lines
    assert not [line for line in lines if "cat.png" in line and line.startswith("sent file")]  # unchanged
    assert not [line for line in lines if line.startswith("request:")]  # both unreadable alike: no line
    assert semantic_diff(DATA / "upload-a.yaml", DATA / "upload-a.yaml") == []


def test_reply_files_are_named_with_their_downloaded_hashes() -> None:
    lines = semantic_diff(DATA / "image-a.yaml", DATA / "image-b.yaml")
    old, new = (_download(DATA / f"image-{x}.yaml") for x in "ab")
    assert [line for line in lines if line.startswith("reply file")] == [
        f"reply file {old[0]!r}: removed (sha256 {sha(old[1])}, {len(old[1])} bytes)",
        f"reply file {new[0]!r}: added (sha256 {sha(new[1])}, {len(new[1])} bytes)",
    ]


def _download(path: Path) -> tuple[str, bytes]:
    """The name and bytes of the one file the recording downloaded."""
    [download] = _downloads(yaml.safe_load(path.read_text(encoding="utf-8")))
    body: bytes = download["response"]["body"]["string"]
    return download["request"]["uri"].rsplit("/", 1)[-1], body


def _downloads(cassette: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in cassette["interactions"] if "/file=" in i["request"]["uri"]]


def test_the_same_reply_file_with_other_bytes_shows_both_hashes(tmp_path: Path) -> None:
    # A re-recording where the app's image changed under the same name: image-a with the
    # bytes of its download replaced.
    cassette = yaml.safe_load((DATA / "image-a.yaml").read_text(encoding="utf-8"))
    [download] = _downloads(cassette)
    before = download["response"]["body"]["string"]
    download["response"]["body"]["string"] = b"another picture"
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(cassette), encoding="utf-8")
    [line] = semantic_diff(DATA / "image-a.yaml", changed)
    assert line.startswith("reply file 'answer-")
    assert line.endswith(f": sha256 {sha(before)}, {len(before):,} bytes -> sha256 {sha(b'another picture')}, 15 bytes")


def test_a_reply_file_not_downloaded_says_so(tmp_path: Path) -> None:
    cassette = yaml.safe_load((DATA / "image-a.yaml").read_text(encoding="utf-8"))
    cassette["interactions"] = [i for i in cassette["interactions"] if i not in _downloads(cassette)]
    undownloaded = tmp_path / "undownloaded.yaml"
    undownloaded.write_text(yaml.safe_dump(cassette), encoding="utf-8")
    [line] = semantic_diff(DATA / "image-a.yaml", undownloaded)
    assert "-> not downloaded in the recording" in line


async def test_the_cli_prints_the_changed_file() -> None:
    result = await run_cli("cassette", "diff", str(DATA / "upload-a.yaml"), str(DATA / "upload-b.yaml"))
    assert f"sent file 'note.txt': sha256 {sha(NOTES['upload-a'])}" in result.out


async def test_a_chat_with_files_replays_offline_with_a_new_boundary(tmp_path: Path) -> None:
    """Each upload draws a new random multipart boundary; the cassette holds a placeholder
    and matching replaces it, so the replay finds the recorded upload (nothing listens at
    the recorded address: a request the cassette cannot answer fails)."""
    note, picture = tmp_path / "note.txt", tmp_path / "cat.png"
    note.write_bytes(NOTES["upload-b"])
    picture.write_bytes(PICTURE)
    recorded = (DATA / "upload-b.yaml").read_text(encoding="utf-8")
    assert "boundary=qwen-space-BOUNDARY" in recorded
    with use_cassette(DATA / "upload-b.yaml"):
        async with SpaceClient(recorded_root(DATA / "upload-b.yaml")) as space:
            completion = await space.complete("look", files=[note, picture])
    assert completion.text.startswith('Message: "look". Earlier turns: 0. Files received: ["note.txt (15 bytes')


def test_the_message_of_a_chat_with_uploads_is_compared(tmp_path: Path) -> None:
    # upload-a asked with another text: its recorded join's box value edited.
    cassette = yaml.safe_load((DATA / "upload-a.yaml").read_text(encoding="utf-8"))
    [join] = [i for i in cassette["interactions"] if i["request"]["uri"].endswith("/queue/join")]
    join["request"]["body"] = join["request"]["body"].replace('"text":"look"', '"text":"look closer"')
    asked = tmp_path / "asked.yaml"
    asked.write_text(yaml.safe_dump(cassette), encoding="utf-8")
    assert semantic_diff(DATA / "upload-a.yaml", asked) == ["message: first difference at 4: '' -> ' closer'"]


async def test_hand_edited_routes_are_a_message_not_a_traceback(tmp_path: Path) -> None:
    # A download's URL yarl refuses, and a /config route without its slash.
    for bad in ("http://[::1/gradio_api/file=x.png", "config"):
        cassette = yaml.safe_load((DATA / "image-a.yaml").read_text(encoding="utf-8"))
        target = _downloads(cassette)[0] if bad.startswith("http") else cassette["interactions"][0]
        target["request"]["uri"] = bad
        edited = tmp_path / "edited.yaml"
        edited.write_text(yaml.safe_dump(cassette), encoding="utf-8")
        result = await run_cli("cassette", "diff", str(DATA / "image-a.yaml"), str(edited))
        assert result.code in (0, 11, 12), result.err
        assert "Traceback" not in result.err


async def test_a_cassette_with_yaml_aliases_is_refused(tmp_path: Path) -> None:
    # One interaction listed many times is one anchor and many aliases: a small file that
    # reads as many times its size.
    cassette = yaml.safe_load((DATA / "upload-a.yaml").read_text(encoding="utf-8"))
    cassette["interactions"] = [cassette["interactions"][0]] * 50
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(yaml.safe_dump(cassette), encoding="utf-8")
    assert "*id" in bomb.read_text(encoding="utf-8")
    result = await run_cli("cassette", "diff", str(DATA / "upload-a.yaml"), str(bomb))
    assert result.code == 12
    assert "YAML alias" in result.err
