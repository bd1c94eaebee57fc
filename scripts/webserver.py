"""`dagster-webserver` that stops within seconds of SIGTERM or SIGINT.

dagster-webserver serves the UI with uvicorn and no graceful-shutdown limit: on SIGTERM
uvicorn stops accepting connections, then waits for every open one to finish — and the UI
of every open browser tab holds GraphQL subscriptions (websockets) that never finish, so
the webserver ignored SIGTERM for over a minute (issue 14) and systemd had to SIGKILL it.
Here uvicorn gets `timeout_graceful_shutdown` (RSOKO_UI_SHUTDOWN_GRACE seconds, default 3):
after it the open connections are cancelled and the webserver exits, stopping its code
server on the way out. Everything else is dagster-webserver's own command line:

    python scripts/webserver.py -w workspace.yaml -h 127.0.0.1 -p 3000

Used by scripts/ui.sh and deploy/systemd/rsoko-webserver.service.
"""

from __future__ import annotations

import os
import sys

import uvicorn

GRACE_SECONDS = float(os.environ.get("RSOKO_UI_SHUTDOWN_GRACE", "3"))
_uvicorn_run = uvicorn.run


def _run_with_bounded_shutdown(app, **kwargs):
    kwargs.setdefault("timeout_graceful_shutdown", GRACE_SECONDS)
    return _uvicorn_run(app, **kwargs)


def main() -> None:
    # dagster_webserver.cli calls `uvicorn.run(...)` through the module attribute
    uvicorn.run = _run_with_bounded_shutdown
    from dagster_webserver.cli import main as webserver_main

    sys.argv[0] = "dagster-webserver"
    webserver_main()


if __name__ == "__main__":
    main()
