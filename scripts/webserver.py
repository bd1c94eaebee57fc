"""`dagster-webserver` that stops within seconds of SIGTERM or SIGINT.

dagster-webserver serves the UI with uvicorn and no graceful-shutdown limit: on SIGTERM
uvicorn stops accepting connections, then waits for every open one to finish — and the UI
of every open browser tab holds GraphQL subscriptions (websockets) that never finish, so
the webserver ignored SIGTERM for over a minute (issue 14) and systemd had to SIGKILL it.
Here uvicorn gets `timeout_graceful_shutdown` (RSOKO_UI_SHUTDOWN_GRACE seconds, default 3):
after it the open connections are cancelled. Then the code server the webserver started
gets SIGTERM and the process exits at once: the interpreter's own teardown would otherwise
wait seconds for that code server (measured: ~5 s on a loaded machine). The code server
stops by itself on the SIGTERM (~4 s). Everything else is dagster-webserver's command line:

    python scripts/webserver.py -w workspace.yaml -h 127.0.0.1 -p 3000

Used by scripts/ui.sh and deploy/systemd/rsoko-webserver.service.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import uvicorn

GRACE_SECONDS = float(os.environ.get("RSOKO_UI_SHUTDOWN_GRACE", "3"))
_uvicorn_run = uvicorn.run


def _run_with_bounded_shutdown(app, **kwargs):
    kwargs.setdefault("timeout_graceful_shutdown", GRACE_SECONDS)
    return _uvicorn_run(app, **kwargs)


def _children() -> list[int]:
    """The processes this one started (its code server), by parent id."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == me:
                found.append(int(entry.name))
    return found


def main() -> None:
    # dagster_webserver.cli calls `uvicorn.run(...)` through the module attribute
    uvicorn.run = _run_with_bounded_shutdown
    from dagster_webserver.cli import main as webserver_main

    sys.argv[0] = "dagster-webserver"
    code = 0
    try:
        webserver_main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    # the server has stopped: its code server stops on SIGTERM by itself
    for pid in _children():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
