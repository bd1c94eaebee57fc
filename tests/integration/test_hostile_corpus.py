"""The hostile corpus (rsoko_pipelines/demo/hostile.py) through the real Dagster landing.

A base inbox (both registries of schools and a few result files of the demo tier XS) is
landed first; then every case of the corpus is dropped into the same inbox and the raw
assets run again, one Dagster run for every year (as a night lands a source). Per case:
loaded with the stated rows and values, quarantined with a JSON/HTML report naming the file,
the line or column and what to do, recognised as a duplicate, or left alone. Across the
corpus: no crash (the only failed steps are those that quarantined a file, after failing
its column check), the
rows of the base files unchanged, no formula in any landing table, no row lost.

Formula injection (``=HYPERLINK(…)``, ``=cmd|…``, ``@…``, ``-…+cmd|…``): decided *quarantine*,
not neutralise — a neutralised value would differ from the source system (see
rsoko_pipelines/extract/cells.py); the last assertion proves none reached a table.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import dagster as dg

from tests.conftest import generated_tier

TIER = "XS"          # the smallest tier with every source and two years
FORMULA_SQL = r'^(?:[=@＝＠]|[+\-−].*[\pL(|!=@"])'


def _materialize(sources=None) -> list:
    """The landing steps of the sources in one run (every year of each source)."""
    from rsoko_pipelines.orchestration.raw_assets import build_raw_asset
    from rsoko_pipelines.settings import SOURCES

    instance = dg.DagsterInstance.get()
    assets = [build_raw_asset(s) for s in sources or SOURCES]
    return [dg.materialize(assets, instance=instance, raise_on_error=False)]


def _crashes(results) -> list[str]:
    """Failed steps that did not fail because they quarantined a file (after failing one of
    its checks), and any retried step: crashes."""
    out = []
    for result in results:
        failed_checks = {e.asset_key.path[-1] for e in result.get_asset_check_evaluations()
                         if not e.passed}
        for event in result.get_step_failure_events():
            source = event.step_key.removeprefix("raw__")
            data = event.step_failure_data
            why = data.user_failure_data.description if data.user_failure_data else ""
            if source not in failed_checks or f"file(s) of {source} quarantined" not in why:
                error = data.error
                out.append(f"{event.step_key}: {error and error.cls_name}: "
                           f"{(error and error.message or why)[:300]}")
        out += [f"{e.step_key}: retried" for e in result.all_events
                if e.event_type_value == "STEP_UP_FOR_RETRY"]
    return out


def _base_checksums(con, file_ids: list[str]) -> dict:
    """Per landing table: (rows, xor and sum of row hashes) over the base files' rows."""
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name='raw' "
        "AND NOT starts_with(table_name, '_') ORDER BY 1").fetchall()]
    return {t: con.execute(
        f"SELECT count(*), coalesce(bit_xor(hash(t)), 0), coalesce(sum(hash(t)::HUGEINT), 0) "
        f"FROM raw.{t} t WHERE _file_id IN (SELECT unnest(?::VARCHAR[]))", [file_ids]).fetchone()
        for t in tables}


def _formulas_in_tables(con) -> list[str]:
    found = []
    for table, column, type_ in con.execute(
            "SELECT table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name='raw' AND data_type IN ('VARCHAR', 'VARCHAR[]')").fetchall():
        test = (f'regexp_matches("{column}", ?)' if type_ == "VARCHAR" else
                f'len(list_filter("{column}", lambda x: regexp_matches(x, ?))) > 0')
        n, = con.execute(f"SELECT count(*) FROM raw.{table} WHERE {test}",
                         [FORMULA_SQL]).fetchone()
        if n:
            found.append(f"raw.{table}.{column}: {n}")
    return found


class Verdicts:
    """Collects every case's problems so one run reports all of them at once."""

    def __init__(self, con, settings, corpus: Path, ids: dict[str, str]):
        self.con, self.settings, self.corpus, self.ids = con, settings, corpus, ids
        self.problems: list[str] = []
        self.rows_expected = self.rows_landed = 0

    def fail(self, case, text: str) -> None:
        self.problems.append(f"{case.id}: {text}")

    def registry(self, file_id: str) -> dict | None:
        cur = self.con.execute("SELECT * FROM raw._file_registry WHERE file_id = ?", [file_id])
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def sighted(self, rel: str) -> bool:
        return bool(self.con.execute("SELECT count(*) FROM raw._file_sightings WHERE "
                                     "inbox_path = ?", [rel]).fetchone()[0])

    def check(self, case) -> None:
        getattr(self, "_" + case.expect)(case)

    def _load(self, case) -> None:
        file_id = self.ids[case.paths[0]]
        row = self.registry(file_id)
        self.rows_expected += case.rows
        if row is None or row["status"] != "loaded":
            return self.fail(case, f"expected loaded, registry says {row and row['status']}: "
                                   f"{row and row['message']}")
        loaded_as = [p for p in case.paths if p == row["inbox_path"]]
        dupes = [p for p in case.paths if p != row["inbox_path"] and self.sighted(p)]
        if len(loaded_as) != 1 or len(dupes) != case.duplicates:
            self.fail(case, f"loaded as {loaded_as}, duplicates {dupes}")
        landed = self.con.execute(f"SELECT count(*) FROM raw.{case.source} WHERE _file_id = ?",
                                  [file_id]).fetchone()[0]
        self.rows_landed += landed
        if row["rows"] != case.rows or landed != case.rows:
            self.fail(case, f"rows: registry {row['rows']}, landed {landed}, expected {case.rows}")
        for expr, value in case.values.items():
            got = self.con.execute(f"SELECT {expr} FROM raw.{case.source} WHERE _file_id = ?",
                                   [file_id]).fetchone()[0]
            if got != value:
                self.fail(case, f"{expr} = {got!r}, expected {value!r}")

    def _quarantine(self, case) -> None:
        rel = case.paths[0]
        row = self.registry(self.ids[rel])
        if row is None or row["status"] != "quarantined":
            return self.fail(case, f"expected quarantined, registry: {row}")
        message = row["message"] or ""
        report_json = Path(row["report_path"]).with_suffix(".json")
        if not (Path(row["report_path"]).is_file() and report_json.is_file()):
            return self.fail(case, f"report missing next to {row['archive_path']}")
        report = json.loads(report_json.read_text(encoding="utf-8"))
        checks = [p["check"] for p in report["problems"]]
        if case.check not in checks:
            return self.fail(case, f"check {case.check} not in {checks}: {message}")
        problem = report["problems"][checks.index(case.check)]
        text = json.dumps(report, ensure_ascii=False) + message
        for fragment in [rel, "What to do", *case.message]:
            if fragment not in text and fragment.replace("«", "").replace("»", "") not in text:
                self.fail(case, f"{fragment!r} not in the report: {message}")
        if rel not in message or "What to do" not in message:
            self.fail(case, f"the registry message does not name the file and what to do: "
                            f"{message}")
        if case.lines and case.lines[0] not in problem["rows"]:
            self.fail(case, f"line {case.lines[0]} not in {problem['rows']}")
        if re.search(r"«_[a-z]|column _[a-z]", message):
            self.fail(case, f"an internal column name reaches the operator: {message}")
        if (self.settings.inbox_dir / rel).exists() or (self.settings.inbox_dir / rel).is_symlink():
            self.fail(case, "still in the inbox")
        moved = Path(row["archive_path"])
        if not (moved.is_symlink() or moved.read_bytes() == (self.corpus / rel).read_bytes()):
            self.fail(case, "the quarantined copy differs from the file dropped")

    def _duplicate(self, case) -> None:
        rel = case.paths[0]
        row = self.registry(self.ids[rel])
        if row is None or row["inbox_path"] == rel or not self.sighted(rel):
            self.fail(case, f"expected a duplicate of an earlier file, registry: {row}")

    def _ignore(self, case) -> None:
        rel = case.paths[0]
        n = self.con.execute("SELECT count(*) FROM raw._file_registry WHERE inbox_path = ?",
                             [rel]).fetchone()[0]
        if n or self.sighted(rel) or not (self.settings.inbox_dir / rel).exists():
            self.fail(case, "expected to be left alone in the inbox")


def test_hostile_corpus_through_dagster(rsoko_env, tmp_path):
    from rsoko_pipelines.demo.hostile import build_corpus, install_corpus, select_base
    from rsoko_pipelines.ingest.registry import file_id_of
    from rsoko_pipelines.ingest.warehouse import connect

    settings = rsoko_env
    tier = generated_tier(TIER)
    base = select_base(tier)
    for rel in base:
        (settings.inbox_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        os.link(tier / rel, settings.inbox_dir / rel)
    assert all(r.success for r in _materialize()), "the base inbox must load"
    base_ids = [hashlib.sha256((tier / rel).read_bytes()).hexdigest() for rel in base]
    con = connect(settings.warehouse_path, read_only=True)
    before = _base_checksums(con, base_ids)
    con.close()
    assert before["schools"][0] > 0 and before["ege"][0] > 0

    # the results first, all cases in one run; then the registries of schools in a run of
    # their own (a broken one would hold back the results of its year)
    corpus = tmp_path / "corpus"
    cases = build_corpus(tier, corpus)
    results_sources = sorted({c.source for c in cases} - {"schools"})
    install_corpus(corpus, settings.inbox_dir, results_sources)
    results = _materialize()
    install_corpus(corpus, settings.inbox_dir, ["schools"])
    results += _materialize(["schools"])
    ids = {rel: file_id_of(corpus / rel) for c in cases for rel in c.paths
           if not (corpus / rel).is_dir()}

    crashes = _crashes(results)
    con = connect(settings.warehouse_path, read_only=True)
    try:
        verdicts = Verdicts(con, settings, corpus, ids)
        for case in cases:
            verdicts.check(case)
        internal = con.execute("SELECT inbox_path FROM raw._file_registry "
                               "WHERE message LIKE '%internal_error%'").fetchall()
        after = _base_checksums(con, base_ids)
        formulas = _formulas_in_tables(con)
        base_status = con.execute(
            "SELECT count(*) FROM raw._file_registry WHERE status = 'loaded' "
            "AND file_id IN (SELECT unnest(?::VARCHAR[]))", [base_ids]).fetchone()[0]
    finally:
        con.close()

    assert not verdicts.problems, "\n".join(verdicts.problems)
    assert not crashes and not internal, (crashes, internal)
    assert {t: after[t] for t in before} == before, "rows of the base files changed"
    assert base_status == len(base), "a base file lost its 'loaded' status"
    assert not formulas, f"formula text reached a landing table: {formulas}"
    # summary: enough cases, every outcome kind, nothing crashed, no row lost
    kinds = {c.expect for c in cases}
    assert len(cases) >= 25 and kinds == {"load", "quarantine", "duplicate", "ignore"}
    assert verdicts.rows_landed == verdicts.rows_expected > 0
    quarantined = sum(c.expect == "quarantine" for c in cases)
    print(f"\nhostile corpus: {len(cases)} cases, {sum(c.expect == 'load' for c in cases)} "
          f"loaded ({verdicts.rows_landed:,} rows), {quarantined} quarantined, crashes 0, "
          f"rows lost 0")
