"""Every public method and attribute of SpaceClient has a blocking twin on SyncSpaceClient
that takes the same arguments and answers the same."""

from __future__ import annotations

import inspect
import typing

from qwen_space.client import SpaceClient, SyncSpaceClient
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
