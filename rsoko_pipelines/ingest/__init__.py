"""Landing of raw extracts into the DuckDB `raw` schema: file registry, archive, quarantine."""
