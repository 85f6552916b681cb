"""Write each chain app's ``/config`` for this Gradio: ``python tests/chain_apps/capture.py``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import gradio as gr

from tests.chain_apps import APPS
from tests.chain_apps.apps import build


def main() -> None:
    out = Path(__file__).resolve().parents[1] / "data" / "configs" / "chains" / gr.__version__
    out.mkdir(parents=True, exist_ok=True)
    for name in APPS:
        config = build(name).get_config_file()
        (out / f"{name}.json").write_text(json.dumps(config, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
