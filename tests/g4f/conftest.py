"""gpt4free's clients and API on the replica Space under a real Gradio (tox -e g4f-747, g4f-latest)."""

import g4f.cookies
import g4f.debug
import pytest

from ..live.conftest import Replica, replica

__all__ = ["Replica", "replica"]


@pytest.fixture(autouse=True, scope="session")
def g4f_stays_offline(tmp_path_factory: pytest.TempPathFactory) -> None:
    # On first use gpt4free asks PyPI for a newer release and it logs usage under its
    # cookies directory: neither may leave this machine or this test run.
    g4f.debug.version_check = False
    g4f.cookies.set_cookies_dir(str(tmp_path_factory.mktemp("g4f-cookies")))
    return
