"""A corrected ЕГЭ sheet replaces its slice; the same bytes under another name load once."""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import pytest

from rsoko_pipelines.ingest import release
from rsoko_pipelines.ingest.warehouse import writer
from rsoko_pipelines.settings import SEEDS_DIR
from tests.integration._broken_files import (GiaSheet, generate_region, ingest,
                                             largest_gia_file, link_year, registry_rows,
                                             use_deployment, warehouse_checksums)

YEAR = 2025
N_CHANGED = 3


def _scale(year: int, code: str) -> dict[int, int]:
    with open(SEEDS_DIR / "reference" / "ref_ege_score_scale.csv", encoding="utf-8") as f:
        return {int(r["primary_score"]): int(r["test_score"]) for r in csv.DictReader(f)
                if r["academic_year"] == str(year) and r["ege_subject_code"] == code}


def _correct(src: Path, dst: Path) -> dict[int, tuple[int, int]]:
    """Write a corrected copy of a ЕГЭ sheet: N_CHANGED participants get a different primary
    score and the matching test score of the seed's scale. Returns {line: (primary, test)}."""
    sheet = GiaSheet.read(src)
    code = sheet.lines[0].split(" ", 1)[0]
    scale = _scale(YEAR, code)
    p_col, t_col = sheet.col("Первичный балл"), sheet.col("Балл")
    changed = {}
    for i in sheet.participant_indexes()[10::97]:
        cells = sheet.cells(i)
        if not cells[p_col].strip() or not cells[t_col].strip():
            continue
        old = int(cells[p_col])
        new = old - 2 if old >= 2 else old + 2
        assert scale[new] != int(cells[t_col]) or new != old
        cells[p_col], cells[t_col] = str(new), str(scale[new])
        sheet.set_cells(i, cells)
        changed[i + 1] = (new, scale[new])
        if len(changed) == N_CHANGED:
            break
    assert len(changed) == N_CHANGED
    sheet.write(dst)
    return changed


def _data(checksums: dict) -> dict:
    """Checksums of the landing tables and the registry (not the sightings log, nor the
    release status whose `checked_at` each release renews)."""
    return {t: c for t, c in checksums.items() if t not in ("_file_sightings", "_slice_status")}


def _query(settings, sql, params=None):
    from rsoko_pipelines.ingest.warehouse import connect

    con = connect(settings.warehouse_path, read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# What the models read: the rows of released files (macros/build_scope.sql: released_rows).
MODELS_READ = ("SELECT r.file_id, count(*) FROM raw.ege e JOIN raw._file_registry r "
               "ON r.file_id = e._file_id AND r.released WHERE e.academic_year = ? "
               "AND r.slice_key = (SELECT slice_key FROM raw._file_registry WHERE file_id = ?) "
               "GROUP BY ALL")


def _release_state(settings, old_id: str) -> dict:
    """The corrected slice at one moment of the night: which files the landing holds rows
    of, which the models read, the registry flags and the build scope."""
    slice_files = _query(settings, "SELECT file_id, status, released, released_at IS NOT NULL "
                         "FROM raw._file_registry WHERE slice_key = (SELECT slice_key FROM "
                         "raw._file_registry WHERE file_id = ?) ORDER BY first_seen_at",
                         [old_id])
    return {
        "landing": dict(_query(settings, "SELECT _file_id, count(*) FROM raw.ege WHERE _file_id "
                               "IN (SELECT file_id FROM raw._file_registry WHERE slice_key = "
                               "(SELECT slice_key FROM raw._file_registry WHERE file_id = ?)) "
                               "GROUP BY ALL", [old_id])),
        "models_read": dict(_query(settings, MODELS_READ, [YEAR, old_id])),
        "registry": {f: (st, rel, stamped) for f, st, rel, stamped in slice_files},
        "scope": [r[0] for r in _query(settings, "SELECT build_slice FROM raw._build_scope "
                                       "ORDER BY 1")],
        "total": _query(settings, "SELECT count(*) FROM raw.ege")[0][0],
    }


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    gen = tmp_path_factory.mktemp("gen")
    generate_region(gen, sources=["schools", "ege"], n_schools=40)
    with pytest.MonkeyPatch.context() as mp:
        settings = use_deployment(mp, tmp_path_factory.mktemp("deploy") / "data")
        link_year(gen, settings.inbox_dir, YEAR)
        first = ingest(settings, ["schools", "ege"], YEAR)
        assert first["ege"].count("loaded") == len(first["ege"].files) > 10
        folder = settings.inbox_dir / "ege" / str(YEAR)
        original = largest_gia_file(settings.inbox_dir, "ege", YEAR, with_column="Балл")
        original_bytes = original.read_bytes()
        old_id = hashlib.sha256(original_bytes).hexdigest()
        title = original.read_bytes().decode("cp1251").split("\r\n", 1)[0]
        before = {
            "checksums": warehouse_checksums(settings),
            "slice": _query(settings, "SELECT _source_line, participant_key, primary_score, "
                            "test_score FROM raw.ege WHERE _file_id=? ORDER BY 1", [old_id]),
            "other": _query(settings, "SELECT count(*), bit_xor(hash(t)) FROM raw.ege t "
                            "WHERE _file_id<>?", [old_id])[0],
        }
        # a corrected sheet (another name), and the same corrected bytes under a second name
        corrected = folder / "Ведомость ЕГЭ исправленная.csv"
        changed = _correct(original, corrected)
        shutil.copyfile(corrected, folder / "ЯЯ копия исправленной.csv")
        # the night's order: landing (not released yet) → release step → models → commit
        second = ingest(settings, ["ege"], YEAR, release=False)["ege"]
        landed = _release_state(settings, old_id)
        with writer(settings.warehouse_path) as con:
            plan = release.plan_release(con)
        planned = _release_state(settings, old_id)
        planned["plan"] = (plan.candidates, plan.held_back, plan.scope)
        with writer(settings.warehouse_path) as con:
            removed = release.commit(con)
        committed = _release_state(settings, old_id)
        committed["removed"] = removed
        after = {
            "checksums": warehouse_checksums(settings),
            "registry": {r["file_id"]: r for r in registry_rows(settings)},
        }
        # the superseded original delivered again under a new name: it must not come back
        (folder / "повторно старая.csv").write_bytes(original_bytes)
        third = ingest(settings, ["ege"], YEAR)["ege"]
        after_third = warehouse_checksums(settings)
        fourth = ingest(settings, ["ege"], YEAR)["ege"]
        yield dict(settings=settings, original=original, original_bytes=original_bytes,
                   old_id=old_id, new_id=hashlib.sha256(corrected.read_bytes()).hexdigest(),
                   title=title, changed=changed, before=before, after=after, second=second,
                   third=third, after_third=after_third, fourth=fourth,
                   landed=landed, planned=planned, committed=committed,
                   after_fourth=warehouse_checksums(settings), corrected=corrected)


def test_corrected_file_replaces_its_slice(run):
    settings, new_id = run["settings"], run["new_id"]
    statuses = {f.inbox_path.rsplit("/", 1)[-1]: f.status for f in run["second"].files
                if f.status not in ("unchanged",)}
    assert statuses == {"Ведомость ЕГЭ исправленная.csv": "replaced",
                        "ЯЯ копия исправленной.csv": "duplicate"}
    old_rows = run["before"]["slice"]
    new_rows = _query(settings, "SELECT _source_line, participant_key, primary_score, "
                      "test_score FROM raw.ege WHERE _file_id=? ORDER BY 1", [new_id])
    # same participants on the same lines, nothing lost or added
    assert len(new_rows) == len(old_rows) > 150
    assert [(r[0], r[1]) for r in new_rows] == [(r[0], r[1]) for r in old_rows]
    # exactly the changed scores differ, and they have the corrected values
    diff = {r[0]: (r[2], r[3]) for r, o in zip(new_rows, old_rows) if r != o}
    assert diff == run["changed"]
    assert _query(settings, "SELECT count(*) FROM raw.ege WHERE _file_id=?", [run["old_id"]]) \
        == [(0,)]
    # the rest of the landing table is untouched
    assert _query(settings, "SELECT count(*), bit_xor(hash(t)) FROM raw.ege t WHERE _file_id<>?",
                  [new_id])[0] == run["before"]["other"]
    for table in ("schools",):
        assert run["after"]["checksums"][table] == run["before"]["checksums"][table]


def test_until_the_commit_the_models_read_the_original(run):
    """The landing keeps the original's rows until the correction is released and the
    release committed: after the landing the models still read the original; after the
    release step they read the correction (the original's rows still there, so a failing
    test could restore it); after the commit the original's rows are gone."""
    old_id, new_id = run["old_id"], run["new_id"]
    n = len(run["before"]["slice"])
    landed, planned, committed = run["landed"], run["planned"], run["committed"]
    assert landed["landing"] == {old_id: n, new_id: n}
    assert landed["models_read"] == {old_id: n}
    assert landed["registry"] == {old_id: ("superseded", True, True),
                                  new_id: ("loaded", False, False)}
    assert landed["total"] == run["before"]["checksums"]["ege"][0] + n

    candidates, held_back, scope = planned["plan"]
    assert candidates == [("ege", YEAR)] and held_back == {}
    assert scope == [f"ege|{YEAR}"] == planned["scope"]     # ЕГЭ: the source × year slice
    assert planned["landing"] == {old_id: n, new_id: n}
    assert planned["models_read"] == {new_id: n}
    assert planned["registry"] == {old_id: ("superseded", False, True),
                                   new_id: ("loaded", True, False)}

    assert committed["removed"] == n
    assert committed["landing"] == {new_id: n} and committed["models_read"] == {new_id: n}
    assert committed["registry"] == {old_id: ("superseded", False, True),
                                     new_id: ("loaded", True, True)}
    assert committed["scope"] == [] and committed["total"] == run["before"]["checksums"]["ege"][0]


def test_no_duplicate_participants_after_the_correction(run):
    dupes = _query(run["settings"], "SELECT participant_key, source_subject_code, exam_date, "
                   "count(*) FROM raw.ege WHERE academic_year=? AND participant_key IS NOT NULL "
                   "GROUP BY ALL HAVING count(*) > 1", [YEAR])
    assert dupes == []
    total = _query(run["settings"], "SELECT count(*) FROM raw.ege")[0][0]
    assert total == run["before"]["checksums"]["ege"][0]


def test_registry_supersedes_and_archive_keeps_the_original(run):
    registry = run["after"]["registry"]
    old, new = registry[run["old_id"]], registry[run["new_id"]]
    assert old["status"] == "superseded" and old["superseded_by"] == run["new_id"]
    assert new["status"] == "loaded" and new["superseded_by"] is None
    assert new["slice_key"] == old["slice_key"]
    assert new["file_name"] == "Ведомость ЕГЭ исправленная.csv"
    assert new["rows"] == old["rows"] == len(run["before"]["slice"])
    # both originals archived byte for byte
    archived_old = Path(old["archive_path"])
    assert archived_old.is_file() and archived_old.read_bytes() == run["original_bytes"]
    assert hashlib.sha256(archived_old.read_bytes()).hexdigest() == run["old_id"]
    archived_new = Path(new["archive_path"])
    assert hashlib.sha256(archived_new.read_bytes()).hexdigest() == run["new_id"]
    assert archived_old != archived_new
    # the duplicate name made no registry row: one row per distinct file
    assert len(registry) == len({r["file_id"] for r in registry.values()})
    assert sum(1 for r in registry.values() if r["slice_key"] == new["slice_key"]) == 2


def test_same_bytes_again_load_once(run):
    # the superseded original under a new name is a duplicate: the correction stays
    third = [(f.inbox_path.rsplit("/", 1)[-1], f.status) for f in run["third"].files
             if f.status != "unchanged"]
    assert third == [("повторно старая.csv", "duplicate")]
    assert _data(run["after_third"]) == _data(run["after"]["checksums"])
    assert run["third"].rows_loaded == 0
    # and a quiet night afterwards: every file unchanged, nothing rewritten
    assert {f.status for f in run["fourth"].files} == {"unchanged"}
    assert _data(run["after_fourth"]) == _data(run["after_third"])
    assert run["after_fourth"]["_file_sightings"] == run["after_third"]["_file_sightings"]
