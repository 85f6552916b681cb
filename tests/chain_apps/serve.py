"""Serve one chain app on loopback: ``python tests/chain_apps/serve.py NAME PORT``."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.chain_apps import APPS


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in APPS or not sys.argv[2].isdigit():
        sys.exit(f"usage: serve.py NAME PORT, NAME one of {', '.join(APPS)}")
    import gradio as gr
    import uvicorn
    from fastapi import FastAPI

    from tests.chain_apps.apps import build

    app = gr.mount_gradio_app(FastAPI(), build(sys.argv[1]), path="/")
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")


if __name__ == "__main__":
    main()
