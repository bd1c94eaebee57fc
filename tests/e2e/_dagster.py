"""Real Dagster processes for the e2e tests: the webserver (`scripts/webserver.py`, i.e.
`dagster-webserver` with a bounded shutdown) and `dagster-daemon run` on
workspace.yaml, against a private instance (the local dagster.yaml of `rsoko nightly`) and a
private RSOKO_DATA_DIR. Each process is started in its own session and stopped by its id:
SIGTERM to its process group (the webserver and the daemon each start a code server), then
SIGKILL if it has not exited."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from rsoko_pipelines.settings import REPO_ROOT

BIN = Path(sys.executable).parent
WORKSPACE = REPO_ROOT / "workspace.yaml"
LOCATION = "rsoko"
REPOSITORY = "__repository__"
RSOKO_VARS = ("RSOKO_INBOX_DIR", "RSOKO_WAREHOUSE", "RSOKO_ARCHIVE_DIR", "RSOKO_QUARANTINE_DIR",
              "RSOKO_PUBLISHED_DIR", "RSOKO_REPORTS_DIR", "RSOKO_SECRETS_DIR")
LOAD_TIMEOUT = float(os.environ.get("RSOKO_E2E_LOAD_TIMEOUT", "150"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def deployment_env(data_dir: Path) -> dict[str, str]:
    """The environment of a private deployment under data_dir, its Dagster instance
    configured with the local dagster.yaml (as `rsoko nightly` and scripts/ui.sh write it)."""
    from rsoko_pipelines.night.command import write_local_dagster_yaml

    env = {k: v for k, v in os.environ.items() if k not in RSOKO_VARS}
    home = data_dir / "dagster_home"
    write_local_dagster_yaml(home)
    init_storage(home)
    env.update(RSOKO_DATA_DIR=str(data_dir), DAGSTER_HOME=str(home),
               RSOKO_PSEUDONYM_KEY="test-key-not-secret",
               PATH=str(BIN) + os.pathsep + env.get("PATH", ""), PYTHONUNBUFFERED="1")
    env.pop("DAGSTER_IS_DEV_CLI", None)
    return env


def init_storage(home: Path) -> None:
    """Create the instance's SQLite storage once, before several processes open it: the
    webserver, the daemon and their code servers starting together on an empty DAGSTER_HOME
    race to create the same tables ("alembic_version has more than one head"). scripts/ui.sh
    does the same before it starts them; PostgreSQL storage retries."""
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(home))):
        pass


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:
        return subprocess.Popen(args, cwd=REPO_ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)


def stop(proc: subprocess.Popen | None, timeout: float = 20) -> None:
    """Stop a process we started, and the children of its session, by its id."""
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)       # its own session: pgid == pid
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            # the code servers it started belong to the same group: make sure they are gone
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return
        except subprocess.TimeoutExpired:
            continue


def tail(path: Path, n: int = 4000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-n:]
    except FileNotFoundError:
        return ""


@dataclass
class Dagster:
    """A running webserver (+ daemon) on one instance; `graphql()` queries its API."""

    env: dict
    logs: Path
    port: int = field(default_factory=free_port)
    webserver: subprocess.Popen | None = None
    daemon: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, daemon: bool = True) -> "Dagster":
        # the webserver as scripts/ui.sh and the systemd unit start it (bounded shutdown)
        self.webserver = _start(
            [str(BIN / "python"), str(REPO_ROOT / "scripts" / "webserver.py"), "-w",
             str(WORKSPACE), "-h", "127.0.0.1", "-p", str(self.port)], self.env,
            self.logs / "webserver.log")
        if daemon:
            self.daemon = _start([str(BIN / "dagster-daemon"), "run", "-w", str(WORKSPACE)],
                                 self.env, self.logs / "daemon.log")
        return self

    def stop(self) -> None:
        stop(self.daemon)
        stop(self.webserver)

    def __enter__(self) -> "Dagster":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _alive(self) -> None:
        for name, proc in (("webserver", self.webserver), ("daemon", self.daemon)):
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"dagster {name} exited with {proc.returncode}:\n"
                                     + tail(self.logs / f"{name}.log"))

    def graphql(self, query: str, variables: dict | None = None, timeout: float = 60) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(self.url + "/graphql", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            payload = json.loads(response.read())
        assert not payload.get("errors"), payload["errors"]
        return payload["data"]

    def wait_loaded(self, timeout: float = LOAD_TIMEOUT) -> dict:
        """Until the webserver answers and the code location is loaded (or failed to)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            self._alive()
            try:
                data = self.graphql(WORKSPACE_QUERY, timeout=10)
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
                last = exc
                time.sleep(0.5)
                continue
            entries = {e["name"]: e for e in data["workspaceOrError"]["locationEntries"]}
            entry = entries.get(LOCATION)
            last = entry
            if entry and entry["loadStatus"] == "LOADED":
                location = entry["locationOrLoadError"]
                assert location["__typename"] == "RepositoryLocation", (
                    f"code location {LOCATION} failed to load: {location}")
                return location
            time.sleep(0.5)
        raise AssertionError(f"code location not loaded after {timeout:.0f} s ({last}):\n"
                             + tail(self.logs / "webserver.log"))

    def wait_daemons(self, types=("SCHEDULER", "SENSOR"), timeout: float = 90) -> dict:
        """Until the daemon reports the given daemons healthy (the first heartbeat of each)."""
        deadline = time.monotonic() + timeout
        statuses = {}
        while time.monotonic() < deadline:
            self._alive()
            data = self.graphql(DAEMON_QUERY)
            statuses = {d["daemonType"]: d for d in
                        data["instance"]["daemonHealth"]["allDaemonStatuses"]}
            if all(statuses.get(t, {}).get("healthy") for t in types):
                return statuses
            time.sleep(1)
        raise AssertionError(f"daemons not healthy after {timeout:.0f} s: {statuses}\n"
                             + tail(self.logs / "daemon.log"))


WORKSPACE_QUERY = """
query {
  workspaceOrError {
    __typename
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on RepositoryLocation { name repositories { name } }
          ... on PythonError { message stack }
        }
      }
    }
    ... on PythonError { message }
  }
}
"""

DAEMON_QUERY = """
query {
  instance {
    daemonHealth { allDaemonStatuses { daemonType required healthy lastHeartbeatTime } }
  }
}
"""
