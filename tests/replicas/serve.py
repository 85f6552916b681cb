"""Serve one replica app on loopback: ``python tests/replicas/serve.py APP PORT``.

Runs under any Gradio from 4.44 on (uvicorn + ``gr.mount_gradio_app``, as
``tests/replica/app.py`` does), behaving as a launched Space does where mounting differs:

* files: ``launch()`` sets ``has_launched``, and from 5.0 on only a launched app refuses a
  file path in a call that its own upload did not hand out (``_check_allowed`` in
  ``gradio/processing_utils.py`` returns early otherwise); 4.44 refuses such a path
  whether launched or not. So it is set here too;
* login: an app module's ``AUTH`` (user, password) goes to ``mount_gradio_app(auth=...)``,
  which installs the same login routes and checks as ``launch(auth=...)``.

Exits with status 3, saying why on stderr, when this Gradio release cannot build APP
(for instance tuples on 6.x).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

# Run as a script, the repository root is not on the path; the apps import tests.replicas.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.replicas import APPS
from tests.replicas.scripted import NotBuildableError

NOT_BUILDABLE = 3


def main() -> None:
    if len(sys.argv) != 3 or sys.argv[1] not in APPS or not sys.argv[2].isdigit():
        sys.exit(f"usage: serve.py APP PORT, APP one of {', '.join(APPS)}")
    import gradio as gr
    import uvicorn
    from fastapi import FastAPI

    module = importlib.import_module(f"tests.replicas.{sys.argv[1]}")
    try:
        demo = module.build()
    except NotBuildableError as exc:
        print(f"{sys.argv[1]}: {exc}", file=sys.stderr)
        sys.exit(NOT_BUILDABLE)
    app = gr.mount_gradio_app(FastAPI(), demo, path="/", auth=getattr(module, "AUTH", None))
    demo.has_launched = True
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")


if __name__ == "__main__":
    main()
