"""The management cycle (issue 19) on a hand-made landing (tests/integration/
_measures_fixture.py) with a real `dbt build`: the difference in differences of
marts.measure_effects (the comparison group, the t−1 → t+1 window, the waiting status),
its seeded bootstrap interval (recomputed here from the same hash draws; two builds give
identical tables), and acted_on of marts.recommendations. Every expected number is computed
by hand from the fixture's tables (the arithmetic is in comments)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pytest

from rsoko_pipelines.settings import DBT_PROJECT_DIR

sys.path.insert(0, str(Path(__file__).parent))
from _measures_fixture import CODE, K, build_landing  # noqa: E402

DBT = str(Path(sys.executable).parent / "dbt")
SEED, REPLICATES = 20250607, 1000          # dbt_project.yml: rsoko:measure_effect_*


def dbt(warehouse: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "RSOKO_WAREHOUSE": str(warehouse),
           "DBT_TARGET_PATH": str(tmp / "target"), "DBT_LOG_PATH": str(tmp / "logs"),
           "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    proc = subprocess.run([DBT, *args], cwd=DBT_PROJECT_DIR, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    return proc


def effects_table(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as c:
        return c.execute("SELECT * FROM marts.measure_effects ORDER BY ALL").fetchall()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("measures")
    warehouse = tmp / "rsoko.duckdb"
    build_landing(warehouse)
    dbt(warehouse, tmp, "build")               # seeds, star, marts and every data test
    first = effects_table(warehouse)
    dbt(warehouse, tmp, "run", "--select", "measure_effects")   # a second build
    return warehouse, tmp, first


@pytest.fixture(scope="module")
def con(built):
    c = duckdb.connect(str(built[0]), read_only=True)
    yield c
    c.close()


def effect_row(con, year, kind, indicator="OGE_FAIL_PCT") -> dict:
    cur = con.execute("SELECT * FROM marts.measure_effects WHERE academic_year = ? AND "
                      "measure_kind = ? AND target_indicator = ? AND level = 'school'",
                      [year, kind, indicator])
    names = [d[0] for d in cur.description]
    rows = cur.fetchall()
    assert len(rows) == 1, rows
    return dict(zip(names, rows[0]))


def approx(x):
    return pytest.approx(x, abs=1e-9)


def test_difference_in_differences_exact(con):
    r = effect_row(con, 2024, K)
    # targets: T1, T2, T3 (31.08.2024 is still 2023/24), T4, T5 = 5; T4 has no comparison in
    # its cell (село, 100–500, квартиль 1), T5 no ОГЭ in 2025: treated T1, T2, T3
    assert (r["status"], r["targets"], r["treated"], r["cells"]) == ("рассчитан", 5, 3, 2)
    # comparison: квартиль 4 — C1, C2, C6 (its measure ended 31.05.2022, before t−1 began);
    # квартиль 3 — C3, C5 (under another kind); not C4 (K ongoing since 01.10.2022), not C7
    # (село, <100), not the schools of cells without treated (квартили 1, 2)
    assert r["comparison"] == 5
    # before (2023): T1 50, T2 40, T3 60; after (2025): 20, 30, 30. 2024 (T1 0, T2 90) is
    # skipped: the window is t−1 → t+1
    assert r["mean_before_treated"] == approx(50.0)
    assert r["mean_after_treated"] == approx(80.0 / 3)
    assert r["mean_change_treated"] == approx(-70.0 / 3)           # (−30 − 10 − 30) / 3
    # cell means: квартиль 4 (0 − 10 − 20) / 3 = −10, квартиль 3 (−10 + 10) / 2 = 0;
    # weighted like the treated: (−10 − 10 + 0) / 3
    assert r["mean_change_comparison"] == approx(-20.0 / 3)
    assert r["effect"] == approx(-50.0 / 3)
    assert r["desired_direction"] == "down"
    assert r["is_conclusive"] is False and r["is_improvement"] is False   # 3 < 10 treated
    assert r["conclusion"].startswith("мало целей для вывода")


def test_comparison_excludes_only_the_same_kind(con):
    # «наставничество» from 01.11.2023 at C5 (квартиль 3, 40 → 50: +10); its comparison is
    # T3 (−30), C3 (−10) and C4 (−50): under «методическое сопровождение», not under this kind
    r = effect_row(con, 2024, "наставничество")
    assert (r["treated"], r["comparison"], r["cells"]) == (1, 3, 1)
    assert r["mean_change_comparison"] == approx(-30.0)
    assert r["effect"] == approx(40.0)


def test_waiting_and_missing_years(con):
    rows = {(y, k): (s, e, c, t) for y, k, s, e, c, t in con.execute(
        "SELECT academic_year, measure_kind, status, effect, is_conclusive, treated "
        "FROM marts.measure_effects WHERE target_indicator = 'OGE_FAIL_PCT'").fetchall()}
    # started 01.09.2024 (X1, K; T1, сетевое взаимодействие): t = 2025, t+1 = 2026 not loaded
    assert rows[(2025, K)] == ("ожидает данных t+1", None, False, 0)
    assert rows[(2025, "сетевое взаимодействие")] == ("ожидает данных t+1", None, False, 0)
    # C6 (started 2021/22) and C4 (2022/23): no results before the measure
    assert rows[(2022, K)][0] == rows[(2023, K)][0] == "нет данных t−1"
    assert len(rows) == 6


def _draws(con, group: tuple, arm: str, stratum: str, n: int) -> list[list[int]]:
    """k[replicate, j] exactly as the model draws it."""
    t, kind, indicator, level = group
    return [row[0] for row in con.execute(
        "SELECT list((hash(?::INTEGER, r, ?::INTEGER, ?, ?, ?, ?, ?, j) % ?::UBIGINT)::BIGINT "
        "ORDER BY j) FROM range(?) AS a(r), range(?) AS b(j) GROUP BY r ORDER BY r",
        [SEED, t, kind, indicator, level, arm, stratum, n, REPLICATES, n]).fetchall()]


def test_bootstrap_interval_recomputed_from_the_hash_draws(con):
    """The 95 % interval: in each replicate the treated (3 of 3) and each cell's comparison
    (3 of 3, 2 of 2) are redrawn with replacement; draw j of a stratum is the target numbered
    hash(seed, replicate, group, arm, stratum, j) mod n (targets numbered by code)."""
    group = (2024, K, "OGE_FAIL_PCT", "school")
    q4, q3 = "город, 100–500, квартиль 4", "город, 100–500, квартиль 3"
    treated = [(CODE["T1"], q4, -30.0), (CODE["T2"], q4, -10.0), (CODE["T3"], q3, -30.0)]
    comparison = {q4: [-0.0, -10.0, -20.0],   # C1 070103, C2 070104, C6 070105 (by code)
                  q3: [-10.0, 10.0]}          # C3 070202, C5 070204
    t_draws = _draws(con, group, "T", "", 3)
    c_draws = {cell: _draws(con, group, "C", cell, len(v)) for cell, v in comparison.items()}
    effects = []
    for r in range(REPLICATES):
        cell_mean = {cell: np.mean([comparison[cell][k] for k in c_draws[cell][r]])
                     for cell in comparison}
        effects.append(np.mean([treated[k][2] - cell_mean[treated[k][1]] for k in t_draws[r]]))
    low, high = np.quantile(effects, [0.025, 0.975])
    row = effect_row(con, *group[:3])
    print(f"\nbootstrap: effect {row['effect']:.4f}, 95 % interval [{row['ci_low']:.4f}; "
          f"{row['ci_high']:.4f}] (recomputed [{low:.4f}; {high:.4f}])")
    assert row["ci_low"] == pytest.approx(low, abs=1e-8)
    assert row["ci_high"] == pytest.approx(high, abs=1e-8)
    assert row["ci_low"] < row["effect"] < row["ci_high"]
    assert (row["bootstrap_replicates"], row["bootstrap_seed"]) == (REPLICATES, SEED)


def test_two_builds_give_identical_tables(built):
    warehouse, tmp, first = built
    assert effects_table(warehouse) == first
    # the seed is a var: another seed gives the same estimates (the interval of these tiny
    # groups sits at the extremes of the possible replicates whatever the draws)
    other = tmp / "other_seed.duckdb"
    shutil.copy(warehouse, other)
    dbt(other, tmp, "run", "--select", "measure_effects",
        "--vars", '{"rsoko:measure_effect_seed": 7}')
    changed = effects_table(other)
    assert [r[:16] for r in changed] == [r[:16] for r in first]       # up to `effect`
    assert {r[-1] for r in changed} == {7} and {r[-1] for r in first} == {SEED}


def test_recommendations_acted_on_within_the_window(con):
    rows = {(y, school, rule): (acted, status) for y, school, rule, acted, status in
            con.execute("SELECT academic_year, school_code, rule_code, acted_on, "
                        "acted_on_status FROM marts.recommendations").fetchall()}
    # 2023 (window 01.09.2023–31.08.2024, register 2024 loaded): R1.2 at the 12 schools with
    # ≥ 3 marks «2» of 10; acted at T1, T2, T4, T5 (01.10.2023) and T3 (31.08.2024, the last
    # day); not at X1 (01.09.2024: one day late), C4 (its measure began before the window),
    # C5 (another kind) and the others (none)
    acted_2023 = {school for (y, school, rule), (acted, _) in rows.items()
                  if y == 2023 and rule == "R1.2" and acted}
    not_acted_2023 = {school for (y, school, rule), (acted, _) in rows.items()
                      if y == 2023 and rule == "R1.2" and acted is False}
    assert acted_2023 == {CODE[s] for s in ("T1", "T2", "T3", "T4", "T5")}
    assert not_acted_2023 == {CODE[s] for s in ("C1", "C2", "C3", "C4", "C5", "C6", "X1")}
    assert rows[(2023, CODE["T3"], "R1.2")][1] == "мера принята: M24-3 с 31.08.2024"
    # 2024: T2 is a low-results school (90 % after 40 %: repeat failing, квартиль 4) → R2.2
    # («методическое сопровождение»), none started in 2024/25
    assert rows[(2024, CODE["T2"], "R2.2")] == (False, "мера не принята")
    assert [k for k in rows if k[0] == 2024] == [(2024, CODE["T2"], "R2.2")]
    # 2025: the register of 2025/26 is not loaded
    assert {v for k, v in rows.items() if k[0] == 2025} == {(None, "ожидает реестра мер 2025/26")}


def test_recommendation_reads_like_a_methodologist(con):
    evidence, text, kind, responsible = con.execute(
        "SELECT evidence, recommendation, suggested_measure_kind, responsible_level "
        "FROM marts.recommendations WHERE academic_year = 2023 AND school_code = ? "
        "AND rule_code = 'R1.2'", [CODE["T3"]]).fetchone()
    # region 2023: 74 marks «2» of 200 results... 60 of 200 = 30,0 %
    assert evidence == ("ОГЭ 2022/23, доля отметок «2» (порог — 25 %): Математика — 60,0 % "
                        "(10 участников; по региону — 30,0 %).")
    assert text.startswith("Организовать адресное методическое сопровождение учителей ОО")
    assert "(Математика)" in text
    assert (kind, responsible) == ("методическое сопровождение", "МСУ")


def test_indicators_of_the_cycle(con):
    got = {(c, y, lvl, m): (num, den, val) for c, y, lvl, m, num, den, val in con.execute(
        "SELECT indicator_code, academic_year, level, municipality_code, numerator, "
        "denominator, value FROM marts.indicators WHERE indicator_code IN "
        "('RECOMMENDATIONS_ACTED_PCT', 'MEASURE_EFFECT_POSITIVE_PCT')").fetchall()}
    # 2024: 5 of the 12 recommendations of 2023 acted on; МСУ 07: T1, T2, T3 of 9; 012: T5,
    # T4 of 3 (T5, X1, T4)
    assert got[("RECOMMENDATIONS_ACTED_PCT", 2024, "region", None)] == (5, 12, approx(500 / 12))
    assert got[("RECOMMENDATIONS_ACTED_PCT", 2024, "municipality", "07")] == (3, 9, approx(100 / 3))
    assert got[("RECOMMENDATIONS_ACTED_PCT", 2024, "municipality", "012")] == (2, 3, approx(200 / 3))
    assert got[("RECOMMENDATIONS_ACTED_PCT", 2025, "region", None)] == (0, 1, 0.0)
    # evaluated in 2025 (t = 2024): three computed rows, none with ≥ 10 treated → no value
    assert got[("MEASURE_EFFECT_POSITIVE_PCT", 2025, "region", None)] == (0, 0, None)
