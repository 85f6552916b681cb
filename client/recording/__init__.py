"""Cassettes: recording Gradio sessions with vcrpy and replaying them offline.

``cassette`` is the one recording configuration (matching, scrubbing, the readable
YAML, atomic writes, the bundled cassettes), ``scenarios`` the conversations
``qwen-space record`` records, ``diff`` what changed between two recordings, and
``pytest_plugin`` the ``qwen_space`` fixture. vcrpy is imported only when a cassette
is used.
"""

from .cassette import (
    CassetteInfo,
    bundled_cassette,
    cassette_vcr,
    load_manifest,
    locate_cassette,
    record_cassette,
    use_cassette,
)
from .diff import semantic_diff
from .scenarios import (
    SCENARIOS,
    RecordedChat,
    Scenario,
    own_scenarios,
    record_scenarios,
    recorded_chat,
    recorded_messages,
)

__all__ = [
    "SCENARIOS",
    "CassetteInfo",
    "RecordedChat",
    "Scenario",
    "bundled_cassette",
    "cassette_vcr",
    "load_manifest",
    "locate_cassette",
    "own_scenarios",
    "record_cassette",
    "record_scenarios",
    "recorded_chat",
    "recorded_messages",
    "semantic_diff",
    "use_cassette",
]
