"""Shared fixtures. The demo tier S is generated once per machine into a cache folder
(shared by the xdist workers under a file lock) and linked into each test's own inbox."""

from __future__ import annotations

import fcntl
import os
import shutil
from pathlib import Path

import pytest

from rsoko_pipelines.settings import REPO_ROOT

DEMO_SEED = 20250607
CACHE_DIR = Path(os.environ.get("RSOKO_TEST_CACHE", REPO_ROOT / "var" / "test-cache"))


def generator_digest() -> str:
    """A digest of what the generated files depend on (the generator's code and the
    reference seeds): a cached tier made by another version of them is not reused."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted([*(REPO_ROOT / "rsoko_pipelines" / "demo").glob("*.py"),
                        *(REPO_ROOT / "dbt_project" / "seeds" / "reference").glob("*.csv")]):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:10]


def generated_tier(tier: str, seed: int = DEMO_SEED, profile: str = "default") -> Path:
    """The generator's output for (tier, seed, profile), generated once and then reused while
    the generator and the seeds stay the same (`.generator` in the folder holds their digest;
    bench/run.py shares the folder)."""
    from rsoko_pipelines.demo.generate import generate

    name = f"tier-{tier}-{seed}" + ("" if profile == "default" else f"-{profile}")
    root = CACHE_DIR / name
    digest = generator_digest()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / f".{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = root / ".generator"
        fresh = (root / "manifest.json").exists() and stamp.exists() \
            and stamp.read_text(encoding="utf-8").strip() == digest
        if not fresh:
            tmp = root.with_name(root.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            generate(tier=tier, seed=seed, out=tmp, profile=profile)
            (tmp / ".generator").write_text(digest + "\n", encoding="utf-8")
            shutil.rmtree(root, ignore_errors=True)
            tmp.rename(root)
    return root


def link_tree(src: Path, dst: Path) -> Path:
    """Hard-link copy: instant, and moving a file (quarantine) never touches the cache."""
    shutil.copytree(src, dst, copy_function=os.link, dirs_exist_ok=True)
    return dst


@pytest.fixture(scope="session")
def tier_s() -> Path:
    return generated_tier("S")


@pytest.fixture()
def rsoko_env(tmp_path, monkeypatch):
    """A private deployment: every RSOKO_* path and DAGSTER_HOME under tmp_path."""
    from rsoko_pipelines.settings import Settings

    data = tmp_path / "data"
    monkeypatch.setenv("RSOKO_DATA_DIR", str(data))
    for var in ("RSOKO_INBOX_DIR", "RSOKO_WAREHOUSE", "RSOKO_ARCHIVE_DIR",
                "RSOKO_QUARANTINE_DIR", "RSOKO_PUBLISHED_DIR", "RSOKO_REPORTS_DIR",
                "RSOKO_SECRETS_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(data / "dagster_home"))
    monkeypatch.setenv("RSOKO_PSEUDONYM_KEY", "test-key-not-secret")
    return Settings.from_env().ensure_dirs()
