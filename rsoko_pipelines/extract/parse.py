"""Entry points: ``parse_extract`` (the parser used by ingest) and ``parse_only`` (the
parse floor for benchmarks: the same decoding and parsing, no pseudonymisation HMAC)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from rsoko_pipelines.extract.errors import ExtractError, ParsedExtract
from rsoko_pipelines.extract.schemas import column_maps, source_spec


def _display_name(path: Path, source: str, academic_year: int) -> str:
    parts = path.parts
    if len(parts) >= 3 and parts[-3] == source and parts[-2] == str(academic_year):
        return "/".join(parts[-3:])
    return f"{source}/{academic_year}/{path.name}"


def parse_extract(path: Path | str, source: str, academic_year: int,
                  pseudonymizer) -> ParsedExtract:
    """Parse one raw extract into its landing table(s).

    ``pseudonymizer`` computes the keyed hashes of personal identifiers (``participant_key``
    of ГИА sheets, ``staff_key`` …; required for every source whose column map declares a
    ``derived: pseudonym`` column, ignored by the others). Raises ExtractError on a contract
    breach.
    """
    if pseudonymizer is None and source in column_maps()["sources"] \
            and source_spec(source).needs_pseudonymizer:
        raise ValueError(f"{source} extracts need a Pseudonymizer (see Pseudonymizer.from_env)")
    return _parse(Path(path), source, academic_year, pseudonymizer)


def parse_only(path: Path | str, source: str, academic_year: int) -> ParsedExtract:
    """The parse floor: decode + parse + cast, personal columns dropped, no HMAC
    (participant_key, staff_key … stay NULL), no validation, no writes."""
    return _parse(Path(path), source, academic_year, None)


def _parse(path: Path, source: str, academic_year: int, pseudonymizer) -> ParsedExtract:
    name = _display_name(path, source, academic_year)
    if source not in column_maps()["sources"]:
        raise ExtractError("unknown_source", f"{name}: unknown source {source!r}",
                           hint="put the file under one of: "
                                + ", ".join(column_maps()["sources"]))
    spec = source_spec(source)
    data = path.read_bytes()
    file_id = hashlib.sha256(data).hexdigest()
    warnings: list[str] = []
    if spec.format == "xlsx" and spec.get("layout", "form") == "table":
        from rsoko_pipelines.extract.xlsx_table import parse_xlsx_table

        tables, slice_, rows = parse_xlsx_table(path, data, spec, name, academic_year,
                                                file_id, pseudonymizer, warnings)
    elif spec.format == "xlsx":
        from rsoko_pipelines.extract.vpr import parse_vpr_source

        tables, slice_, rows = parse_vpr_source(path, data, spec, name, academic_year,
                                                file_id, warnings)
    else:
        from rsoko_pipelines.extract.csv_sources import parse_csv_source

        tables, slice_, rows = parse_csv_source(data, spec, name, academic_year, file_id,
                                                pseudonymizer, warnings)
    return ParsedExtract(source, academic_year, path, file_id, tables, slice_, rows, warnings)
