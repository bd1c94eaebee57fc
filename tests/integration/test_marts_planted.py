"""The indicator marts on the generated tier S against the generator's planted truths
(manifest.json: vpr_inflating_schools, low_results_schools, resilient_schools and the truths
of issue 21: vpr_leaked_answers, vpr_not_confirmed_schools, vpr_inflating_lookalikes,
olympiad_generous_schools; figures by rsoko_pipelines.demo.evaluate, the same code as
`rsoko demo evaluate`), plus the small-cell rule over every mart and region values
recomputed from participant rows;
and the management cycle (issue 19): the effects of planted measures and the
recommendations acted on;
and directions 4 and 9 (issue 18): neet_municipalities, additional_ed_coverage,
poor_climate_schools.

Work is shared: the landing (raw schema) of tier S is ingested once per machine and cached
next to the generated tier (`<cache>/tier-S-<seed>-landing-<sha>.duckdb`, keyed by the
manifest and the ingest/extract code, under a file lock; ingest_partition for every source and
year, without the GX validation, which has its own tests; then everything landed is released,
as the night's release step would: the models read released files only); each run copies it
and runs dbt (seeds, star, then `dbt build` of the
marts with their data tests). Figures are printed (pytest -s)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from tests._project import mart_names

from rsoko_pipelines.demo.evaluate import inflating_resilient, planted_figures
from rsoko_pipelines.reference import min_cell_size
from rsoko_pipelines.settings import DBT_PROJECT_DIR, SOURCES, Settings

sys.path.insert(0, str(Path(__file__).parents[1]))
from tests.conftest import CACHE_DIR, link_tree  # noqa: E402

DBT = str(Path(sys.executable).parent / "dbt")

# every DOUBLE column of a mart that is a rate or a mean of the row's own participants
# (the others are region-wide reference values, context variables or denominators)
NOT_PARTICIPANT_RATES = {
    "vpr_objectivity": {"region_p90_pct_raised", "region_mean_of_school_means",
                        "region_sd_of_school_means"},
    "low_results_schools": {"region_p75_results_z", "region_p75_results_score_z", "social_index"},
    "indicators": {"numerator", "denominator", "target"},
    "staff_profile": {"teacher_rate"},          # summed position rates (a size, not a rate)
    "olympiad_objectivity": {"region_mean_pct_awarded", "region_sd_pct_awarded",
                             "region_p10_municipal_success"},
}
# directions 6 and 7: the count the small-cell rule applies to, where it is not
# `participants` (persons: teachers, persons diagnosed); marts without a group of persons
CELL_COUNT = {"staff_profile": "teachers", "teacher_deficits": "diagnosed",
              "teacher_deficit_elements": "diagnosed",
              # directions 4 and 9 (issue 18)
              "graduate_destinations": "graduates", "career_guidance": "students_6_11",
              "additional_ed_coverage": "children_enrolled",
              "additional_ed_schools": "children_enrolled", "survey_results": "respondents",
              "survey_answers": "respondents", "school_climate": "respondents"}
# school_heads: one row per school (its staff_dpo_3y_pct is staff_profile's, suppressed
# there); dpo_unclassified_programmes: counts of documents only
NO_PERSON_GROUPS = {"school_heads", "dpo_unclassified_programmes"}

COUNTS_AND_FLAGS_ONLY = ("vpr_objectivity_schools", "olympiad_objectivity_schools")


def _settings(root: Path) -> Settings:
    return Settings(data_dir=root, inbox_dir=root / "inbox", archive_dir=root / "archive",
                    quarantine_dir=root / "quarantine",
                    warehouse_path=root / "warehouse" / "rsoko.duckdb",
                    published_dir=root / "published", reports_dir=root / "reports",
                    dagster_home=root / "dagster_home", secrets_dir=root / "secrets")


def landing_cache(generated: Path) -> Path:
    """The raw landing of a generated tier, ingested once (ingest_partition per source and
    year, schools first), released (release_everything) and cached by the checksum of the
    manifest and of the landing code."""
    from rsoko_pipelines.extract.pseudonym import Pseudonymizer
    from rsoko_pipelines.ingest.landing import ingest_partition
    from rsoko_pipelines.ingest.release import release_everything
    from rsoko_pipelines.ingest.warehouse import writer

    manifest = (generated / "manifest.json").read_bytes()
    # keyed by the generated files and by the code that lands them
    digest = hashlib.sha256(manifest)
    package = Path(ingest_partition.__code__.co_filename).parents[1]
    for path in sorted([*package.glob("ingest/*.py"), *package.glob("extract/*.py"),
                        *package.glob("extract/sources/*.yaml")]):
        digest.update(path.read_bytes())
    sha = digest.hexdigest()[:12]
    target = CACHE_DIR / f"{generated.name}-landing-{sha}.duckdb"
    with open(CACHE_DIR / f".{target.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if target.exists():
            return target
        work = CACHE_DIR / f"{target.name}.work"
        shutil.rmtree(work, ignore_errors=True)
        settings = _settings(work).ensure_dirs()
        link_tree(generated, settings.inbox_dir)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("RSOKO_PSEUDONYM_KEY", "test-key-not-secret")
            pseudonymizer = Pseudonymizer.from_env(settings.secrets_dir)
        years = json.loads(manifest)["years"]
        started = time.perf_counter()
        with writer(settings.warehouse_path) as con:
            for year in years:
                for source in SOURCES:
                    result = ingest_partition(con, settings, source, year, pseudonymizer,
                                              validate=False)
                    assert not result.quarantined, (source, year, result.quarantined[:3])
            plan = release_everything(con)
            delivered = {(f["source"], f["academic_year"])
                         for f in json.loads(manifest)["files"]}
            assert not plan.held_back and set(plan.candidates) == delivered
        print(f"\ntier S landing ingested in {time.perf_counter() - started:.0f}s")
        shutil.move(settings.warehouse_path, target)
        shutil.rmtree(work, ignore_errors=True)
    return target


def dbt(warehouse: Path, tmp: Path, *args: str) -> tuple[subprocess.CompletedProcess, float]:
    env = {**os.environ, "RSOKO_WAREHOUSE": str(warehouse),
           "DBT_TARGET_PATH": str(tmp / "target"), "DBT_LOG_PATH": str(tmp / "logs"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    started = time.perf_counter()
    proc = subprocess.run([DBT, *args], cwd=DBT_PROJECT_DIR, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc, time.perf_counter() - started


@pytest.fixture(scope="module")
def built(tier_s, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("marts_s")
    warehouse = tmp / "rsoko.duckdb"
    shutil.copy(landing_cache(tier_s), warehouse)
    _, t_seed = dbt(warehouse, tmp, "seed")
    _, t_star = dbt(warehouse, tmp, "run", "--select", "path:models/staging",
                    "path:models/intermediate", "path:models/core")
    proc, t_marts = dbt(warehouse, tmp, "build", "--select", "path:models/marts",
                        "path:tests/marts")
    summary = [line for line in proc.stdout.splitlines() if "Done. PASS=" in line]
    print(f"\ntier S dbt: seed {t_seed:.0f}s, star {t_star:.0f}s, marts build "
          f"{t_marts:.0f}s ({summary[-1].split('Done. ')[-1] if summary else '?'})")
    manifest = json.loads((tier_s / "manifest.json").read_text(encoding="utf-8"))
    return warehouse, manifest


@pytest.fixture(scope="module")
def con(built):
    c = duckdb.connect(str(built[0]), read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def figures(built, con):
    got = planted_figures(con, built[1])
    for figure in got.values():
        print("\n" + figure.line())
    return got


def test_vpr_objectivity_detects_planted_inflation(figures):
    """is_flagged (≥ 2 of five markers) finds the inflating schools (their look-alikes of
    resilient schools included) and the not-confirmed ones."""
    f = figures["ВПР objectivity (is_flagged)"]
    assert f.recall >= 0.9 and f.precision >= 0.8


def test_leaked_answers_found_by_task_inversion(figures):
    f = figures["leaked answers (task inversion)"]
    assert len(f.planted) >= 20
    assert f.recall >= 0.9 and f.precision >= 0.8


def test_not_confirmed_found_by_the_oge_of_the_same_subject(figures):
    f = figures["ВПР not confirmed by the ОГЭ"]
    assert len(f.planted) >= 20
    assert f.recall >= 0.9 and f.precision >= 0.8


def test_olympiad_stage_inflaters(figures):
    f = figures["olympiad school stage (is_flagged)"]
    assert len(f.planted) >= 20
    assert f.recall >= 0.9 and f.precision >= 0.8


def test_low_results_detects_planted_schools(figures):
    f = figures["low results (is_low_results)"]
    assert f.recall >= 0.9 and f.precision >= 0.9


def test_resilient_schools_against_planted(built, con, figures):
    """Resilience on objective scores (results_score_z in the region's top quartile, context
    quartile 1, ВПР not flagged) finds the planted resilient schools; every other school it
    calls resilient satisfies the contract's rule, so the mart is right by the contract."""
    f = figures["resilient (results_group)"]
    assert f.recall >= 0.9 and f.precision >= 0.8
    for row in con.execute("""
            SELECT academic_year, school_code, context_quartile, results_score_z,
                   region_p75_results_score_z, is_vpr_flagged, is_low_results
            FROM marts.low_results_schools WHERE results_group = 'резильентная'""").fetchall():
        assert row[2] == 1 and row[3] >= row[4] and not row[5] and not row[6], row


def test_no_inflating_school_is_resilient(built, con):
    """No planted inflating school-year is резильентная; the look-alikes (inflating, context
    quartile 1, ordinary ЕГЭ/ОГЭ) would mostly have been on failure shares."""
    got = inflating_resilient(con, built[1])
    print(f"\ninflating school-years резильентная: {len(got['inflating_resilient'])}; "
          f"look-alikes resilient on failure shares: "
          f"{len(got['lookalikes_resilient_on_failure_shares'])} of {len(got['lookalikes'])}")
    assert got["inflating_resilient"] == set()
    assert len(got["lookalikes_resilient_on_failure_shares"]) >= 0.5 * len(got["lookalikes"])


def _marts(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' "
        "ORDER BY 1").fetchall()]


# marts without participant-level rates: registry context, and the management cycle
# (recommendations word the figures of other marts; measure_effects aggregates school-level
# indicator values, themselves suppressed below the cell size)
WITHOUT_PARTICIPANTS = {"school_context", "recommendations", "measure_effects", "data_status"}


def test_no_rate_or_mean_exposed_for_small_cells(con):
    marts = _marts(con)
    assert set(marts) == mart_names(), marts
    min_cell = min_cell_size()                  # dbt_project.yml: rsoko:min_cell_size
    checked = 0
    for mart in marts:
        cols = dict(con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = 'marts' "
            "AND table_name = ?", [mart]).fetchall())
        assert not cols.keys() & {"participant_id", "participant_key", "participant_code",
                                  "staff_key", "child_key", "respondent_key"}
        if mart in NO_PERSON_GROUPS:
            continue
        participants = CELL_COUNT.get(mart, "participants")
        if participants not in cols:
            assert mart in WITHOUT_PARTICIPANTS, mart
            continue
        rates = [c for c, t in cols.items()
                 if t == "DOUBLE" and c not in NOT_PARTICIPANT_RATES.get(mart, set())]
        assert rates or mart in COUNTS_AND_FLAGS_ONLY, mart
        exposed = " OR ".join([f'"{c}" IS NOT NULL' for c in rates] or ["false"])
        small = con.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {exposed}), "
            f"count(*) FILTER (WHERE NOT is_suppressed) FROM marts.{mart} "
            f"WHERE {participants} < {min_cell}").fetchone()
        assert small[1:] == (0, 0), (mart, small)
        checked += small[0]
        big_suppressed = con.execute(f"SELECT count(*) FROM marts.{mart} WHERE {participants} "
                                     f">= {min_cell} AND is_suppressed").fetchone()[0]
        assert big_suppressed == 0, mart
    print(f"\nsmall cells checked: {checked} rows below {min_cell} participants, none exposed")
    assert checked > 100


def test_region_values_equal_participant_level(con):
    direct = con.execute("""
        SELECT academic_year, procedure, subject_code, grade,
               count(*) FILTER (WHERE is_result_of_record)                        AS n,
               count(*) FILTER (WHERE result_status IN ('removed', 'annulled'))   AS n_removed,
               avg(primary_score) FILTER (WHERE is_result_of_record)              AS mp,
               avg(test_score) FILTER (WHERE is_result_of_record AND procedure = 'EGE') AS mt,
               100.0 * count(*) FILTER (WHERE is_result_of_record AND is_failed)
                   / nullif(count(*) FILTER (WHERE is_result_of_record
                                             AND coalesce(test_score, mark) IS NOT NULL), 0)
                                                                                  AS pf
        FROM core.fct_assessment_result GROUP BY ALL ORDER BY ALL""").fetchall()
    mart = {r[:4]: r[4:] for r in con.execute("""
        SELECT academic_year, procedure, subject_code, grade, participants, n_removed,
               mean_primary_score, mean_test_score, pct_failed
        FROM marts.assessment_results WHERE level = 'region'""").fetchall()}
    assert len(mart) == len(direct)
    for row in direct:
        key, (n, n_removed, mp, mt, pf) = row[:4], row[4:]
        got = mart[key]
        assert got[:2] == (n, n_removed), key
        if n >= 5:
            assert got[2] == pytest.approx(mp, rel=1e-9), key
            # НИКО forms with primary scores only have no mark shares (NULL, not 0)
            assert got[4] == (None if pf is None else pytest.approx(pf, rel=1e-9)), key
            if mt is not None:
                assert got[3] == pytest.approx(mt, rel=1e-9), key
    # and a school-size-weighted mean differs from the mean of school means somewhere
    gap = con.execute("""
        SELECT max(abs(r.mean_primary_score - s.mean_of_means)) FROM marts.assessment_results r
        JOIN (SELECT academic_year, procedure, subject_code, grade,
                     avg(mean_primary_score) AS mean_of_means
              FROM marts.assessment_results WHERE level = 'school' GROUP BY ALL) s
          USING (academic_year, procedure, subject_code, grade)
        WHERE r.level = 'region'""").fetchone()[0]
    assert gap > 0.1
    # literacy and ВПР task mastery: the region from participant rows too
    lit = con.execute("""
        SELECT count(*) FROM (
            SELECT academic_year, domain, count(*) AS n, avg(score) AS m
            FROM core.fct_literacy_result GROUP BY ALL) d
        JOIN marts.literacy_results l USING (academic_year, domain)
        WHERE l.level = 'region' AND (l.participants <> d.n OR abs(l.mean_score - d.m) > 1e-9)
        """).fetchone()[0]
    assert lit == 0
    tasks = con.execute("""
        SELECT count(*) FROM (
            SELECT academic_year, procedure, subject_code, grade, task_order,
                   count(*) AS n, avg(points) AS m
            FROM core.fct_task_score WHERE is_result_of_record AND points IS NOT NULL
              AND procedure = 'VPR' GROUP BY ALL) d
        JOIN marts.task_mastery t USING (academic_year, procedure, subject_code, grade, task_order)
        WHERE t.level = 'region' AND (t.participants <> d.n OR abs(t.mean_points - d.m) > 1e-9)
        """).fetchone()[0]
    assert tasks == 0


def test_every_indicator_has_region_values_each_year(con):
    missing = con.execute("""
        SELECT c.indicator_code, y.academic_year FROM reference.indicator_catalogue c
        CROSS JOIN (SELECT DISTINCT academic_year FROM core.fct_assessment_result) y
        WHERE NOT EXISTS (SELECT 1 FROM marts.indicators i WHERE i.level = 'region'
                          AND i.indicator_code = c.indicator_code
                          AND i.academic_year = y.academic_year AND i.value IS NOT NULL)
        ORDER BY 1, 2""").fetchall()
    first_year = con.execute("SELECT min(academic_year) FROM core.fct_assessment_result").fetchone()[0]
    years = [r[0] for r in con.execute("SELECT DISTINCT academic_year FROM "
                                       "core.fct_assessment_result ORDER BY 1").fetchall()]
    # the exit share needs the previous year; HEAD_RESULTS_GAIN_PCT needs a head in post for
    # 2 years whose appointment's previous year is loaded: 4 years at least (tier S has 3);
    # the recommendations acted on, last year's recommendations; the measures' effect,
    # t − 1 and t + 1 (first evaluated in the 3rd year)
    assert missing == sorted([("LOW_RESULTS_EXIT_PCT", first_year),
                              ("MEASURE_EFFECT_POSITIVE_PCT", first_year),
                              ("MEASURE_EFFECT_POSITIVE_PCT", first_year + 1),
                              ("RECOMMENDATIONS_ACTED_PCT", first_year)]
                             + [("HEAD_RESULTS_GAIN_PCT", y) for y in years]), missing
    for code, year, value in con.execute(
            "SELECT indicator_code, academic_year, value FROM marts.indicators "
            "WHERE level = 'region' ORDER BY 1, 2").fetchall():
        print(f"{code:32s} {year} {'-' if value is None else f'{value:10.3f}'}")


# ---------------------------------------------------------------------------------------
# Directions 6 and 7 (issue 17): the planted truths of demo/staff_model.py
def test_municipality_deficit_shares_match_planted(built, con):
    """TEACHER_DEFICIT_PCT per municipality (persons once) equals the share the generator
    wrote (manifest `deficit_shares`: its own count by the contract's rule) within 0.5 pp."""
    planted = built[1]["deficit_shares"]
    got = {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT academic_year, municipality_code, value, denominator FROM marts.indicators "
        "WHERE indicator_code = 'TEACHER_DEFICIT_PCT' AND level = 'municipality'").fetchall()}
    worst, compared = 0.0, 0
    for t in planted:
        value, diagnosed = got[(t["academic_year"], t["municipality_code"])]
        assert diagnosed == t["diagnosed"], t
        if t["diagnosed"] >= 5:
            worst = max(worst, abs(value - t["share_pct"]))
            compared += 1
    print(f"\nmunicipality deficit shares: {compared} compared, max |Δ| = {worst:.6f} pp "
          f"(planted propensities {min(t['planted_propensity_pct'] for t in planted):.1f}–"
          f"{max(t['planted_propensity_pct'] for t in planted):.1f} %)")
    assert compared >= 40 and worst <= 0.5


def test_targeted_dpo_counts_exact(built, con):
    """teacher_deficits.targeted_dpo at region level equals the generator's count of persons
    whose deficit in a block was followed within 12 months by a ДПО document addressing it
    (manifest `targeted_dpo`, per year × diagnostic × block and `все`), exactly."""
    planted = {(t["academic_year"], t["diagnostic"], t["block"]): t["targeted_dpo"]
               for t in built[1]["targeted_dpo"]}
    got = {(r[0], r[1], r[2]): r[3] for r in con.execute(
        "SELECT academic_year, diagnostic, block, targeted_dpo FROM marts.teacher_deficits "
        "WHERE level = 'region'").fetchall()}
    wrong = {k: (v, got.get(k)) for k, v in planted.items() if got.get(k) != v}
    extra = {k: v for k, v in got.items() if v and k not in planted}
    total = sum(v for k, v in planted.items() if k[2] == "все")
    print(f"\ntargeted ДПО: {len(planted)} planted counts ({total} persons in `все`), "
          f"{len(wrong)} differ, {len(extra)} unplanted")
    assert total > 500 and not wrong and not extra, (list(wrong.items())[:5], extra)


def report(name, predicted, planted) -> tuple[float, float]:
    """Recall and precision of a predicted set against the planted one, printed (pytest -s)."""
    hits = len(predicted & planted)
    recall = hits / len(planted) if planted else 1.0
    precision = hits / len(predicted) if predicted else 1.0
    print(f"\n{name}: planted {len(planted)}, detected {len(predicted)}, "
          f"recall {recall:.3f}, precision {precision:.3f}")
    return recall, precision


def test_head_turnarounds_detected(built, con):
    """Heads appointed to low-results schools: those whose school left the low-results set
    with results_z up are found (recall ≥ 0.9, precision ≥ 0.8); those whose school stayed
    low-results are not. A head is judged in the last loaded year (the manifest's year): the
    same head in an earlier year is the same head, not another detection."""
    manifest = built[1]
    last = max(manifest["years"])
    planted = {(t["academic_year"], t["school_code"], t["head_since"])
               for t in manifest["head_turnarounds"]}
    stayed = {(t["academic_year"], t["school_code"], t["head_since"])
              for t in manifest["heads_not_turned_around"]}
    rows = con.execute(
        "SELECT academic_year, school_code, head_since FROM marts.school_heads "
        "WHERE was_low_results_at_appointment AND NOT is_low_results_now "
        "AND results_z_change > 0").fetchall()
    predicted = {(y, s, d.isoformat()) for y, s, d in rows if y == last}
    earlier = sorted((y, s, d.isoformat()) for y, s, d in rows if y != last)
    recall, precision = report("head turnarounds", predicted, planted)
    print(f"  the same predicate in earlier years: {earlier}")
    assert planted and recall >= 0.9 and precision >= 0.8
    assert not predicted & stayed
    # a head seen earlier is one of the planted heads (their school turned around sooner)
    assert {(s, d) for _, s, d in earlier} <= {(s, d) for _, s, d in planted}
    seen = {(r[0], r[1], r[2].isoformat()) for r in con.execute(
        "SELECT academic_year, school_code, head_since FROM marts.school_heads "
        "WHERE was_low_results_at_appointment").fetchall()}
    print(f"  heads appointed to low-results schools found: {len(seen & (planted | stayed))} "
          f"of {len(planted | stayed)} planted")
    assert len(seen & stayed) >= 0.9 * len(stayed)


def _planted_effect(built, con, role) -> tuple[dict, dict]:
    truth = next(e for e in built[1]["management_cycle"]["effects"] if e["role"] == role)
    cur = con.execute(
        "SELECT * FROM marts.measure_effects WHERE academic_year = ? AND measure_kind = ? "
        "AND target_indicator = ? AND level = 'school'",
        [truth["academic_year"], truth["measure_kind"], truth["target_indicator"]])
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, rows
    row = dict(zip(names, rows[0]))
    print(f"\n{role}: {truth['measure_kind']} → {truth['target_indicator']} "
          f"(planted {truth['effect_sd']} SD): treated {row['treated']} of {len(truth['schools'])}, "
          f"comparison {row['comparison']} in {row['cells']} cells; naive before/after "
          f"{row['mean_change_treated']:+.3f}, comparison {row['mean_change_comparison']:+.3f}, "
          f"effect {row['effect']:+.3f} [{row['ci_low']:+.3f}; {row['ci_high']:+.3f}], "
          f"conclusive {row['is_conclusive']}")
    assert row["status"] == "рассчитан" and row["treated"] >= 10 and row["comparison"] >= 10
    return truth, row


def test_planted_positive_effect_is_conclusive(built, con):
    truth, row = _planted_effect(built, con, "positive")
    assert truth["expected_sign"] == 1
    assert row["is_conclusive"] and row["ci_low"] > 0 and row["effect"] > 0
    assert row["is_improvement"]                # VPR_BASIC_PCT: up is better


def test_planted_null_effect_is_not_conclusive(built, con):
    _truth, row = _planted_effect(built, con, "null")
    assert not row["is_conclusive"] and row["ci_low"] < 0 < row["ci_high"]


def test_self_selection_trap_matched_closer_than_naive(built, con):
    """The trap's schools come from a context group that improves anyway (the manifest's
    trend cells); the measure does nothing (truth 0). The naive before/after of the treated
    sees the trend, the comparison of the same cells removes it."""
    truth, row = _planted_effect(built, con, "self_selection_trap")
    naive, matched = row["mean_change_treated"], row["effect"]
    print(f"self-selection trap: truth 0, naive before/after {naive:+.3f}, matched {matched:+.3f}")
    assert truth["effect_sd"] == 0
    assert abs(matched) < abs(naive)
    assert naive > 0 and not row["is_conclusive"]


def _acted_truth(measures: list[dict], kind, level, msu, school, year) -> bool:
    """A measure of that kind for that target started from 1 September of the year to
    31 August of the next (the manifest's register, independent of the SQL)."""
    start, end = f"{year}-09-01", f"{year + 1}-09-01"
    return any(m["measure_kind"] == kind and m["level"] == level
               and (m["school_code"] == school if level == "school"
                    else m["municipality_code"] == msu)
               and start <= m["start_date"] < end for m in measures)


def test_recommendations_acted_on_equal_the_planted_truth(built, con):
    cycle = built[1]["management_cycle"]
    last_year = max(built[1]["years"])
    rows = con.execute(
        "SELECT academic_year, level, municipality_code, school_code, rule_code, "
        "suggested_measure_kind, acted_on, acted_measure_code FROM marts.recommendations"
    ).fetchall()
    decided = [r for r in rows if r[6] is not None]
    assert {r[0] for r in rows if r[6] is None} == {last_year}   # its window is not loaded
    wrong = [r for r in decided
             if r[6] != _acted_truth(cycle["measures"], r[5], r[1], r[2], r[3], r[0])]
    acted = sum(r[6] for r in decided)
    print(f"\nrecommendations: {len(rows)}, decided {len(decided)}, acted on {acted}, "
          f"disagreeing with the manifest {len(wrong)}")
    assert wrong == []
    assert 10 <= acted < len(decided)
    # the planted answers to R2.1 / R5.x meet their recommendation (in window: acted on)
    answers = [m for m in cycle["measures"] if m["answers"] and m["role"] == "answer"]
    found = {(r[0], r[3], r[4]): r[6] for r in rows}
    met = [found.get((int(m["answers"].split()[1]), m["school_code"], m["answers"].split()[0]))
           for m in answers]
    print(f"planted answers in the window: {len(answers)}, their recommendation found "
          f"{sum(v is not None for v in met)}, acted on {sum(bool(v) for v in met)}")
    assert sum(bool(v) for v in met) >= 0.8 * len(answers)
    # late answers and other kinds leave their recommendation not acted on
    for m in (m for m in cycle["measures"] if m["role"] in ("answer_late", "answer_other_kind")):
        rule, year = m["answers"].split()
        assert found.get((int(year), m["school_code"], rule)) in (False, None), m


def test_recommendations_read_as_written(con):
    rows = con.execute("SELECT rule_code, recommendation, evidence FROM marts.recommendations"
                       ).fetchall()
    assert rows and all("{" not in t and "{" not in e and e.endswith(".") for _, t, e in rows)
    for rule, text, evidence in con.execute(
            "SELECT rule_code, recommendation, evidence FROM marts.recommendations "
            "WHERE academic_year = 2025 QUALIFY row_number() OVER (PARTITION BY rule_code "
            "ORDER BY length(evidence), school_code) = 1 ORDER BY rule_code").fetchall():
        print(f"\n{rule}: {text}\n    {evidence}")


# ------------------------------------------------------------ directions 4 and 9 (issue 18)
def test_coverage_per_municipality_equals_the_planted_value(built, con):
    """Each child once, by residence, aged 5–18 by year of birth, applications and children
    outside the band left out: the mart's coverage is the planted one exactly."""
    planted = {(d["academic_year"], d["msu_code"]): d for d in built[1]["additional_ed_coverage"]}
    got = {(r[0], r[1]): r[2:] for r in con.execute(
        "SELECT academic_year, municipality_code, children_enrolled, population, coverage_pct "
        "FROM marts.additional_ed_coverage WHERE level = 'municipality' AND age_band = '5-18' "
        "AND focus_code = 'all'").fetchall()}
    assert set(got) == set(planted)
    worst = 0.0
    for key, d in planted.items():
        children, population, pct = got[key]
        assert (children, population) == (d["children_5_18"], d["population_5_18"]), key
        assert pct == pytest.approx(d["coverage_pct"], abs=1e-9), key
        worst = max(worst, abs(pct - d["coverage_pct"]))
    region = con.execute("SELECT academic_year, children_enrolled, population FROM "
                         "marts.additional_ed_coverage WHERE level = 'region' AND "
                         "age_band = '5-18' AND focus_code = 'all'").fetchall()
    for year, children, population in region:
        assert children == sum(d["children_5_18"] for (y, _), d in planted.items() if y == year)
        assert population == sum(d["population_5_18"] for (y, _), d in planted.items()
                                 if y == year)
    print(f"\ncoverage 5-18: {len(planted)} municipality-years equal the planted value "
          f"(largest difference {worst:.1e} pp); planted range "
          f"{min(d['coverage_pct'] for d in planted.values()):.2f}–"
          f"{max(d['coverage_pct'] for d in planted.values()):.2f} %")


def test_neet_municipalities_found(built, con):
    planted = {(d["academic_year"], d["msu_code"]) for d in built[1]["neet_municipalities"]}
    predicted = set(con.execute(
        "SELECT DISTINCT academic_year, municipality_code FROM marts.graduate_destinations "
        "WHERE level = 'municipality' AND is_high_neet").fetchall())
    recall, precision = report("NEET municipalities (is_high_neet, any cohort)", predicted,
                               planted)
    assert recall >= 0.9 and precision >= 0.8


def test_poor_climate_schools_found(built, con):
    planted = {(int(d["academic_year"]), d["school_code"])
               for d in built[1]["poor_climate_schools"]}
    predicted = set(con.execute(
        "SELECT academic_year, school_code FROM marts.school_climate WHERE level = 'school' "
        "AND questionnaire = 'все' AND is_poor_climate").fetchall())
    recall, precision = report("poor-climate schools (school_climate.is_poor_climate)",
                               predicted, planted)
    assert recall >= 0.9 and precision >= 0.8


def test_three_respondent_school_and_niko_sample_rules(built, con):
    for d in built[1]["survey_three_respondent_schools"]:
        rows = con.execute(
            "SELECT respondents, is_suppressed, pct_positive FROM marts.survey_results WHERE "
            "academic_year = ? AND school_code = ?", [d["academic_year"], d["school_code"]]
        ).fetchall()
        assert rows and all(r[0] <= 3 and r[1] and r[2] is None for r in rows), d
    # НИКО: region rows; municipality rows only with ≥ 10 works of record; never a school
    bad = con.execute("""
        SELECT count(*) FILTER (WHERE a.level = 'school'),
               count(*) FILTER (WHERE a.level = 'municipality' AND a.participants < 10),
               count(*) FILTER (WHERE NOT a.is_sample),
               count(*) FILTER (WHERE a.level = 'region')
        FROM marts.assessment_results a WHERE a.procedure = 'NIKO'""").fetchone()
    assert bad[:3] == (0, 0, 0) and bad[3] > 0, bad
    hidden = con.execute("""
        SELECT count(*) FROM (
            SELECT academic_year, subject_code, grade, msu_code, count(*) AS n
            FROM core.fct_assessment_result WHERE procedure = 'NIKO' AND is_result_of_record
            GROUP BY ALL HAVING count(*) < 10)""").fetchone()[0]
    assert hidden > 0      # the sample leaves small municipalities: their rows are hidden
    for mart in ("vpr_objectivity", "vpr_objectivity_schools", "low_results_schools"):
        cols = {r[0] for r in con.execute("SELECT column_name FROM duckdb_columns() WHERE "
                                          "schema_name = 'marts' AND table_name = ?",
                                          [mart]).fetchall()}
        if "procedure" in cols:
            assert con.execute(f"SELECT count(*) FROM marts.{mart} WHERE procedure = 'NIKO'"
                               ).fetchone()[0] == 0, mart

