"""Read-only SQL against a published version (`rsoko sql`).

The connection is read-only and sandboxed: no file access beyond the database itself (so
no ATTACH of the warehouse, no COPY TO, no extension installs) and the configuration is
locked, so a query can neither take a write lock nor touch anything but the published copy.
`--out FILE` is written by this process from the streamed rows, never by DuckDB.

Results stream: DuckDB hands over Arrow record batches of `BATCH_ROWS` rows as it produces
them (a relation's Arrow reader; the DB-API cursor would materialise the whole result), so
the first rows of a 100-million-row select show at once and memory stays flat."""

from __future__ import annotations

import csv
import io
import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Iterator
from uuid import UUID

import duckdb

from rsoko_pipelines.publish.versions import published_database

SANDBOX = {"enable_external_access": False, "autoinstall_known_extensions": False,
           "autoload_known_extensions": False}
# Unqualified names resolve here (`FROM indicators`); `SHOW TABLES` lists the search path's
# tables, so it holds the marts only: reference tables keep their prefix
# (`reference.indicator_catalogue`), `SHOW ALL TABLES` lists everything.
SEARCH_SCHEMAS = ("marts", "main")
BATCH_ROWS = 10_000
DEFAULT_MAX_ROWS = 100
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit, less the header row


def max_rows_from_env(default: int = DEFAULT_MAX_ROWS) -> int:
    """Rows shown on screen: `RSOKO_SQL_MAX_ROWS` (default 100; 0 = no cap)."""
    value = os.environ.get("RSOKO_SQL_MAX_ROWS", "").strip()
    try:
        return max(int(value), 0) if value else default
    except ValueError:
        raise ValueError(f"RSOKO_SQL_MAX_ROWS must be a whole number, not {value!r}") from None


def connect(published_dir: Path, version: str | None = None) -> duckdb.DuckDBPyConnection:
    """A sandboxed, read-only connection to the published database whose search path
    makes the `marts.` prefix optional. Raises `NothingPublished`."""
    con = duckdb.connect(str(published_database(published_dir, version)), read_only=True,
                         config=SANDBOX)
    try:
        present = {r[0] for r in con.execute(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database()"
        ).fetchall()}
        path = ",".join(s for s in SEARCH_SCHEMAS if s in present)
        con.execute(f"SET search_path = '{path}'")
        con.execute("SET enable_progress_bar = false")  # a bar on stderr would garble output
        con.execute("SET lock_configuration = true")
    except BaseException:
        con.close()
        raise
    return con


@dataclass
class Streamed:
    """The result of the last statement as Arrow record batches (for `--out`): column names
    and a one-pass iterator (empty for a statement without a result, e.g. SET)."""
    columns: list[str]
    batches: Iterator


class Query:
    """The statements of `sql` on a sandboxed connection: all but the last run on opening;
    the last one is read either for the screen (`head` + `count_rest`: the DB-API cursor,
    whose first rows arrive before pyarrow is even imported) or whole (`batches`: Arrow
    record batches streamed from a relation; the cursor's Arrow reader would materialise).

    DuckDB's error messages are kept whole (hint, `LINE 1: …`, caret)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, sql: str):
        self.con = con
        statements = duckdb.extract_statements(sql)
        for statement in statements[:-1]:
            con.execute(statement.query)
        self.last = statements[-1].query.strip().rstrip(";").strip() if statements else ""
        self.is_select = bool(statements) and statements[-1].type.name == "SELECT"
        self.cursor = None
        self.reader = None
        self.columns: list[str] = []

    def head(self, max_rows: int) -> list[tuple]:
        """The first `max_rows` rows (all when 0), as soon as DuckDB produces them."""
        if not self.last:
            return []
        self.cursor = self.con.execute(self.last)
        if self.cursor.description is None:
            return []
        self.columns = [d[0] for d in self.cursor.description]
        return self.cursor.fetchall() if max_rows == 0 else self.cursor.fetchmany(max_rows)

    def count_rest(self, shown: int) -> int:
        """How many rows the result has after the `shown` ones. A select is counted by
        DuckDB as `count(*)` over the same statement (it reads only what the count needs:
        seconds for 100M rows where fetching them into Python would take minutes); other
        statements (SHOW, DESCRIBE, PRAGMA: small results) are drained."""
        if self.cursor is None or self.cursor.description is None \
                or self.cursor.fetchone() is None:
            return 0
        if not self.is_select:
            rest = 1
            while batch := self.cursor.fetchmany(BATCH_ROWS):
                rest += len(batch)
            return rest
        # a new statement on the connection ends the pending stream (DuckDB's `execute`
        # returns the connection itself: closing the "cursor" would close the connection)
        total = self.con.execute(f"SELECT count(*) FROM (\n{self.last}\n)").fetchone()[0]
        return max(total - shown, 0)

    def batches(self, batch_rows: int = BATCH_ROWS) -> Streamed:
        if not self.last:
            return Streamed([], iter(()))
        try:
            relation = self.con.sql(self.last)
        except BIND_ERRORS:
            # a relation's bind errors lack DuckDB's `LINE 1: …` and caret: bind the
            # statement once more through execute for the whole message (a bind error has
            # no side effect and fails the same way again)
            self.con.execute(self.last)
            raise
        if relation is None:
            return Streamed([], iter(()))
        self.reader = relation.to_arrow_reader(batch_rows)
        return Streamed(list(relation.columns), iter(self.reader))

    def close(self) -> None:
        """Release a reader left unfinished (an error while writing): a live reader keeps
        its query pending, and the next connection to the same file in this process would
        wait for it."""
        if self.reader is not None:
            self.reader.close()
            self.reader = None


BIND_ERRORS = (duckdb.BinderException, duckdb.CatalogException)


@contextmanager
def open_query(published_dir: Path, sql: str, version: str | None = None) -> Iterator[Query]:
    """Raises `NothingPublished` or `duckdb.Error`."""
    con = connect(published_dir, version)
    query = None
    try:
        query = Query(con, sql)
        yield query
    finally:
        if query is not None:
            query.close()
        con.close()


def run_query(published_dir: Path, sql: str,
              version: str | None = None) -> tuple[list[str], list[tuple]]:
    """(column names, all rows) of the last statement of `sql`: for small results in code."""
    with open_query(published_dir, sql, version) as query:
        rows = query.head(0)
        return query.columns, rows


# ----------------------------------------------------------------------------- --out FILE

OUT_FORMATS = (".csv", ".parquet", ".xlsx")


def write_result(result: Streamed, path: Path) -> int:
    """Write every row to `path` as CSV, Parquet or XLSX (by its extension); return the row
    count. Written to a temporary name and renamed, so a failure leaves no partial file."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in OUT_FORMATS:
        raise ValueError(f"--out {path.name}: the extension says the format, one of "
                         f"{', '.join(OUT_FORMATS)}")
    tmp = path.with_name(f".{path.name}.part")
    try:
        writer = {".csv": _write_csv, ".parquet": _write_parquet, ".xlsx": _write_xlsx}[suffix]
        rows = writer(result, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return rows


def _is_flat(schema) -> bool:
    import pyarrow.types as pt

    return not any(pt.is_nested(f.type) for f in schema)


def _write_csv(result: Streamed, path: Path) -> int:
    """pyarrow's CSV writer (C++) for flat results; nested values (lists, structs) as JSON
    through the standard csv module."""
    import pyarrow.csv as pcsv

    rows, writer = 0, None
    with path.open("wb") as handle:
        for batch in result.batches:
            if writer is None:
                writer = (pcsv.CSVWriter(handle, batch.schema,
                                         write_options=pcsv.WriteOptions(quoting_style="needed"))
                          if _is_flat(batch.schema)
                          else _NestedCsv(handle, result.columns))
            writer.write(batch)
            rows += batch.num_rows
        if writer is None:  # no rows: the header alone
            writer = _NestedCsv(handle, result.columns)
        writer.close()
    return rows


class _NestedCsv:
    def __init__(self, handle, columns: list[str]):
        self.text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
        self.writer = csv.writer(self.text, lineterminator="\n")
        self.writer.writerow(columns)

    def write(self, batch) -> None:
        self.writer.writerows([_cell(x) for x in r.values()] for r in batch.to_pylist())

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


def _write_parquet(result: Streamed, path: Path) -> int:
    import pyarrow.parquet as pq

    rows, writer = 0, None
    try:
        for batch in result.batches:
            if writer is None:
                writer = pq.ParquetWriter(path, batch.schema, compression="zstd")
            writer.write_batch(batch)
            rows += batch.num_rows
        if writer is None:  # no rows: still a valid file with the columns (as text)
            import pyarrow as pa

            schema = pa.schema([(c, pa.string()) for c in result.columns])
            writer = pq.ParquetWriter(path, schema)
    finally:
        if writer is not None:
            writer.close()
    return rows


def _write_xlsx(result: Streamed, path: Path) -> int:
    """XlsxWriter in constant-memory mode (each row is flushed as written). The batches are
    gathered first (a sheet holds at most ~1M rows, so this is bounded) so that a result
    too large for Excel fails at once instead of after a million rows were written."""
    import xlsxwriter

    batches, rows = [], 0
    for batch in result.batches:
        rows += batch.num_rows
        if rows > XLSX_MAX_ROWS:
            raise ValueError(f"the result has more than {XLSX_MAX_ROWS:,} rows, more than "
                             "an Excel sheet holds: write it to .csv or .parquet")
        batches.append(batch)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                           "remove_timezone": True})
    try:
        sheet = book.add_worksheet("result")
        bold = book.add_format({"bold": True})
        for col, name in enumerate(result.columns):
            sheet.write_string(0, col, name, bold)
        sheet.freeze_panes(1, 0)
        formats = {date: book.add_format({"num_format": "yyyy-mm-dd"}),
                   datetime: book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})}
        row = 0
        for batch in batches:
            for record in batch.to_pylist():
                row += 1
                for col, value in enumerate(record.values()):
                    _xlsx_cell(sheet, row, col, value, formats)
    finally:
        book.close()
    return rows


def _xlsx_cell(sheet, row: int, col: int, value, formats) -> None:
    if value is None:
        return  # NULL stays an empty cell (never 0)
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, (int, float, Decimal)):
        sheet.write_number(row, col, float(value))
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value, formats[datetime])
    elif isinstance(value, date):
        sheet.write_datetime(row, col, datetime(value.year, value.month, value.day),
                             formats[date])
    else:
        sheet.write_string(row, col, _cell(value))


# ----------------------------------------------------------------------------- stdout

def plain(value):
    """A JSON-friendly value: dates as ISO text, decimals as numbers, nested types kept."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (timedelta, UUID, bytes)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(x) for k, x in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(x) for x in value]
    return value


def as_json(columns: list[str], rows: list[tuple]) -> str:
    return json.dumps([{c: plain(x) for c, x in zip(columns, row)} for row in rows],
                      ensure_ascii=False, indent=2)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, dict)):
        return json.dumps(plain(value), ensure_ascii=False)
    return str(plain(value))


def as_csv(columns: list[str], rows: list[tuple]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([_cell(x) for x in row] for row in rows)
    return out.getvalue()
