"""One origin rule (scheme, host, effective port), ``same_origin`` of client/core/login.py,
for redirects, reply files and the login cookie; a redirect to a ``Location`` that has no
origin at all is refused, never a raw ``ValueError``."""

from __future__ import annotations

import pytest
from qwen_space.client.core.io_errors import redirect_target
from qwen_space.client.core.login import same_origin
from qwen_space.client.errors import RedirectRefusedError
from yarl import URL

SAME = [
    ("https://h.example:443/config", "https://h.example/x"),
    ("https://h.example/config", "https://h.example:443/x"),
    ("http://127.0.0.1:80/a", "http://127.0.0.1/b"),
    ("http://127.0.0.1/a", "http://127.0.0.1:80/b"),
    ("HTTPS://H.Example/a", "https://h.example/b"),
]
OTHER = [
    ("https://h.example/a", "http://h.example/a"),
    ("https://h.example/a", "https://h.example:8443/a"),
    ("https://h.example/a", "https://g.example/a"),
    ("http://127.0.0.1:7860/a", "http://127.0.0.1:7861/a"),
    ("https://h.example/a", "mailto:x@h.example"),
    ("https://h.example/a", "file:///etc/passwd"),
]


@pytest.mark.parametrize(("one", "other"), SAME)
def test_an_explicit_default_port_is_the_same_origin(one: str, other: str) -> None:
    assert same_origin(URL(one), URL(other))
    assert same_origin(URL(other), URL(one))


@pytest.mark.parametrize(("one", "other"), OTHER)
def test_another_scheme_host_or_port_is_another_origin(one: str, other: str) -> None:
    assert not same_origin(URL(one), URL(other))
    assert not same_origin(URL(other), URL(one))


@pytest.mark.parametrize(("space", "location"), SAME)
def test_a_redirect_to_the_same_origin_with_or_without_its_port_is_followed(space: str, location: str) -> None:
    target = redirect_target(URL(space), location, follow=True, what="/config")
    assert same_origin(target, URL(location))
    assert target.path == URL(location).path


@pytest.mark.parametrize(
    "location", ["mailto:x@y", "data:,x", "file:///etc/passwd", "http://", "http:x", "javascript:1"]
)
def test_a_redirect_to_a_location_without_a_host_is_refused(location: str) -> None:
    with pytest.raises(RedirectRefusedError) as caught:
        # From https, where "http:x" is not a path relative to the Space (as it is from http).
        redirect_target(URL("https://h.example/config"), location, follow=True, what="/config")
    assert "/config" in str(caught.value)
    assert caught.value.location


def test_a_redirect_to_another_origin_names_it() -> None:
    with pytest.raises(RedirectRefusedError, match=r"https://g\.example") as caught:
        redirect_target(URL("https://h.example/config"), "https://g.example/x", follow=True, what="/config")
    assert caught.value.location == "https://g.example/x"
