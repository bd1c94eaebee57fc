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


def generated_tier(tier: str, seed: int = DEMO_SEED) -> Path:
    """The generator's output for (tier, seed), generated once and then reused."""
    from rsoko_pipelines.demo.generate import generate
    from rsoko_pipelines.demo.manifest import GENERATOR_VERSION

    # keyed by the generator version: a cache of an older generator lacks newer truths
    root = CACHE_DIR / f"tier-{tier}-{seed}-g{GENERATOR_VERSION}"
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / f".tier-{tier}-{seed}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "manifest.json").exists():
            tmp = root.with_name(root.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            generate(tier=tier, seed=seed, out=tmp)
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
