"""Every public method and attribute of SpaceClient has a blocking twin on SyncSpaceClient
that takes the same arguments and answers the same; the constructors take one typed
options object each, the sync one SpaceClient's options but ``session``."""

from __future__ import annotations

import inspect
import typing
from typing import Unpack

import pytest
from qwen_space.client import SpaceClient, SyncSpaceClient
from qwen_space.client.core.options import ClientOptions, SyncClientOptions
from qwen_space.protocol import derive_contract, parse_config

from .fake_space import CONFIG, FakeSpace

#: The async ways of the async client, and their blocking names.
RENAMED = {"aclose": "close", "__aenter__": "__enter__", "__aexit__": "__exit__"}


def public(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_")}


def test_every_public_name_has_a_sync_twin() -> None:
    instance = SpaceClient("http://127.0.0.1:9")
    names = public(SpaceClient) | {name for name in vars(instance) if not name.startswith("_")}
    missing = {name for name in names if not hasattr(SyncSpaceClient, RENAMED.get(name, name))}
    assert missing == set()


def test_the_twins_take_the_same_arguments_and_answer_the_same_types() -> None:
    for name in public(SpaceClient):
        ours, theirs = getattr(SyncSpaceClient, RENAMED.get(name, name)), getattr(SpaceClient, name)
        if isinstance(theirs, property):
            assert isinstance(ours, property), name
            assert typing.get_type_hints(ours.fget) == typing.get_type_hints(theirs.fget), name
            continue
        assert [(p.name, p.kind, p.default) for p in inspect.signature(ours).parameters.values()] == [
            (p.name, p.kind, p.default) for p in inspect.signature(theirs).parameters.values()
        ], name
        if inspect.iscoroutinefunction(theirs):  # a coroutine's result is the twin's return value
            assert typing.get_type_hints(ours)["return"] == typing.get_type_hints(theirs)["return"], name


def test_the_read_only_twins_answer_as_the_async_client(threaded_space: FakeSpace) -> None:
    with SyncSpaceClient(threaded_space.url) as space:
        assert space.space_id is None
        assert space.space_info() is None  # a URL: the Hub is not asked
        assert space.fetch_config() == parse_config(CONFIG)
        assert space.config() == parse_config(CONFIG)
        assert space.contract() == derive_contract(parse_config(CONFIG))
        assert space.drifts == []
    assert threaded_space.join_bodies == []


def test_the_constructors_take_the_url_and_one_typed_options_object() -> None:
    for cls, options in ((SpaceClient, ClientOptions), (SyncSpaceClient, SyncClientOptions)):
        parameters = inspect.signature(cls.__init__).parameters.values()
        assert [(p.name, p.kind, p.default) for p in parameters] == [
            ("self", inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.empty),
            ("url", inspect.Parameter.POSITIONAL_OR_KEYWORD, None),
            ("options", inspect.Parameter.VAR_KEYWORD, inspect.Parameter.empty),
        ], cls.__name__
        assert typing.get_type_hints(cls.__init__)["options"] == Unpack[options], cls.__name__


def test_the_sync_options_are_the_async_ones_but_session() -> None:
    hints = typing.get_type_hints(ClientOptions)
    assert "session" in hints
    del hints["session"]
    assert typing.get_type_hints(SyncClientOptions) == hints
    assert ClientOptions.__required_keys__ == SyncClientOptions.__required_keys__ == frozenset()


@pytest.mark.parametrize("cls", [SpaceClient, SyncSpaceClient])
def test_an_unknown_option_is_refused_as_python_refuses_a_keyword(cls: type[SpaceClient | SyncSpaceClient]) -> None:
    # A type error too: mypy --strict over the tests reports the ignore unused otherwise.
    with pytest.raises(TypeError, match=f"^{cls.__name__}\\(\\) got an unexpected keyword argument 'nope'$"):
        cls("http://127.0.0.1:9", nope=None)  # type: ignore[call-arg]


def test_the_sync_client_passes_its_options_on() -> None:
    with SyncSpaceClient(url="http://127.0.0.1:9", endpoint="/other", max_connections=3) as space:
        assert repr(space) == "SyncSpaceClient(url='http://127.0.0.1:9', endpoint='/other')"
    with SyncSpaceClient("http://127.0.0.1:9", api_name="named") as space:
        assert space.url == "http://127.0.0.1:9"
        assert repr(space).endswith("endpoint='named')")
