"""Run an expectation suite on a landing frame with GX 1.x in an *ephemeral* context.

``validate_frame(source, df, context_tables=None) -> ValidationOutcome``

- the suite is ``expectations/<source>.json`` (:mod:`.suites`); ``source`` may also name a
  companion landing table (``vpr_tasks``); :func:`validate_tables` validates every table of a
  parsed extract that has a suite and merges the results into one outcome;
- ``df`` is a pandas DataFrame or a pyarrow Table in the landing schema
  (``rsoko_pipelines/extract/sources/<source>.yaml``); it is normalised to dtypes GX 1.24 handles
  reliably (text → object of ``str``, integers → nullable ``Int*``), never modified in place;
  a ``str`` type expectation on an Arrow string column is answered by the landing schema, not
  by GX (:func:`_text_by_schema`), and that column keeps its fast string dtype;
- ``context_tables`` maps ``"schools"`` to the registry of schools of the academic year
  (columns school_code, msu_code, gia_school_code, fis_login, status[, academic_year]; see
  :func:`.derived.context_from_warehouse`) and optionally ``ref_*`` names to replacement
  reference tables (default: the dbt seeds). Without a registry the known-school checks are
  *skipped* (reported, not blocking) — the ingest always passes one.

The cross-table checks are derived boolean columns (see :mod:`.derived` for why not
``UnexpectedRowsExpectation``). GX runs with ``result_format=SUMMARY``, the row numbers of
offending rows come from ``unexpected_index_column_names=['_source_line']`` (capped at
``max_rows`` per expectation; counts are always complete). No file is written by GX and usage
statistics are off (``GX_ANALYTICS_ENABLED=false``).

Severity: an expectation's ``meta.severity`` is ``error`` (blocking: ``outcome.success`` is
False when one fails) or ``warning`` (a finding, reported only). Marks vs the boundary seed use
two expectations on the same derived column: ``mostly: 0.99`` with severity ``error`` (more
than 1 % of the checked rows disagree → quarantine, the seed or the file is wrong) and
without ``mostly`` with severity ``warning`` (any disagreement is listed as a finding).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from rsoko_pipelines.quality.gx_env import configure_gx_environment

MAX_ROWS = 50        # row numbers kept per expectation (the count is always complete)
MAX_SAMPLES = 10     # distinct sample values kept per expectation
INDEX_COLUMN = "_source_line"
LINEAGE_COLUMNS = ("_file_id", "_source_line")


@dataclass
class ExpectationOutcome:
    name: str                         # meta.id, e.g. "ege.test_score.range"
    expectation_type: str
    column: str | None                # the column (or "a, b" for multi-column checks)
    success: bool | None              # None = skipped
    severity: str                     # "error" (blocking) | "warning"
    description: str = ""
    hint: str = ""
    table: str = ""
    columns: list[str] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)   # the file's own header(s) of columns
    status: str = ""                  # passed | failed | skipped
    element_count: int | None = None
    unexpected_count: int | None = None
    unexpected_percent: float | None = None
    observed_value: Any = None
    sample_values: list = field(default_factory=list)
    rows: list[int] = field(default_factory=list)   # _source_line of offending rows (capped)
    kwargs: dict = field(default_factory=dict)
    exception: str | None = None
    skipped_reason: str | None = None

    @property
    def blocking_failure(self) -> bool:
        return self.success is False and self.severity == "error"


@dataclass
class ValidationOutcome:
    source: str
    suite: str
    success: bool
    row_count: int
    expectations: list[ExpectationOutcome]
    seconds: float
    file_label: str | None = None
    academic_year: int | None = None
    file_id: str | None = None
    notes: list[str] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)   # table -> rows validated
    validated_at: str = ""
    gx_version: str = ""

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if e.success is False]

    @property
    def blocking_failures(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if e.blocking_failure]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if e.success is False and e.severity != "error"]

    @property
    def skipped(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if e.success is None]

    def get(self, name: str) -> ExpectationOutcome:
        for e in self.expectations:
            if e.name == name:
                return e
        raise KeyError(name)

    def totals(self) -> dict[str, int]:
        return {
            "evaluated": sum(1 for e in self.expectations if e.success is not None),
            "passed": sum(1 for e in self.expectations if e.success is True),
            "failed_error": len(self.blocking_failures),
            "failed_warning": len(self.warnings),
            "skipped": len(self.skipped),
        }

    def to_dict(self) -> dict:
        d = asdict(self)
        d["totals"] = self.totals()
        return _jsonable(d)


# --------------------------------------------------------------------------- GX plumbing
def _new_batch_definition():
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    # in-memory stores, no (temporary) Data Docs site, no analytics, no progress bars
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False))
    context = gx.get_context(project_config=config, mode="ephemeral")
    asset = context.data_sources.add_pandas("rsoko_landing").add_dataframe_asset("frame")
    return asset.add_batch_definition_whole_dataframe("whole_frame")


# --------------------------------------------------------------------------- frames
def to_gx_frame(data, object_columns=None, integer_columns=None) -> pd.DataFrame:
    """A pandas view/copy of ``data`` (DataFrame or pyarrow Table) with dtypes GX 1.24
    validates correctly and fast on pandas 3 (values are never changed):

    - integer columns without missing values → numpy ``int64`` (GX vectorises range checks
      only for numpy dtypes; on nullable ``Int*`` it loops in Python); with missing values
      they stay nullable ``Int*``;
    - nested Arrow columns (``task_scores`` lists) → their validity (True / None): no
      expectation looks inside them and converting lists to Python objects is slow;
    - Arrow-backed numeric/bool columns → their numpy/pandas equivalents;
    - the text columns in ``object_columns`` (those with a ``str`` type expectation) →
      ``object`` of ``str`` with None for missing: GX's type-list check does not recognise
      pandas 3's ``str`` dtype. Other text columns keep their (fast) string dtype;
    - the columns in ``integer_columns`` (an integer type expectation) that plain pandas
      turned into ``float64`` because of missing values → nullable ``Int64`` when every
      value is integral (otherwise they stay float and fail the type check).
    """
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover
        pa = None
    if pa is not None and isinstance(data, (pa.Table, pa.RecordBatch)):
        mapping = {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(),
                   pa.int32(): pd.Int32Dtype(), pa.int64(): pd.Int64Dtype(),
                   pa.bool_(): pd.BooleanDtype()}
        nested = [f.name for f in data.schema if pa.types.is_nested(f.type)]
        flat = data.drop_columns(nested) if nested else data
        df = flat.to_pandas(types_mapper=mapping.get)
        for name in nested:   # no expectation looks inside a list column (task_scores):
            # keep only its presence and validity, converting lists to Python is slow
            valid = data.column(name).is_valid().to_numpy(zero_copy_only=False)
            df[name] = pd.Series(valid, index=df.index).where(valid, None).astype(object)
        df = df[[f.name for f in data.schema]]
    elif isinstance(data, pd.DataFrame):
        df = data.copy(deep=False)
    else:
        raise TypeError(f"expected a pandas DataFrame or a pyarrow Table, got {type(data)!r}")
    object_columns = set(object_columns or ())
    integer_columns = set(integer_columns or ())
    for col in df.columns:
        series = df[col]
        dtype = series.dtype
        if col in integer_columns and pd.api.types.is_float_dtype(dtype) \
                and not isinstance(dtype, pd.ArrowDtype):
            values = series.dropna()
            if bool((values == values.round()).all()):
                series = series.astype("Int64")
                dtype = series.dtype
        if isinstance(dtype, pd.ArrowDtype):
            at = dtype.pyarrow_dtype
            if pa.types.is_integer(at):
                series = series.astype("Int64")
            elif pa.types.is_floating(at):
                series = series.astype("float64")
            elif pa.types.is_boolean(at):
                series = series.astype("boolean")
            elif not _is_arrow_text(at):
                series = series.astype(object)
            dtype = series.dtype
        if pd.api.types.is_integer_dtype(dtype) and not isinstance(dtype, pd.ArrowDtype):
            if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not series.hasnans:
                series = series.astype("int64")
        elif col in object_columns and (isinstance(dtype, (pd.StringDtype, pd.ArrowDtype))):
            obj = series.astype(object)
            series = obj.where(series.notna(), None)
        if series is not df[col]:
            df[col] = series
    return df


def _is_arrow_text(arrow_type) -> bool:
    import pyarrow as pa

    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def _text_by_schema(data, type_lists: Mapping[str, list]) -> set[str]:
    """The columns whose `str` type expectation the landing schema already answers: an Arrow
    string column holds text or nothing by construction. GX checks `str` only row by row, on
    a column converted to Python objects first (at tier S that was about 9 s per million rows
    of a survey batch for the two together), and would only repeat what the type says."""
    import pyarrow as pa

    if not isinstance(data, (pa.Table, pa.RecordBatch)):
        return set()
    text = set()
    for column, type_list in type_lists.items():
        if "str" in type_list and column in data.schema.names:
            if _is_arrow_text(data.schema.field(column).type):
                text.add(column)
    return text


def _passed_by_schema(out: "ExpectationOutcome", rows: int) -> None:
    out.success, out.status = True, "passed"
    out.element_count, out.unexpected_count, out.unexpected_percent = rows, 0, 0.0
    out.observed_value = "str (the column's type in the landing schema)"


def _referenced_columns(kwargs: Mapping) -> list[str]:
    cols = []
    for key in ("column", "column_A", "column_B"):
        if kwargs.get(key):
            cols.append(kwargs[key])
    cols.extend(kwargs.get("column_list") or [])
    return cols


# --------------------------------------------------------------------------- validation
def validate_frame(source: str, df, context_tables: Mapping | None = None, *,
                   file_label: str | None = None, max_rows: int = MAX_ROWS,
                   _batch_definition=None) -> ValidationOutcome:
    """Validate one landing frame against ``expectations/<source>.json``."""
    from rsoko_pipelines.quality.derived import add_derived_columns
    from rsoko_pipelines.quality.headers import file_headers, humanize
    from rsoko_pipelines.quality.suites import load_suite, load_suite_document

    configure_gx_environment()
    started = time.perf_counter()
    document = load_suite_document(source)
    type_lists = {e["kwargs"].get("column"): e["kwargs"].get("type_list") or []
                  for e in document["expectations"]
                  if e["type"] == "expect_column_values_to_be_in_type_list"}
    text_by_schema = _text_by_schema(df, type_lists)
    frame = to_gx_frame(
        df, object_columns=[c for c, tl in type_lists.items()
                            if "str" in tl and c not in text_by_schema],
        integer_columns=[c for c, tl in type_lists.items()
                         if "int64" in tl and "float64" not in tl])
    frame, notes = add_derived_columns(source, frame, context_tables)
    present = set(frame.columns)

    outcomes: dict[str, ExpectationOutcome] = {}
    to_run = []
    for exp in document["expectations"]:
        meta, kwargs = exp["meta"], exp.get("kwargs", {})
        cols = _referenced_columns(kwargs)
        out = ExpectationOutcome(
            name=meta["id"], expectation_type=exp["type"],
            column=", ".join(cols) if cols else None, columns=cols, success=None,
            severity=meta["severity"], description=humanize(meta.get("description", ""), source),
            hint=meta.get("hint", ""), table=source, headers=file_headers(source, cols),
            kwargs={k: v for k, v in kwargs.items() if k not in ("column", "column_list")})
        outcomes[out.name] = out
        absent = [c for c in cols if c not in present]
        if exp["type"] != "expect_column_to_exist" and absent:
            derived = [c for c in absent if c.startswith("_") and c not in LINEAGE_COLUMNS]
            out.status = "skipped"
            out.skipped_reason = (
                ("derived check not computed (no registry / missing input columns): "
                 if derived else "column missing (see the '.exists' check): ") + ", ".join(absent))
            continue
        if exp["type"] == "expect_column_values_to_be_in_type_list" \
                and kwargs.get("column") in text_by_schema:
            _passed_by_schema(out, len(frame))
            continue
        to_run.append(meta["id"])

    suite = load_suite(source)
    if len(to_run) != len(document["expectations"]):
        from great_expectations.core import ExpectationSuite

        keep = set(to_run)
        suite = ExpectationSuite(name=document["name"], meta=document.get("meta") or {},
                                 expectations=[e for e in load_suite_document(source)["expectations"]
                                               if e["meta"]["id"] in keep])
    result_format: dict[str, Any] = {"result_format": "SUMMARY",
                                     "partial_unexpected_count": max(max_rows, MAX_SAMPLES)}
    if INDEX_COLUMN in present:
        result_format["unexpected_index_column_names"] = [INDEX_COLUMN]
    gx_version = ""
    if to_run:
        import great_expectations as gx

        gx_version = gx.__version__
        batch_definition = _batch_definition or _new_batch_definition()
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        result = batch.validate(suite, result_format=result_format)
        for r in result.results:
            ident = (r.expectation_config.meta or {}).get("id")
            if ident in outcomes:
                _fill(outcomes[ident], r, max_rows)

    ordered = [outcomes[e["meta"]["id"]] for e in document["expectations"]]
    academic_year = None
    if "academic_year" in frame.columns and len(frame):
        years = frame["academic_year"].dropna().unique()
        academic_year = int(years[0]) if len(years) == 1 else None
    file_id = None
    if "_file_id" in frame.columns and len(frame):
        ids = frame["_file_id"].dropna().unique()
        file_id = str(ids[0]) if len(ids) == 1 else None
    return ValidationOutcome(
        source=source.removesuffix("_tasks"), suite=document["name"],
        success=not any(e.blocking_failure for e in ordered), row_count=len(frame),
        expectations=ordered, seconds=time.perf_counter() - started, file_label=file_label,
        academic_year=academic_year, file_id=file_id, notes=notes,
        tables={source: len(frame)},
        validated_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        gx_version=gx_version)


def validate_tables(tables: Mapping[str, Any], context_tables: Mapping | None = None, *,
                    source: str | None = None, file_label: str | None = None,
                    max_rows: int = MAX_ROWS) -> ValidationOutcome:
    """Validate every landing table of one parsed extract that has a suite (e.g. ``vpr`` and
    ``vpr_tasks``) and merge the results into one outcome (``ExpectationOutcome.table`` says
    which table). ``source`` defaults to the first table's name."""
    from rsoko_pipelines.quality.suites import has_suite

    names = [n for n in tables if has_suite(n)]
    if not names:
        raise KeyError(f"no expectation suite for any of {list(tables)}")
    main = source or next(iter(tables))
    if main in names:   # the main table first
        names.remove(main)
        names.insert(0, main)
    started = time.perf_counter()
    batch_definition = _new_batch_definition()
    parts = [validate_frame(n, tables[n], context_tables, file_label=file_label,
                            max_rows=max_rows, _batch_definition=batch_definition)
             for n in names]
    first = parts[0]
    return ValidationOutcome(
        source=main, suite="+".join(p.suite for p in parts),
        success=all(p.success for p in parts), row_count=first.row_count,
        expectations=[e for p in parts for e in p.expectations],
        seconds=time.perf_counter() - started, file_label=file_label,
        academic_year=first.academic_year, file_id=first.file_id,
        notes=[n for p in parts for n in p.notes],
        tables={k: v for p in parts for k, v in p.tables.items()},
        validated_at=first.validated_at, gx_version=first.gx_version)


def _fill(out: ExpectationOutcome, r, max_rows: int) -> None:
    res = dict(r.result or {})
    info = r.exception_info or {}
    if isinstance(info, dict) and info.get("raised_exception"):
        out.success = False
        out.status = "failed"
        out.exception = str(info.get("exception_message") or "exception")
        return
    out.success = bool(r.success)
    out.status = "passed" if out.success else "failed"
    out.element_count = _int(res.get("element_count"))
    out.unexpected_count = _int(res.get("unexpected_count"))
    pct = res.get("unexpected_percent")
    out.unexpected_percent = None if pct is None or (isinstance(pct, float) and math.isnan(pct)) \
        else round(float(pct), 4)
    if "observed_value" in res:
        out.observed_value = _jsonable(res["observed_value"])
    details = res.get("details")
    if details and not out.success:
        mismatched = (details.get("mismatched") or {}) if isinstance(details, dict) else {}
        if mismatched.get("missing"):
            out.sample_values = [str(v) for v in mismatched["missing"]][:MAX_SAMPLES]
    samples: list = []
    for value in res.get("partial_unexpected_list") or []:
        shown = _show(value)
        if shown not in samples:
            samples.append(shown)
        if len(samples) >= MAX_SAMPLES:
            break
    if samples:
        out.sample_values = samples
    rows = []
    for item in res.get("partial_unexpected_index_list") or []:
        if isinstance(item, Mapping) and item.get(INDEX_COLUMN) is not None:
            rows.append(int(item[INDEX_COLUMN]))
    out.rows = sorted(set(rows))[:max_rows]


def _int(v):
    try:
        return None if v is None else int(v)
    except (TypeError, ValueError):
        return None


def _show(value):
    """A sample value as plain JSON (dicts/tuples of a multi-column check as 'a | b')."""
    if isinstance(value, Mapping):
        return " | ".join(str(_jsonable(v)) for v in value.values())
    if isinstance(value, (tuple, list)):
        return " | ".join(str(_jsonable(v)) for v in value)
    return _jsonable(value)


def _jsonable(value):
    """numpy / pandas scalars, NA and containers → plain JSON-serialisable Python."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (bool, str)):
        return value
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item") and not isinstance(value, (int, float)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
