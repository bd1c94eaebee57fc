"""The on-disk layout of published versions and the file-system moves that make a
publication atomic (standard library only: readers and `rsoko status` import this).

    <published>/versions/<version>/rsoko_marts.duckdb   read-only copy of schema `marts`
                                  /parquet/…             the same tables as Parquet
                                  /dictionary.html       data dictionary (the same descriptions)
                                  /manifest.json         what was published, from which files
    <published>/versions/.tmp-<version>/                 being written (removed if stale)
    <published>/current -> versions/<version>            swapped with one rename
    <published>/rsoko_marts.duckdb -> current/rsoko_marts.duckdb   (also parquet, manifest.json,
                                                                   dictionary.html)

A version directory only gets its final name once every file in it is written and synced,
and `current` only ever points at such a directory, so a crash at any moment leaves the
previous (or the new) complete version current. A reader that already opened a version
keeps its file handle: pruning unlinks the files, the inode lives until the reader closes.

The database file is not called `marts.duckdb`: DuckDB names the catalog after the file,
and a catalog `marts` next to the schema `marts` makes `SELECT … FROM marts.indicators`
fail as ambiguous.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

DB_FILE = "rsoko_marts.duckdb"
MANIFEST = "manifest.json"
PARQUET = "parquet"
DICTIONARY = "dictionary.html"
VERSIONS = "versions"
CURRENT = "current"
TMP_PREFIX = ".tmp-"
STABLE_LINKS = (DB_FILE, PARQUET, MANIFEST, DICTIONARY)  # <published>/<name> -> current/<name>


def keep_from_env(default: int = 7) -> int:
    """How many versions to keep: `RSOKO_PUBLISH_KEEP` (default 7, at least 1)."""
    value = os.environ.get("RSOKO_PUBLISH_KEEP", "").strip()
    try:
        return max(int(value), 1) if value else default
    except ValueError:
        raise ValueError(f"RSOKO_PUBLISH_KEEP must be a whole number, not {value!r}") from None


class NothingPublished(FileNotFoundError):
    """No complete version exists (or the requested one is not kept)."""


def versions_dir(published_dir: Path) -> Path:
    return Path(published_dir) / VERSIONS


def _sort_key(name: str) -> tuple[str, int]:
    base, _, suffix = name.partition("-")
    return base, int(suffix) if suffix.isdigit() else 0


def new_version_name(published_dir: Path, now: datetime) -> str:
    """`20261123T020512Z`, UTC; `-2`, `-3`… when two publications share a second."""
    base = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    root, name, n = versions_dir(published_dir), base, 1
    while (root / name).exists() or (root / f"{TMP_PREFIX}{name}").exists():
        n += 1
        name = f"{base}-{n}"
    return name


def version_names(published_dir: Path) -> list[str]:
    """Complete versions (final name and a manifest), oldest first."""
    root = versions_dir(published_dir)
    if not root.is_dir():
        return []
    names = [p.name for p in root.iterdir()
             if not p.name.startswith(".") and (p / MANIFEST).is_file()]
    return sorted(names, key=_sort_key)


def current_version(published_dir: Path) -> str | None:
    link = Path(published_dir) / CURRENT
    try:
        return Path(os.readlink(link)).name
    except OSError:
        return None


@contextmanager
def publish_lock(published_dir: Path) -> Iterator[None]:
    """Serialise publishers (Dagster's pool already does; this also covers a manual
    `rsoko publish run`), so removing another publisher's `.tmp-*` can never happen."""
    Path(published_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(published_dir) / ".publish.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_tree(root: Path) -> None:
    """Flush every file and directory under root, so the rename that follows never
    exposes a directory whose contents are still only in the page cache."""
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            fd = os.open(os.path.join(dirpath, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(dirpath))


def replace_symlink(link: Path, target: str) -> None:
    """Point `link` at `target` with one rename (readers see the old or the new link)."""
    tmp = link.with_name(f".{link.name}.swap-{os.getpid()}")
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(target, tmp)
    os.replace(tmp, link)


def activate(published_dir: Path, version: str) -> None:
    """Make `version` current; create the stable links once (they go through `current`)."""
    published_dir = Path(published_dir)
    replace_symlink(published_dir / CURRENT, f"{VERSIONS}/{version}")
    for name in STABLE_LINKS:
        link, target = published_dir / name, f"{CURRENT}/{name}"
        if not (link.is_symlink() and os.readlink(link) == target):
            replace_symlink(link, target)
    fsync_dir(published_dir)


def remove_stale(published_dir: Path, log: Callable[[str], None] = print) -> list[str]:
    """Remove half-written versions and swap links left by a crashed publisher."""
    removed = []
    for path in list(versions_dir(published_dir).glob(f"{TMP_PREFIX}*")):
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    for path in Path(published_dir).glob(".*.swap-*"):
        path.unlink(missing_ok=True)
    if removed:
        log(f"removed unfinished publication(s) left by a crash: {', '.join(removed)}")
    return removed


def prune(published_dir: Path, keep: int, log: Callable[[str], None] = print) -> list[str]:
    """Delete all but the newest `keep` versions; the current one always stays."""
    names, current = version_names(published_dir), current_version(published_dir)
    doomed = [n for n in names[:-max(keep, 1)] if n != current]
    for name in doomed:
        shutil.rmtree(versions_dir(published_dir) / name, ignore_errors=True)
    if doomed:
        log(f"pruned {len(doomed)} old version(s): {', '.join(doomed)}")
    return doomed


def _read_manifest(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # pruned meanwhile, or not a version directory
        return None


def current_manifest(published_dir: Path) -> dict | None:
    """The manifest of the version analysts currently see, or None if nothing is published."""
    return _read_manifest(Path(published_dir) / CURRENT / MANIFEST)


def list_versions(published_dir: Path) -> list[dict]:
    """Kept versions, newest first: version, published_at, current, tables, rows,
    source_files, git_commit, path."""
    current, out = current_version(published_dir), []
    for name in reversed(version_names(published_dir)):
        manifest = _read_manifest(versions_dir(published_dir) / name / MANIFEST)
        if manifest is None:
            continue
        tables = manifest.get("tables", {})
        out.append({
            "version": name, "published_at": manifest.get("published_at"),
            "current": name == current, "tables": len(tables),
            "rows": sum(t.get("rows", 0) for t in tables.values()),
            "source_files": len(manifest.get("source_files", [])),
            "git_commit": manifest.get("git_commit"),
            "path": str(versions_dir(published_dir) / name),
        })
    return out


def published_database(published_dir: Path, version: str | None = None) -> Path:
    """The database file of the current (or the given kept) version, with symlinks resolved.

    Resolved on purpose: DuckDB caches open databases by path within a process, so a
    long-lived process that connects through the stable link would keep seeing the
    version it first opened; the concrete path changes with every publication."""
    published_dir = Path(published_dir)
    if version is None:
        if current_version(published_dir) is None:
            raise NothingPublished("nothing published yet: run `rsoko nightly` first")
        path = (published_dir / CURRENT / DB_FILE).resolve()
    else:
        path = versions_dir(published_dir) / version / DB_FILE
    if not path.is_file() or (version is not None and version not in version_names(published_dir)):
        kept = ", ".join(reversed(version_names(published_dir))) or "none"
        raise NothingPublished(f"no published version {version or 'current'} (kept: {kept})")
    return path
