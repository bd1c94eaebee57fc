"""ВсОШ results of the demo region (extracts.md ``olympiad``): CSV, UTF-8 without BOM, ``;``.

Per academic year: students of grades 4–11 of every active school take part in the school
stage (about a third of them, in one to a few subjects; better schools and abler students
take part more), the best of each municipality × subject × class of participation go on to
the municipal stage, the best of grades 9–11 to the regional stage, and a few of those to
the final. A student advances only from the previous stage of the same subject, keeps
their ``Идентификатор участника`` for the whole year and their class of participation
(which is sometimes above the class they study in). Status: winner/prize-winner by rank
within the stage's group, with a minimum share of the maximum score.

Files per year: the stages are exported in one of a few mixes (the school stage split into
two files, one file per stage, …); each file uses one decimal separator (comma or point)
and one spelling of «призёр»/«призер»; both of each occur every year.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from rsoko_pipelines import reference as ref
from rsoko_pipelines.demo.records import FileRecord

SOURCE = "olympiad"
STAGES = ("школьный", "муниципальный", "региональный", "заключительный")
COLUMNS = ["Этап", "Предмет", "Код ОО", "Идентификатор участника", "Класс обучения",
           "Класс участия", "Балл", "Максимальный балл", "Статус"]
PARTICIPANT, PRIZE_YO, PRIZE_E, WINNER = "участник", "призёр", "призер", "победитель"

# popularity of subjects at the school stage (by unified code; subjects without one: 0.5)
_POPULARITY = {"math": 3.0, "rus": 2.6, "eng": 2.0, "bio": 1.8, "soc": 1.8, "hist": 1.5,
               "lit": 1.5, "geo": 1.3, "phys": 1.3, "chem": 1.0, "inf": 1.0, "deu": 0.3,
               "fra": 0.2, "spa": 0.1}
# lowest class of participation per subject (school stage from grade 4 only in math, rus)
_MIN_GRADE = {"math": 4, "rus": 4, "phys": 7, "chem": 8}
_MIN_GRADE_BY_NAME = {"Право": 9, "Астрономия": 10, "Экономика": 7}
_MAX_SCORES = (100.0, 50.0, 60.0, 70.0, 80.0, 40.0, 30.0, 45.5, 72.5, 100.5)
_REGIONAL_GRADES = (9, 10, 11)
# the school stage awards participants with at least this share of the maximum score, and
# at most this share of a school's participants in a subject (regional regulations of ВсОШ:
# «не менее 50 % баллов», «не более 45 % участников»)
SCHOOL_STAGE_PRIZE_MIN = 0.5
SCHOOL_STAGE_QUOTA = 0.45
# a generous school stage (demo/planted.py): scores inflated by this (ability units), most
# participants awarded, no quota
GENEROUS_SCORE_SHIFT = 1.5
GENEROUS_AWARD_SHARE = 0.8
GENEROUS_PRIZE_MIN = 0.3


def _subjects() -> pd.DataFrame:
    df = ref.load("ref_olympiad_subjects").copy()
    code = df["subject_code"].fillna("")
    df["weight"] = [(_POPULARITY.get(c, 0.5) if c else 0.35) for c in code]
    df["min_grade"] = [
        _MIN_GRADE_BY_NAME.get(n, _MIN_GRADE.get(c, 5))
        for n, c in zip(df["subject_name_ru"], code)
    ]
    return df.reset_index(drop=True)


def _students(region, year: int) -> pd.DataFrame:
    """Students of grades 4–11 of the active schools (school index, grade)."""
    schools = region.schools_in(year)
    parts_school, parts_grade = [], []
    for grade in range(4, 12):
        inside = (schools["min_grade"].to_numpy() <= grade) & (schools["max_grade"].to_numpy() >= grade)
        col = "students_per_grade" if grade <= 9 else "students_per_senior_grade"
        n = np.where(inside, schools[col].to_numpy(dtype=np.int64), 0)
        parts_school.append(np.repeat(np.arange(len(schools)), n))
        parts_grade.append(np.full(int(n.sum()), grade, dtype=np.int8))
    return schools, np.concatenate(parts_school), np.concatenate(parts_grade)


def _ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unique pseudonymous ids like 'VS-3F9A1C07B2' (10 hex digits)."""
    vals = np.unique(rng.integers(0, 1 << 40, int(n * 1.05) + 16))
    while len(vals) < n:
        vals = np.unique(np.concatenate([vals, rng.integers(0, 1 << 40, n)]))
    vals = rng.permutation(vals)[:n]
    return np.array([f"VS-{v:010X}" for v in vals.tolist()], dtype=object)


def _rank_desc(groups: np.ndarray, score: np.ndarray, rng) -> tuple[np.ndarray, np.ndarray]:
    """0-based rank by descending score within each group (ties at random), group sizes."""
    order = np.lexsort((rng.random(len(score)), -score, groups))
    g_sorted = groups[order]
    starts = np.r_[0, np.flatnonzero(g_sorted[1:] != g_sorted[:-1]) + 1]
    sizes_sorted = np.diff(np.r_[starts, len(order)])
    idx_in_group = np.arange(len(order)) - np.repeat(starts, sizes_sorted)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = idx_in_group
    size = np.empty(len(order), dtype=np.int64)
    size[order] = np.repeat(sizes_sorted, sizes_sorted)
    return rank, size


def _status(rank, size, pct, win_min, prize_share, prize_min) -> np.ndarray:
    """0 participant, 1 prize-winner, 2 winner."""
    winner = (rank == 0) & (pct >= win_min)
    prize = ~winner & (rank < np.maximum(1, np.floor(size * prize_share))) & (pct >= prize_min)
    # the winner's place goes to a prize-winner if the best result is below the winner bar
    return np.where(winner, 2, np.where(prize, 1, 0)).astype(np.int8)


def _school_stage_awards(status: np.ndarray, school_subject: np.ndarray, score: np.ndarray,
                         pct: np.ndarray, generous: np.ndarray, rng) -> np.ndarray:
    """Winners and prize-winners of the school stage, as regional regulations of ВсОШ set
    them: a participant with at least SCHOOL_STAGE_PRIZE_MIN of the maximum is awarded, at
    most SCHOOL_STAGE_QUOTA of the school's participants in the subject (the best scores
    first); the winner of a class keeps its status. So the share awarded follows the
    students' level. A generous school ignores both: the best GENEROUS_AWARD_SHARE of its
    participants with at least GENEROUS_PRIZE_MIN are awarded."""
    rank, size = _rank_desc(school_subject, score, rng)
    cap = np.maximum(1, np.floor(size * SCHOOL_STAGE_QUOTA))
    awarded = (rank < cap) & (pct >= SCHOOL_STAGE_PRIZE_MIN)
    out = np.where(awarded, np.maximum(status, 1), 0).astype(np.int8)
    lavish = generous & (rank < np.floor(size * GENEROUS_AWARD_SHARE)) & (pct >= GENEROUS_PRIZE_MIN)
    return np.where(generous, np.where(lavish, np.maximum(status, 1), 0), out).astype(np.int8)


def _group_key(*cols: np.ndarray) -> np.ndarray:
    key = np.zeros(len(cols[0]), dtype=np.int64)
    for c in cols:
        c = np.asarray(c, dtype=np.int64)
        key = key * (int(c.max()) + 1 if len(c) else 1) + c
    return key


def simulate_olympiad(region, year: int) -> pd.DataFrame:
    """All participations of the year, one row per stage × subject × student."""
    rng = region.rng(SOURCE, year)
    schools, st_school, st_grade = _students(region, year)
    subj = _subjects()
    n_subj = len(subj)
    effect = schools["school_effect"].to_numpy(dtype=float)
    engagement = rng.normal(0.0, 0.45, len(schools))      # how much a school pushes the olympiad
    ability = effect[st_school] + rng.normal(0.0, 1.0, len(st_school))
    p_take = 1.0 / (1.0 + np.exp(-(-0.65 + 0.45 * ability + engagement[st_school])))
    takes = rng.random(len(st_school)) < p_take
    who = np.flatnonzero(takes)
    k = 1 + rng.binomial(5, np.clip(0.15 + 0.06 * ability[who], 0.02, 0.5))

    # class of participation: sometimes above the class of study (same for all stages)
    bump = rng.random(len(who))
    part_grade = np.minimum(11, st_grade[who] + np.where(bump < 0.04, 1, 0) + np.where(bump < 0.008, 1, 0))

    # subjects: weighted sample without replacement among those allowed for the class
    weights = subj["weight"].to_numpy(dtype=float)
    min_grade = subj["min_grade"].to_numpy()
    rows_s, rows_j = [], []
    for lo in range(0, len(who), 500_000):
        hi = min(len(who), lo + 500_000)
        g = part_grade[lo:hi]
        allowed = g[:, None] >= min_grade[None, :]
        keys = np.where(allowed, np.log(weights)[None, :] - np.log(-np.log(rng.random((hi - lo, n_subj)))),
                        -np.inf)
        top = np.argsort(-keys, axis=1)
        kk = np.minimum(k[lo:hi], allowed.sum(axis=1))
        take = np.arange(n_subj)[None, :] < kk[:, None]
        r_i, c_i = np.nonzero(take)
        rows_s.append(lo + r_i)
        rows_j.append(top[r_i, c_i])
    p_idx = np.concatenate(rows_s)           # index into who
    p_subj = np.concatenate(rows_j)
    stud = who[p_idx]
    ids = _ids(region.rng(SOURCE, year, "ids"), len(who))

    max_score = np.asarray(_MAX_SCORES)[region.rng(SOURCE, year, "max").integers(
        0, len(_MAX_SCORES), (len(STAGES), n_subj))]
    msu_idx = pd.factorize(schools["msu_code"])[0]

    out = []

    def emit(stage_i, sel_stud_pos, z):
        # sel_stud_pos: positions into the participation arrays (p_idx/p_subj)
        mx = max_score[stage_i, p_subj[sel_stud_pos]]
        pct = 1.0 / (1.0 + np.exp(-(0.85 * z - 0.35 + 0.25 * stage_i)))
        step = 0.5 if stage_i % 2 == 0 else 0.1
        score = np.round(np.minimum(pct, 1.0) * mx / step) * step
        return score, mx, score / mx

    # school stage; a generous school (demo/planted.py) reports inflated scores
    z0 = ability[stud] + rng.normal(0.0, 0.75, len(stud))
    all_pos = np.arange(len(stud))
    generous = (schools["is_olympiad_generous"].to_numpy(dtype=bool)[st_school[stud]]
                if "is_olympiad_generous" in schools else np.zeros(len(stud), dtype=bool))
    s0, m0, pct0 = emit(0, all_pos, z0 + np.where(generous, GENEROUS_SCORE_SHIFT, 0.0))
    grp0 = _group_key(st_school[stud], p_subj, part_grade[p_idx])
    rank0, size0 = _rank_desc(grp0, s0, rng)
    stat0 = _status(rank0, size0, pct0, 0.75, 0.25, 0.45)
    stat0 = _school_stage_awards(stat0, _group_key(st_school[stud], p_subj), s0, pct0, generous,
                                 region.rng(SOURCE, year, "school stage quota"))
    out.append((0, all_pos, s0, m0, stat0))

    # municipal stage: the best of each municipality × subject × class of participation
    grp_m = _group_key(msu_idx[st_school[stud]], p_subj, part_grade[p_idx])
    rank_m, size_m = _rank_desc(grp_m, s0, rng)
    adv1 = np.flatnonzero((rank_m < np.maximum(1, np.round(size_m * 0.21))) & (pct0 >= 0.25))
    z1 = 0.8 * z0[adv1] + 0.6 * rng.normal(0.0, 1.0, len(adv1)) + 0.2
    s1, m1, pct1 = emit(1, adv1, z1)
    rank1, size1 = _rank_desc(grp_m[adv1], s1, rng)
    stat1 = _status(rank1, size1, pct1, 0.75, 0.22, 0.45)
    out.append((1, adv1, s1, m1, stat1))

    # regional stage: grades 9–11, the best of the region per subject × class
    g1 = part_grade[p_idx[adv1]]
    elig = np.isin(g1, _REGIONAL_GRADES)
    grp_r = _group_key(p_subj[adv1], g1)
    rank_r, size_r = _rank_desc(np.where(elig, grp_r, -1 - grp_r), np.where(elig, s1, -1.0), rng)
    pick2 = elig & (rank_r < np.maximum(1, np.round(size_r * 0.40))) & (pct1 >= 0.3)
    adv2 = adv1[pick2]
    z2 = 0.8 * z1[pick2] + 0.6 * rng.normal(0.0, 1.0, len(adv2)) + 0.3
    s2, m2, pct2 = emit(2, adv2, z2)
    grp2 = _group_key(p_subj[adv2], part_grade[p_idx[adv2]])
    rank2, size2 = _rank_desc(grp2, s2, rng)
    stat2 = _status(rank2, size2, pct2, 0.6, 0.25, 0.45)
    out.append((2, adv2, s2, m2, stat2))

    # final stage: the very best of the regional stage per subject
    rank_f, size_f = _rank_desc(p_subj[adv2], s2, rng)
    pick3 = (rank_f < np.maximum(1, np.round(size_f * 0.02))) & (pct2 >= 0.6)
    adv3 = adv2[pick3]
    z3 = 0.8 * z2[pick3] + 0.6 * rng.normal(0.0, 1.0, len(adv3))
    s3, m3, pct3 = emit(3, adv3, z3)
    rank3, size3 = _rank_desc(p_subj[adv3], s3, rng)
    stat3 = _status(rank3, size3, pct3, 0.9, 0.35, 0.5)
    out.append((3, adv3, s3, m3, stat3))

    codes = schools["school_code"].to_numpy()
    names = subj["subject_name_ru"].to_numpy()
    frames = []
    for stage_i, pos, score, mx, stat in out:
        frames.append(pd.DataFrame({
            "stage": np.full(len(pos), stage_i, dtype=np.int8),
            "subject": names[p_subj[pos]],
            "school_code": codes[st_school[stud[pos]]],
            "participant_id": ids[p_idx[pos]],
            "grade": st_grade[stud[pos]].astype(np.int8),
            "part_grade": part_grade[p_idx[pos]].astype(np.int8),
            "score": score, "max_score": mx, "status": stat,
        }))
    df = pd.concat(frames, ignore_index=True)
    return df


def _fmt_decimal(x: np.ndarray, comma: bool) -> pd.Series:
    x = np.round(np.asarray(x, dtype=float), 2)
    integral = x == np.floor(x)
    s = pd.Series(np.where(integral, x.astype(np.int64).astype(str), x.astype(str)))
    return s.str.replace(".", ",", regex=False) if comma else s


def _fmt_decimals(x: np.ndarray, comma: np.ndarray) -> np.ndarray:
    """Per row: decimal comma where ``comma`` is true, a point elsewhere."""
    point = _fmt_decimal(x, False).to_numpy()
    return np.where(comma, pd.Series(point).str.replace(".", ",", regex=False).to_numpy(), point)


def _file_plans(rng: np.random.Generator) -> list[list[tuple[int, int | None]]]:
    """Stage mixes: a list of files, each a list of (stage, half of the school stage)."""
    options = [
        [[(0, 0)], [(0, 1)], [(1, None), (2, None), (3, None)]],          # school split in two
        [[(0, None)], [(1, None)], [(2, None), (3, None)]],                # by stage
        [[(0, None), (1, None)], [(2, None), (3, None)]],                   # two mixes
        [[(0, 0)], [(0, 1), (1, None)], [(2, None)], [(3, None)]],
    ]
    return options[int(rng.integers(0, len(options)))]


def generate_olympiad(region, out_dir: Path, years=None) -> list[FileRecord]:
    """Write the ВсОШ files of ``years`` (default: all) under ``<out_dir>/olympiad/<year>/``."""
    out_dir = Path(out_dir)
    years = list(region.years if years is None else ([years] if isinstance(years, int) else years))
    records = []
    for year in years:
        df = simulate_olympiad(region, year)
        rng = region.rng(SOURCE, year, "files")
        plan = _file_plans(rng)
        n_files = len(plan)
        comma = rng.random(n_files) < 0.5
        yo = rng.random(n_files) < 0.5
        comma[0], comma[-1] = True, False          # both separators every year
        yo[0], yo[-1] = True, False                # both spellings every year
        mixed = region.profile.olympiad_single_mixed_file
        if mixed:                                  # one file, every stage, mixed cells
            plan = [[(0, None), (1, None), (2, None), (3, None)]]
            r_mix = region.rng(SOURCE, year, "mixed cells")
        subj_names = sorted(df["subject"].unique())
        half_of_subject = {s: i % 2 for i, s in enumerate(subj_names)}
        half = df["subject"].map(half_of_subject).to_numpy()
        for f_i, parts in enumerate(plan):
            mask = np.zeros(len(df), dtype=bool)
            for stage, h in parts:
                m = df["stage"].to_numpy() == stage
                if h is not None:
                    m &= half == h
                mask |= m
            part = df[mask].sort_values(["stage", "subject", "school_code", "participant_id"],
                                        kind="stable")
            prize = PRIZE_YO if yo[f_i] else PRIZE_E
            status = np.array([PARTICIPANT, prize, WINNER], dtype=object)[part["status"].to_numpy()]
            row_comma = np.full(len(part), bool(comma[f_i]))
            if mixed:
                row_comma = r_mix.random(len(part)) < 0.5
                status = np.where((status == PRIZE_YO) & (r_mix.random(len(part)) < 0.5),
                                  PRIZE_E, status)
            out = pd.DataFrame({
                "Этап": np.asarray(STAGES, dtype=object)[part["stage"].to_numpy()],
                "Предмет": part["subject"].to_numpy(),
                "Код ОО": part["school_code"].to_numpy(),
                "Идентификатор участника": part["participant_id"].to_numpy(),
                "Класс обучения": part["grade"].to_numpy(),
                "Класс участия": part["part_grade"].to_numpy(),
                "Балл": _fmt_decimals(part["score"].to_numpy(), row_comma),
                "Максимальный балл": _fmt_decimals(part["max_score"].to_numpy(), row_comma),
                "Статус": status,
            })
            stages = sorted({STAGES[s] for s, _ in parts}, key=STAGES.index)
            name = ["vsosh", "ВсОШ", "olimp"][int(rng.integers(0, 3))]
            fname = f"{name}_{year}_{f_i + 1}_{'_'.join(s[:3] for s in stages)}.csv"
            rel = Path(SOURCE) / str(year) / fname
            path = out_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            out.to_csv(path, sep=";", index=False, encoding="utf-8", lineterminator="\n")
            quirks = (["decimal_comma" if comma[f_i] else "decimal_point",
                       "prize_yo" if yo[f_i] else "prize_e"] if not mixed
                      else ["decimal_mixed", "prize_spelling_mixed"])
            if (out["Класс участия"] > out["Класс обучения"]).any():
                quirks.append("participation_above_grade")
            records.append(FileRecord(source=SOURCE, academic_year=year, path=rel, rows=len(out),
                                      slice={"stages": stages}, quirks=tuple(quirks)))
    return records
