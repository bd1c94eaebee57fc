"""The release of landed files (rsoko_pipelines/ingest/release.py) on a small DuckDB
warehouse: files are landed by the real landing code (ingest/landing.py `_load`) and
quarantined by the real quarantine code, then released, reverted and committed as a night's
release step and models step do."""

from __future__ import annotations

import os
import time
from types import SimpleNamespace

import duckdb
import pyarrow as pa
import pytest

from rsoko_pipelines.extract.schemas import landing_schema
from rsoko_pipelines.ingest import landing, quarantine, registry, release
from rsoko_pipelines.settings import Settings

RUS4 = {"subject_name": "Русский язык", "grade": 4, "scope": "region", "scope_id": None}
MATH5 = {"subject_name": "Математика", "grade": 5, "scope": "region", "scope_id": None}


def _settings(root) -> Settings:
    return Settings(data_dir=root, inbox_dir=root / "inbox", archive_dir=root / "archive",
                    quarantine_dir=root / "quarantine",
                    warehouse_path=root / "warehouse" / "rsoko.duckdb",
                    published_dir=root / "published", reports_dir=root / "reports",
                    dagster_home=root / "dagster_home", secrets_dir=root / "secrets").ensure_dirs()


class Warehouse:
    """A warehouse and an inbox; `land` and `quarantine` as the landing step does them."""

    def __init__(self, root):
        self.settings = _settings(root)
        self.con = duckdb.connect(str(self.settings.warehouse_path))
        registry.ensure_registry(self.con)
        self.con.execute(landing.SIGHTINGS_DDL)
        self.n = 0

    def _file(self, source: str, year: int, name: str):
        self.n += 1
        path = self.settings.inbox_dir / source / str(year) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"{name}:{self.n}".encode())
        time.sleep(0.002)           # first_seen_at: strictly later than what came before
        return path

    def land(self, source: str, year: int, name: str, slice_: dict, rows: int = 3) -> str:
        path = self._file(source, year, name)
        file_id = f"{name}#{self.n}"
        cand = landing._Candidate(path, f"{source}/{year}/{name}", path.lstat(), file_id)
        schema = landing_schema(source)     # the real landing table, other columns NULL
        given = {"_file_id": [file_id] * rows, "_source_line": list(range(2, rows + 2)),
                 "academic_year": [year] * rows}
        table = pa.table({f.name: pa.array(given.get(f.name, [None] * rows), f.type)
                          for f in schema}, schema=schema)
        parsed = SimpleNamespace(tables={source: table}, slice=slice_, rows=rows, warnings=[])
        self.con.execute("BEGIN TRANSACTION")
        landing._load(self.con, cand, source, year, parsed, path)
        self.con.execute("COMMIT")
        return file_id

    def quarantine(self, source: str, year: int, name: str, slice_: dict | None) -> str:
        path = self._file(source, year, name)
        file_id = f"{name}#{self.n}"
        incoming = quarantine.Incoming(path, f"{source}/{year}/{name}", path.lstat(), source,
                                       year, file_id)
        quarantine.quarantine_file(
            self.con, self.settings, incoming, problems=[{"check": "ege.test_score.range", "message": "bad score",
                                      "rows": [5], "columns": ["test_score"], "hint": "fix"}],
            slice_=slice_)
        return file_id

    def q(self, sql: str, params=None) -> list:
        return self.con.execute(sql, params or []).fetchall()

    def files(self, source: str) -> dict[str, tuple]:
        """{file_id: (status, released, committed)}."""
        return {f: (st, rel, at) for f, st, rel, at in self.q(
            "SELECT file_id, status, released, released_at IS NOT NULL FROM raw._file_registry "
            "WHERE source = ? ORDER BY first_seen_at", [source])}

    def landed(self, source: str) -> dict[str, int]:
        return dict(self.q(f"SELECT _file_id, count(*) FROM raw.{source} GROUP BY ALL"))

    def models_read(self, source: str) -> dict[str, int]:
        """What the staging models read (macros/build_scope.sql: released_rows)."""
        return dict(self.q(f"SELECT l._file_id, count(*) FROM raw.{source} l JOIN "
                           "raw._file_registry f ON f.file_id = l._file_id AND f.released "
                           "GROUP BY ALL"))

    def status(self) -> dict[tuple, tuple]:
        return {(s, y): (st, why, since is not None) for s, y, st, why, since in self.q(
            "SELECT source, academic_year, state, reason, held_since FROM raw._slice_status")}


@pytest.fixture()
def wh(tmp_path):
    w = Warehouse(tmp_path)
    yield w
    w.con.close()


def test_build_slice_ids():
    assert release.build_slice_id("vpr", 2025, RUS4) == "vpr|2025|русский язык|4"
    # the slice values as the models compare them: case, ё/е and spaces do not matter
    assert release.build_slice_id("rpr", 2025, {"subject_name": " Ёмкость\xa0 речи ",
                                                "grade": "5"}) == "rpr|2025|емкость речи|5"
    assert release.build_slice_id("ege", 2025, {"source_subject_code": "01"}) == "ege|2025"
    assert release.build_slice_id("nowhere", 2024, None) == "nowhere|2024"


def test_release_plan_and_commit_of_a_first_delivery(wh):
    a = wh.land("vpr", 2025, "rus4.xlsx", RUS4)
    b = wh.land("vpr", 2025, "math5.xlsx", MATH5)
    e = wh.land("ege", 2025, "01.csv", {"source_subject_code": "01"})
    # landed, not released: the models read nothing yet
    assert wh.models_read("vpr") == {} and wh.landed("vpr") == {a: 3, b: 3}
    plan = release.plan_release(wh.con)
    assert plan.candidates == [("ege", 2025), ("vpr", 2025)] and plan.held_back == {}
    assert plan.scope == ["ege|2025", "vpr|2025|математика|5", "vpr|2025|русский язык|4"]
    assert plan.describe() == "released: ege 2025, vpr 2025"
    assert wh.models_read("vpr") == {a: 3, b: 3} and wh.models_read("ege") == {e: 3}
    assert wh.status() == {("ege", 2025): ("current", None, False),
                           ("vpr", 2025): ("current", None, False)}
    assert release.commit(wh.con) == 0
    assert wh.files("vpr") == {a: ("loaded", True, True), b: ("loaded", True, True)}
    assert release.scope(wh.con) == [] and wh.q("SELECT count(*) FROM raw._release_undo") == [(0,)]
    # nothing new: nothing to release, nothing in scope
    again = release.plan_release(wh.con)
    assert (again.candidates, again.scope) == ([], [])
    assert again.describe() == "nothing new to release"


def test_a_correction_is_read_only_once_released_and_replaces_only_its_slice(wh):
    a = wh.land("vpr", 2025, "rus4.xlsx", RUS4)
    b = wh.land("vpr", 2025, "math5.xlsx", MATH5)
    release.release_everything(wh.con)
    a2 = wh.land("vpr", 2025, "rus4 исправленный.xlsx", RUS4, rows=4)
    # landed: the original is superseded but still read; the correction waits
    assert wh.files("vpr") == {a: ("superseded", True, True), b: ("loaded", True, True),
                               a2: ("loaded", False, False)}
    assert wh.landed("vpr") == {a: 3, b: 3, a2: 4}
    assert wh.models_read("vpr") == {a: 3, b: 3}
    plan = release.plan_release(wh.con)
    # only the corrected subject × grade is rebuilt, not the year
    assert plan.candidates == [("vpr", 2025)] and plan.scope == ["vpr|2025|русский язык|4"]
    assert wh.models_read("vpr") == {b: 3, a2: 4}
    assert wh.landed("vpr") == {a: 3, b: 3, a2: 4}      # the original's rows kept: revertible
    assert release.commit(wh.con) == 3
    assert wh.landed("vpr") == {b: 3, a2: 4} == wh.models_read("vpr")
    assert wh.files("vpr") == {a: ("superseded", False, True), b: ("loaded", True, True),
                               a2: ("loaded", True, True)}


def test_a_correction_never_released_is_replaced_at_once(wh):
    """A file that the models never read goes as soon as its own correction lands."""
    a = wh.land("ege", 2025, "01.csv", {"source_subject_code": "01"})
    a2 = wh.land("ege", 2025, "01 v2.csv", {"source_subject_code": "01"})
    assert wh.landed("ege") == {a2: 3}
    assert wh.files("ege") == {a: ("superseded", False, False), a2: ("loaded", False, False)}


def test_revert_restores_the_previous_release_and_holds_the_year_back(wh):
    a = wh.land("vpr", 2025, "rus4.xlsx", RUS4)
    b = wh.land("vpr", 2025, "math5.xlsx", MATH5)
    e = wh.land("ege", 2025, "01.csv", {"source_subject_code": "01"})
    release.release_everything(wh.con)
    a2 = wh.land("vpr", 2025, "rus4 v2.xlsx", RUS4)
    e2 = wh.land("ege", 2025, "02.csv", {"source_subject_code": "02"})
    plan = release.plan_release(wh.con)
    assert plan.candidates == [("ege", 2025), ("vpr", 2025)]
    # a dbt test fails on the new ВПР rows: ВПР 2025 is held back, ЕГЭ 2025 goes on
    scope = release.revert(wh.con, {("vpr", 2025): "failing test: stg_vpr"})
    assert scope == ["vpr|2025|математика|5", "vpr|2025|русский язык|4"]   # rebuilt as before
    assert wh.models_read("vpr") == {a: 3, b: 3} and wh.models_read("ege") == {e: 3, e2: 3}
    assert wh.status()[("vpr", 2025)] == ("held_back", "failing test: stg_vpr", True)
    assert wh.status()[("ege", 2025)] == ("current", None, False)
    assert release.commit(wh.con) == 0                  # the held-back original stays
    assert wh.files("vpr") == {a: ("superseded", True, True), b: ("loaded", True, True),
                               a2: ("loaded", False, False)}
    assert wh.files("ege")[e2] == ("loaded", True, True)
    # the next night tries the held-back correction again
    again = release.plan_release(wh.con)
    assert again.candidates == [("vpr", 2025)] and again.scope == ["vpr|2025|русский язык|4"]
    assert wh.status()[("vpr", 2025)] == ("current", None, False)


def test_a_quarantine_holds_back_its_source_year_until_a_later_file_fills_its_slice(wh):
    june3 = {"source_subject_code": "01", "exam_date": "2025-06-03"}
    june10 = {"source_subject_code": "02", "exam_date": "2025-06-10"}
    # one delivery: a broken sheet and a good one of the same slice, and another source
    bad = wh.quarantine("ege", 2025, "01 broken.csv", june3)
    good = wh.land("ege", 2025, "01.csv", june3)
    o = wh.land("oge", 2025, "03.csv", {"source_subject_code": "03"})
    plan = release.plan_release(wh.con)
    # the good sheet of the same delivery is not the broken one's correction: ЕГЭ 2025 is
    # held back (its data would be incomplete), ОГЭ 2025 is released
    assert plan.candidates == [("oge", 2025)]
    assert plan.held_back == {("ege", 2025): "файл в карантине / file quarantined: 01 broken.csv"}
    assert wh.models_read("ege") == {} and wh.models_read("oge") == {o: 3}
    assert wh.status()[("ege", 2025)] == (
        "held_back", "файл в карантине / file quarantined: 01 broken.csv", True)
    release.commit(wh.con)
    # a later file of another slice does not resolve it
    other = wh.land("ege", 2025, "02.csv", june10)
    assert release.plan_release(wh.con).held_back.keys() == {("ege", 2025)}
    assert wh.models_read("ege") == {}
    # the corrected sheet of the same slice does
    fixed = wh.land("ege", 2025, "01 исправленный.csv", june3)
    plan = release.plan_release(wh.con)
    assert plan.candidates == [("ege", 2025)] and plan.held_back == {}
    assert wh.models_read("ege") == {other: 3, fixed: 3}
    assert wh.q("SELECT resolution FROM raw._file_registry WHERE file_id = ?", [bad]) == [
        ("исправленный файл / corrected file: 01 исправленный.csv",)]
    assert wh.files("ege")[good][0] == "superseded"
    assert wh.status()[("ege", 2025)] == ("current", None, False)


def test_an_unreadable_file_is_resolved_by_any_later_file_of_its_year_or_by_the_operator(wh):
    wh.land("ege", 2024, "old.csv", {"source_subject_code": "01"})
    release.release_everything(wh.con)
    bad = wh.quarantine("ege", 2025, "garbage.csv", None)      # could not be parsed
    wh.quarantine("ege", 2024, "garbage 2024.csv", None)
    assert release.plan_release(wh.con).held_back.keys() == {("ege", 2024), ("ege", 2025)}
    later = wh.land("ege", 2025, "any.csv", {"source_subject_code": "05"})
    plan = release.plan_release(wh.con)
    assert plan.candidates == [("ege", 2025)] and list(plan.held_back) == [("ege", 2024)]
    assert wh.models_read("ege").get(later) == 3
    assert wh.q("SELECT resolved_at IS NOT NULL FROM raw._file_registry WHERE file_id = ?",
                [bad]) == [(True,)]
    # the operator decides the 2024 file is not needed
    assert release.dismiss_quarantine(wh.con, "garbage 2024.csv", "operator ivanova") == 1
    assert release.dismiss_quarantine(wh.con, "garbage 2024.csv", "again") == 0
    assert release.unresolved_quarantines(wh.con) == {}
    assert wh.q("SELECT resolution FROM raw._file_registry WHERE file_name = "
                "'garbage 2024.csv'") == [("решение оператора / operator decision: "
                                           "operator ivanova",)]
    assert release.plan_release(wh.con).held_back == {}
    assert wh.status()[("ege", 2024)] == ("current", None, False)


def test_a_changed_registry_of_schools_puts_every_slice_of_its_year_in_scope(wh):
    wh.land("schools", 2025, "reestr.csv", {})
    wh.land("schools", 2024, "reestr.csv", {})
    wh.land("vpr", 2025, "rus4.xlsx", RUS4)
    wh.land("vpr", 2025, "math5.xlsx", MATH5)
    wh.land("vpr", 2024, "rus4.xlsx", RUS4)
    wh.land("ege", 2025, "01.csv", {"source_subject_code": "01"})
    release.release_everything(wh.con)
    wh.land("schools", 2025, "reestr исправленный.csv", {})
    plan = release.plan_release(wh.con)
    assert plan.candidates == [("schools", 2025)]
    # results are attached through the registry: every 2025 slice, no 2024 one
    assert plan.scope == ["ege|2025", "schools|2025", "vpr|2025|математика|5",
                          "vpr|2025|русский язык|4"]
    # and held back, the previous registry comes back with the same slices to rebuild
    assert release.revert(wh.con, {("schools", 2025): "failing test"}) == plan.scope


def test_state_of_a_registry_from_before_the_release(wh):
    """Files registered before releases existed: released (their rows were read), their
    source × year is their build slice."""
    wh.con.execute("INSERT INTO raw._file_registry (file_id, source, academic_year, inbox_path, "
                   "file_name, size_bytes, mtime_ns, status, released, build_slice) VALUES "
                   "('x', 'olympiad', 2024, 'olympiad/2024/x.csv', 'x.csv', 1, 1, 'loaded', "
                   "true, NULL), ('q', 'olympiad', 2024, 'olympiad/2024/q.csv', 'q.csv', 1, 1, "
                   "'quarantined', false, NULL)")
    release.ensure_state(wh.con)
    assert dict(wh.q("SELECT file_id, build_slice FROM raw._file_registry")) == {
        "x": "olympiad|2024", "q": None}
    # an old registry without the release columns gets them, rows released as they were read
    con = duckdb.connect()
    con.execute(registry.DDL)
    con.execute("INSERT INTO raw._file_registry (file_id, source, academic_year, inbox_path, "
                "file_name, size_bytes, mtime_ns, status) VALUES ('l', 'ege', 2025, 'p', 'p', 1, "
                "1, 'loaded'), ('s', 'ege', 2025, 'p2', 'p2', 1, 1, 'superseded')")
    release.ensure_state(con)
    assert dict(con.execute("SELECT file_id, released FROM raw._file_registry").fetchall()) == {
        "l": True, "s": False}
    con.close()
    assert os.path.exists(wh.settings.warehouse_path)
