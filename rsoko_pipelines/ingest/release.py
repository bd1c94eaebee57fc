"""The release of landed files: which rows the models read tonight, per source × academic year.

A landed file is not read by the models until its source × year is *released*. So one bad
extract never holds back the others, and a held-back source × year keeps its last good data:

1. **Resolve quarantines.** A quarantined file blocks its source × year until a later file
   fills the same slice (the corrected extract, delivered after a release step held the
   source × year back; any later file of the source × year when the quarantined file could
   not even be parsed), or until an operator dismisses it (`rsoko quarantine dismiss`).
2. **Plan** (:func:`plan_release`): every source × year with new or corrected files and no
   unresolved quarantine becomes a *candidate*: its newest files are released, the files
   they correct are not (their rows stay in the landing until the commit, so the change can
   be undone). The build slices whose files changed go into `raw._build_scope`: the models
   rebuild exactly those. A changed school registry puts every slice of its year in scope
   (results are attached through it). `raw._slice_status` records what is held back and why.
3. **Revert** (:func:`revert`): a dbt test that fails on a candidate's rows holds that
   source × year back too: its previous release is restored and its slices rebuilt.
4. **Commit** (:func:`commit`): the release is final; the rows of the files it replaced
   leave the landing (the originals stay archived).

All of it is plain SQL on the registry (rsoko_pipelines.ingest.registry), so it survives a
crash at any point: an interrupted night is planned again from the same state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rsoko_pipelines.ingest import registry

ALL_SLICES = "*"          # every slice (the models or the reference data changed)
STATUS_ONLY = "-"         # no slice: the marts only refresh the release status

UNDO_DDL = """
CREATE TABLE IF NOT EXISTS raw._release_undo (
    source VARCHAR NOT NULL, academic_year INTEGER NOT NULL, file_id VARCHAR NOT NULL,
    released_before BOOLEAN NOT NULL, PRIMARY KEY (file_id)
);
COMMENT ON TABLE raw._release_undo IS
  'Выпуск этой ночи до подтверждения: как вернуть прежний / The uncommitted release of the night: how to restore the previous one';
"""


def _normalise(value) -> str:
    """Slice values as the models compare them (case, ё/е, spaces do not matter)."""
    text = "" if value is None else str(value)
    text = text.replace("\xa0", " ").replace("ё", "е").replace("Ё", "Е")
    return re.sub(r"\s+", " ", text).strip().casefold()


def build_slice_id(source: str, academic_year: int, slice_: dict | None) -> str:
    """`vpr|2025|русский язык|4`: the unit the models rebuild when a file of this slice
    changes, from the column map's `build_slice` fields (default: the source × year)."""
    from rsoko_pipelines.extract.schemas import source_spec

    try:
        fields = source_spec(source).get("build_slice") or []
    except KeyError:
        fields = []
    parts = [source, str(academic_year)]
    parts += [_normalise((slice_ or {}).get(f)) for f in fields]
    return "|".join(parts)


def ensure_state(con) -> None:
    registry.ensure_registry(con)
    con.execute(UNDO_DDL)
    # files registered before build slices existed: the source × year is their slice
    con.execute("UPDATE raw._file_registry SET build_slice = source || '|' || academic_year "
                "WHERE build_slice IS NULL AND status <> 'quarantined'")


@dataclass
class ReleasePlan:
    candidates: list[tuple[str, int]] = field(default_factory=list)
    held_back: dict[tuple[str, int], str] = field(default_factory=dict)
    scope: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = []
        if self.candidates:
            parts.append("released: " + ", ".join(f"{s} {y}" for s, y in self.candidates))
        if self.held_back:
            parts.append("held back: " + "; ".join(
                f"{s} {y} ({why})" for (s, y), why in sorted(self.held_back.items())))
        return "; ".join(parts) or "nothing new to release"


# "Later" = first seen after a release step had already held the quarantine's source × year
# back: a file delivered in the same batch as the broken one (a cold night) is not its
# correction — it lands in the same transaction *after* the quarantine, and would otherwise
# release the source × year at once, without the broken file's data and without a word.
_LATER_FILE = """
    FROM raw._file_registry AS later
    JOIN raw._slice_status AS held
      ON held.source = q.source AND held.academic_year = q.academic_year
     AND held.state = 'held_back'
    WHERE later.status IN ('loaded', 'superseded')
      AND later.source = q.source AND later.academic_year = q.academic_year
      AND later.first_seen_at > q.first_seen_at
      AND later.first_seen_at > coalesce(held.held_since, held.checked_at)
      AND (q.slice_key IS NULL OR later.slice_key = q.slice_key)"""


def resolve_quarantines(con) -> int:
    """Mark quarantined files resolved by a later landed file of the same slice (or, for a
    file that could not be parsed, of the same source × year). Returns how many."""
    return con.execute(f"""
        UPDATE raw._file_registry AS q
        SET resolved_at = current_timestamp,
            resolution = 'исправленный файл / corrected file: '
                         || (SELECT min(later.file_name) {_LATER_FILE})
        WHERE q.status = 'quarantined' AND q.resolved_at IS NULL
          AND EXISTS (SELECT 1 {_LATER_FILE})""").fetchone()[0]


def dismiss_quarantine(con, file_name_or_id: str, who: str) -> int:
    """An operator's decision: release the source × year without this quarantined file."""
    return con.execute("""
        UPDATE raw._file_registry SET resolved_at = current_timestamp,
            resolution = 'решение оператора / operator decision: ' || ?
        WHERE status = 'quarantined' AND resolved_at IS NULL
          AND (file_id = ? OR file_name = ? OR inbox_path = ?)""",
                       [who, file_name_or_id, file_name_or_id, file_name_or_id]).fetchone()[0]


def unresolved_quarantines(con) -> dict[tuple[str, int], str]:
    """{(source, year): why it is held back} for every source × year with a quarantined file
    that nothing has resolved yet."""
    rows = con.execute("""
        SELECT source, academic_year, count(*), min(file_name), min(first_seen_at)
        FROM raw._file_registry
        WHERE status = 'quarantined' AND resolved_at IS NULL
        GROUP BY ALL ORDER BY ALL""").fetchall()
    return {(s, y): (f"файл в карантине / file quarantined: {first}"
                     + (f" (+{n - 1})" if n > 1 else ""))
            for s, y, n, first, _ in rows}


def _changed_pairs(con) -> list[tuple[str, int]]:
    """Source × years whose newest files differ from what the models read."""
    return [tuple(r) for r in con.execute("""
        SELECT DISTINCT source, academic_year FROM raw._file_registry
        WHERE (status = 'loaded' AND NOT coalesce(released, false))
           OR (status = 'superseded' AND coalesce(released, false))
        ORDER BY ALL""").fetchall()]


def _year_slices(con, years) -> set[str]:
    """Every build slice of these years (a changed registry of schools touches them all)."""
    slices: set[str] = set()
    for year in sorted(set(years)):
        slices |= {r[0] for r in con.execute(
            "SELECT DISTINCT build_slice FROM raw._file_registry WHERE academic_year = ? "
            "AND status <> 'quarantined' AND build_slice IS NOT NULL", [year]).fetchall()}
    return slices


def _changed_slices(con) -> set[str]:
    """Build slices of the files whose release changes tonight (against `_release_undo`),
    plus every slice of a year whose registry of schools changes."""
    changed = con.execute("""
        SELECT DISTINCT r.source, r.academic_year, r.build_slice
        FROM raw._file_registry r JOIN raw._release_undo u USING (file_id)
        WHERE coalesce(r.released, false) <> u.released_before""").fetchall()
    slices = {b for _, _, b in changed if b}
    return slices | _year_slices(con, [y for s, y, _ in changed if s == "schools"])


def add_to_scope(con, slices, reason: str) -> None:
    for s in sorted(slices):
        con.execute("INSERT OR IGNORE INTO raw._build_scope (build_slice, reason) VALUES (?, ?)",
                    [s, reason])


def scope(con) -> list[str]:
    return [r[0] for r in con.execute(
        "SELECT build_slice FROM raw._build_scope ORDER BY 1").fetchall()]


def plan_release(con, held: dict[tuple[str, int], str] | None = None) -> ReleasePlan:
    """Release every changed source × year that nothing holds back (see the module doc).
    `held`: more source × years to hold back, with the reason. One transaction."""
    ensure_state(con)
    con.execute("BEGIN TRANSACTION")
    try:
        resolve_quarantines(con)
        held_back = {**unresolved_quarantines(con), **(held or {})}
        plan = ReleasePlan(held_back=held_back)
        for source, year in _changed_pairs(con):
            if (source, year) in held_back:
                continue
            con.execute(
                "INSERT OR IGNORE INTO raw._release_undo SELECT source, academic_year, file_id, "
                "coalesce(released, false) FROM raw._file_registry WHERE source = ? AND "
                "academic_year = ? AND status IN ('loaded', 'superseded')", [source, year])
            plan.candidates.append((source, year))
        for source, year in plan.candidates:
            con.execute("UPDATE raw._file_registry SET released = (status = 'loaded') "
                        "WHERE source = ? AND academic_year = ? AND status IN "
                        "('loaded', 'superseded')", [source, year])
        add_to_scope(con, _changed_slices(con), "new or corrected files")
        _record_status(con, held_back)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    plan.scope = scope(con)
    return plan


def _record_status(con, held_back: dict[tuple[str, int], str]) -> None:
    """raw._slice_status: one row per source × year that has files: current or held back."""
    pairs = con.execute("SELECT DISTINCT source, academic_year FROM raw._file_registry"
                        ).fetchall()
    for source, year in pairs:
        why = held_back.get((source, year))
        if why:
            con.execute("""
                INSERT INTO raw._slice_status (source, academic_year, state, reason, held_since)
                VALUES (?, ?, 'held_back', ?, current_timestamp)
                ON CONFLICT (source, academic_year) DO UPDATE SET
                    reason = excluded.reason, checked_at = now(),
                    held_since = CASE WHEN raw._slice_status.state = 'held_back'
                                      THEN raw._slice_status.held_since
                                      ELSE excluded.held_since END,
                    state = 'held_back'""", [source, year, why])
        else:
            con.execute("""
                INSERT INTO raw._slice_status (source, academic_year, state)
                VALUES (?, ?, 'current')
                ON CONFLICT (source, academic_year) DO UPDATE SET state = 'current',
                    reason = NULL, held_since = NULL, checked_at = now()""",
                        [source, year])


def revert(con, held: dict[tuple[str, int], str]) -> list[str]:
    """Hold these candidate source × years back after all: restore the release they had
    before tonight and put their slices back in scope (to be rebuilt from it)."""
    con.execute("BEGIN TRANSACTION")
    try:
        slices: set[str] = set()
        for (source, year), _why in held.items():
            slices |= {r[0] for r in con.execute(
                "SELECT DISTINCT r.build_slice FROM raw._file_registry r JOIN raw._release_undo "
                "u USING (file_id) WHERE u.source = ? AND u.academic_year = ? "
                "AND r.build_slice IS NOT NULL", [source, year]).fetchall()}
            if source == "schools":
                slices |= _year_slices(con, [year])
            con.execute(
                "UPDATE raw._file_registry AS r SET released = u.released_before "
                "FROM raw._release_undo u WHERE u.file_id = r.file_id AND u.source = ? "
                "AND u.academic_year = ?", [source, year])
            con.execute("DELETE FROM raw._release_undo WHERE source = ? AND academic_year = ?",
                        [source, year])
        con.execute("DELETE FROM raw._build_scope")
        add_to_scope(con, slices, "held back after a failing test: previous release")
        _merge_status(con, held)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return scope(con)


def _merge_status(con, held: dict[tuple[str, int], str]) -> None:
    for (source, year), why in held.items():
        con.execute("""
            INSERT INTO raw._slice_status (source, academic_year, state, reason, held_since)
            VALUES (?, ?, 'held_back', ?, current_timestamp)
            ON CONFLICT (source, academic_year) DO UPDATE SET state = 'held_back',
                reason = excluded.reason, checked_at = now(),
                held_since = CASE WHEN raw._slice_status.state = 'held_back'
                                  THEN raw._slice_status.held_since
                                  ELSE excluded.held_since END""",
                    [source, year, why])


def commit(con) -> int:
    """Make tonight's release final: stamp it, remove the rows of the files it replaced from
    the landing, empty the build scope. Returns the number of landing rows removed."""
    from rsoko_pipelines.ingest.tables import landing_tables_of

    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("UPDATE raw._file_registry SET released_at = current_timestamp "
                    "WHERE released AND released_at IS NULL AND status = 'loaded'")
        gone = con.execute(
            "SELECT source, list(file_id) FROM raw._file_registry WHERE status = 'superseded' "
            "AND NOT coalesce(released, false) AND file_id IN (SELECT file_id FROM "
            "raw._release_undo) GROUP BY source").fetchall()
        removed = 0
        for source, file_ids in gone:
            for table in landing_tables_of(con, source):
                removed += con.execute(
                    f"DELETE FROM raw.{table} WHERE _file_id IN (SELECT unnest(?::VARCHAR[]))",
                    [file_ids]).fetchone()[0]
        con.execute("DELETE FROM raw._release_undo")
        con.execute("DELETE FROM raw._build_scope")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return removed


def release_everything(con) -> ReleasePlan:
    """Plan and commit at once, without models in between (ingest-only tools and tests)."""
    plan = plan_release(con)
    commit(con)
    return plan
