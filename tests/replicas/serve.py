"""Serve replica apps on loopback.

``python tests/replicas/serve.py APP PORT`` serves one app at ``/``;
``python tests/replicas/serve.py --mount PORT [APP ...]`` serves every app it names (all
of them by default) from this one process, each mounted at ``/<APP>``, and answers
``GET /replicas`` with ``{"served": [...], "unbuildable": {APP: reason}}`` once all are
started. Starting Gradio is most of what a live test run waits for; one process for
every app starts it once.

Runs under any Gradio from 4.44 on (uvicorn + ``gr.mount_gradio_app``, as
``tests/replica/app.py`` does), behaving as a launched Space does where mounting differs:

* files: ``launch()`` sets ``has_launched``, and from 5.0 on only a launched app refuses a
  file path in a call that its own upload did not hand out (``_check_allowed`` in
  ``gradio/processing_utils.py`` returns early otherwise); 4.44 refuses such a path
  whether launched or not. So it is set here too, on each app;
* login: an app module's ``AUTH`` (user, password) goes to ``mount_gradio_app(auth=...)``,
  which installs the same login routes and checks as ``launch(auth=...)``, for that mount
  alone (each mounted app checks its own ``auth``).

A single app that this Gradio release cannot build (for instance tuples on 6.x) exits
with status 3, saying why on stderr; with ``--mount`` it is left out and named under
``unbuildable``.
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

# Run as a script, the repository root is not on the path; the apps import tests.replicas.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.replicas import APPS
from tests.replicas.scripted import NotBuildableError

NOT_BUILDABLE = 3
USAGE = f"usage: serve.py APP PORT | serve.py --mount PORT [APP ...], APP one of {', '.join(APPS)}"


def mount(app: Any, name: str, path: str) -> None:
    """Build the app ``name`` and mount it on ``app`` at ``path`` (NotBuildableError if it cannot be)."""
    import gradio as gr

    module = importlib.import_module(f"tests.replicas.{name}")
    demo = module.build()
    gr.mount_gradio_app(app, demo, path=path, auth=getattr(module, "AUTH", None))
    demo.has_launched = True


def main() -> None:
    args = sys.argv[1:]
    several = bool(args) and args[0] == "--mount"
    if several:
        args = args[1:]
    port, names = (args[0], args[1:] or list(APPS)) if several and args else ("", [])
    if not several and len(args) == 2:
        port, names = args[1], [args[0]]
    if not port.isdigit() or not names or any(name not in APPS for name in names):
        sys.exit(USAGE)
    import uvicorn
    from fastapi import FastAPI

    app = FastAPI()
    served: list[str] = []
    unbuildable: dict[str, str] = {}
    for name in names:
        try:
            mount(app, name, f"/{name}" if several else "/")
        except NotBuildableError as exc:
            if not several:
                print(f"{name}: {exc}", file=sys.stderr)
                sys.exit(NOT_BUILDABLE)
            unbuildable[name] = str(exc)
        except Exception as exc:
            if not several:
                raise
            # One app that fails on some release must not take the others down with it;
            # its tests get this reason instead of a server.
            unbuildable[name] = f"building it failed: {type(exc).__name__}: {exc}"
        else:
            served.append(name)
    if several:
        # Routes match in order and each mount takes its whole prefix, so this one goes first.
        app.router.add_api_route("/replicas", lambda: {"served": served, "unbuildable": unbuildable})
        app.router.routes.insert(0, app.router.routes.pop())
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning")


if __name__ == "__main__":
    main()
