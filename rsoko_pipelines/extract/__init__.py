"""Parsing of raw extracts into canonical landing tables (no DuckDB writes).

The column maps (the column maps (``extract/sources/<source>.yaml``)) are the metadata; ``schemas`` exposes them as pyarrow
schemas; ``parse_extract`` turns one inbox file into ``ParsedExtract.tables``.
"""

from rsoko_pipelines.extract.errors import ExtractError, ParsedExtract
from rsoko_pipelines.extract.parse import parse_extract, parse_only
from rsoko_pipelines.extract.pseudonym import Pseudonymizer
from rsoko_pipelines.extract.schemas import describe_table, landing_schema, landing_schemas

__all__ = ["ExtractError", "ParsedExtract", "Pseudonymizer", "describe_table",
           "landing_schema", "landing_schemas", "parse_extract", "parse_only"]
