"""The bundled cassettes as an installed package, editable installs included, and the
tox configuration that keeps them tested that way."""

import configparser
import subprocess
import sys
from pathlib import Path

import pytest
import qwen_space.cassettes
from qwen_space.client.recording import bundled_cassette, load_manifest

pytestmark = pytest.mark.installed

ROOT = Path(__file__).resolve().parent.parent


def tox_ini() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(ROOT / "tox.ini", encoding="utf-8")
    return parser


def test_the_cassettes_are_a_regular_package(tmp_path: Path) -> None:
    # A namespace package resolves, under setuptools' editable finder, to a path that
    # importlib.resources cannot read (NotADirectoryError): the 16th finding of issue 18.
    assert qwen_space.cassettes.__file__ is not None
    code = "import qwen_space.cassettes as c; from qwen_space.client.recording import bundled_cassette as b; print(c.__file__, b())"
    output = subprocess.run(
        [sys.executable, "-I", "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    package_file, cassette = output.stdout.split()
    assert Path(cassette).parent.parent == Path(package_file).parent
    assert Path(cassette).is_file()


def test_every_bundled_cassette_resolves() -> None:
    directory = bundled_cassette().parent.parent
    names = load_manifest(directory)
    # The Qwen demo's 7 scenarios on 3 releases; hello and history of each replica app (tests/replicas)
    # on each release that builds it (14 builds: no tuples on 6.x); the chain replicas of issue 23 (tests/replicas
    # CHAIN_APPS but placeholder_chain) on each release: hello, and history where a fresh session can take it
    # (not state_history; not tabbed_two's 4.44 /chat), 50 recorded with qwen-space record.
    assert len(names) == 21 + 28 + 50
    for name in names:
        assert bundled_cassette(name).is_file()


def test_ci_runs_the_installed_tests_under_the_editable_install_pip_makes() -> None:
    ini = tox_ini()
    assert "editable" in [name.strip() for name in ini["tox"]["env_list"].split(",")]
    env = ini["testenv:editable"]
    assert env["package"].strip() == "editable"
    # pip's `-e .` gives setuptools' default editable mode (an import finder), not the
    # type env's strict link tree: the one the namespace-package bug lived in.
    builder = env["wheel_build_env"].strip()
    assert builder != ini["testenv"]["wheel_build_env"].strip()
    assert ini[f"testenv:{builder}"]["config_settings_build_editable"].strip() == ""
    # The tests of what an install changes; the rest of the suite does not depend on it.
    assert "-m installed" in env["commands"]


def test_tox_writes_no_venv_redirect_file_into_the_checkout() -> None:
    # tox >= 4.5x writes a PEP 832 `.venv` file naming an editable env (`.tox/type`),
    # which breaks `python -m venv .venv` in a clone; it is off here, and ignored anyway.
    assert tox_ini()["tox"]["venv_redirect"].strip() == "false"
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert ".venv" in ignored
