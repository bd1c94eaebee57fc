"""Landing tables: created on first use from the parser's Arrow schema, with the column
descriptions of the extract metadata persisted as DuckDB comments."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from rsoko_pipelines.ingest.warehouse import first_row

def ensure_landing_table(con: duckdb.DuckDBPyConnection, table_name: str, table: pa.Table) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
    exists = first_row(
        con, "SELECT 1 FROM duckdb_tables() WHERE schema_name='raw' AND table_name=?",
        [table_name])
    if not exists:
        con.register("_template", table.slice(0, 0))
        con.execute(f"CREATE TABLE raw.{table_name} AS SELECT * FROM _template")
        con.unregister("_template")
        _comment(con, table_name)


def ensure_all_landing_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Create every landing table of the column maps that does not exist yet, empty, with
    its schema and comments; returns the tables created. A source no file was ever
    delivered for (every source is optional) then reads as empty in dbt instead of failing
    the staging model that selects from it."""
    from rsoko_pipelines.extract.schemas import landing_schemas

    created = []
    for name, schema in landing_schemas().items():
        exists = first_row(
            con, "SELECT 1 FROM duckdb_tables() WHERE schema_name='raw' AND table_name=?",
            [name])
        if not exists:
            ensure_landing_table(con, name, schema.empty_table())
            created.append(name)
    return created


def _comment(con: duckdb.DuckDBPyConnection, table_name: str) -> None:
    try:
        from rsoko_pipelines.extract.schemas import describe_table
    except ImportError:
        return
    table_doc, column_docs = describe_table(table_name)
    if table_doc:
        con.execute(f"COMMENT ON TABLE raw.{table_name} IS {_lit(table_doc)}")
    for column, doc in column_docs.items():
        con.execute(f'COMMENT ON COLUMN raw.{table_name}."{column}" IS {_lit(doc)}')


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
