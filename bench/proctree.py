"""Memory of a whole process tree, sampled from /proc (Linux; no psutil).

A thread wakes every `interval` seconds, finds the root process and all its descendants
(by parent pid, from /proc/<pid>/stat) and sums their resident set sizes
(/proc/<pid>/statm). The sum counts pages shared between processes once per process, as
`ps` and `top` do; the tree of a nightly is one Python process plus the dbt subprocesses
it starts, so the over-count is small. Spikes shorter than the interval can be missed: the
caller also takes the kernel's exact peak of the largest single process (`os.wait4`).
"""

from __future__ import annotations

import os
import threading
import time

PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024 * 1024


def _parents() -> dict[int, int]:
    """{pid: parent pid} of every process visible in /proc."""
    parents = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:          # exited meanwhile
            continue
        # the command name (field 2) may contain spaces and parentheses: split after it
        fields = stat[stat.rfind(b")") + 2:].split()
        parents[int(name)] = int(fields[1])
    return parents


def tree(root: int) -> list[int]:
    """The root pid and all its descendants (those still alive)."""
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents().items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss(root: int) -> tuple[int, int]:
    """(sum of RSS in bytes, number of processes) of the tree under root."""
    pids = tree(root)
    return sum(rss_bytes(pid) for pid in pids), len(pids)


class TreeSampler:
    """Samples the RSS of the tree under `root` until stopped. `samples` holds
    (unix time, MB, processes); `peak_mb` the largest sum seen."""

    def __init__(self, root: int, interval: float = 0.2):
        self.root = root
        self.interval = interval
        self.samples: list[tuple[float, float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="tree-rss", daemon=True)

    def __enter__(self) -> "TreeSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _loop(self) -> None:
        while True:
            total, n = tree_rss(self.root)
            if total:
                self.samples.append((time.time(), total / MB, n))
            if self._stop.wait(self.interval):
                return

    @property
    def peak_mb(self) -> float:
        return max((mb for _, mb, _ in self.samples), default=0.0)

    @property
    def current_mb(self) -> float:
        return self.samples[-1][1] if self.samples else 0.0

    def peak_within(self, windows: list[tuple[float, float]]) -> float | None:
        """Largest sample taken inside any of the (start, end) windows (None: no sample)."""
        values = [mb for t, mb, _ in self.samples
                  if any(start <= t <= end for start, end in windows)]
        return max(values) if values else None

    def peak_outside(self, windows: list[tuple[float, float]]) -> float | None:
        values = [mb for t, mb, _ in self.samples
                  if not any(start <= t <= end for start, end in windows)]
        return max(values) if values else None

    def write_tsv(self, path) -> None:
        with open(path, "w", encoding="utf-8") as f:
            f.write("unix_time\trss_mb\tprocesses\n")
            for t, mb, n in self.samples:
                f.write(f"{t:.2f}\t{mb:.1f}\t{n}\n")
