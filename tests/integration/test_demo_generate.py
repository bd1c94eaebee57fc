"""`rsoko demo generate` through the CLI app, the manifest, and byte-level determinism."""

from __future__ import annotations

import hashlib
import json

import pytest
from typer.testing import CliRunner

from rsoko_pipelines.demo.cli import demo_app

SEED = 20250607


def _digests(root):
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_cli_generates_tier_s(tmp_path):
    out = tmp_path / "inbox"
    result = CliRunner().invoke(demo_app, ["generate", "--tier", "S", "--seed", str(SEED),
                                           "--out", str(out), "--sources", "schools,ege,oge"])
    assert result.exit_code == 0, result.output
    assert "oge" in result.output and "total" in result.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["tier"] == "S" and manifest["years"] == [2023, 2024, 2025]
    assert set(manifest["totals"]) == {"schools", "ege", "oge"}
    assert manifest["totals"]["schools"] == {"files": 3, "rows": 1800,
                                             "bytes": manifest["totals"]["schools"]["bytes"]}
    assert 80_000 < manifest["totals"]["ege"]["rows"] < 120_000
    assert 300_000 < manifest["totals"]["oge"]["rows"] < 400_000
    # truths: sizes per year and ГИА quirk counts
    per_year = {}
    for t in manifest["low_results_schools"]:
        per_year[t["academic_year"]] = per_year.get(t["academic_year"], 0) + 1
    assert set(per_year) == {2023, 2024, 2025} and all(18 <= v <= 24 for v in per_year.values())
    assert manifest["reorganised_schools"] and all(
        r["successor_code"] != r["school_code"] for r in manifest["reorganised_schools"])
    assert manifest["gia_retakes"] > 1000
    assert 0.0005 < (manifest["gia_removed"] + manifest["gia_annulled"]) / (
        manifest["totals"]["ege"]["rows"] + manifest["totals"]["oge"]["rows"]) < 0.004
    # files on disk are exactly the manifest's files
    listed = {f["path"] for f in manifest["files"]}
    on_disk = {p for p in _digests(out) if p != "manifest.json"}
    assert listed == on_disk


def test_cli_rejects_unknown_source(tmp_path):
    result = CliRunner().invoke(demo_app, ["generate", "--out", str(tmp_path), "--sources", "foo"])
    assert result.exit_code != 0


def test_same_seed_same_bytes_any_workers(tmp_path):
    from rsoko_pipelines.demo.generate import generate

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate("S", SEED, a, sources="schools,ege,oge", workers=1, n_schools=60, quiet=True)
    generate("S", SEED, b, sources="oge,ege,schools", workers=2, n_schools=60, quiet=True)
    generate("S", SEED + 1, c, sources="schools,ege,oge", workers=1, n_schools=60, quiet=True)
    da, db, dc = _digests(a), _digests(b), _digests(c)
    assert da == db                      # incl. manifest.json
    assert da["manifest.json"] != dc["manifest.json"]


def test_missing_source_module_is_skipped(tmp_path, monkeypatch):
    from rsoko_pipelines.demo import generate as gen

    monkeypatch.setitem(gen._SOURCES, "literacy", ("rsoko_pipelines.demo.no_such_module",
                                                  "generate_literacy", {}))
    manifest = gen.generate("S", SEED, tmp_path, sources="schools,literacy", workers=1,
                            n_schools=30, quiet=True)
    assert {f.source for f in manifest.files} == {"schools"}
    assert manifest.stats["literacy"].skipped
