"""Great Expectations 1.x validation of landing data (our own small integration).

``dagster-ge`` supports only GX < 1.0, so we drive GX 1.x directly:

- :mod:`.suites`   — the suites are data: ``expectations/<name>.json`` (GX's own format);
- :mod:`.derived`  — the cross-table facts (known school, mark vs boundaries, …) as derived
  boolean columns computed with DuckDB against the registry and the reference seeds;
- :mod:`.validate` — ``validate_frame`` / ``validate_tables`` in an ephemeral GX context,
  returning a plain :class:`ValidationOutcome`;
- :mod:`.report`   — self-contained HTML + JSON report ("Data Docs equivalent");
- :mod:`.dagster_checks` — ``outcome_to_check_result`` for Dagster asset checks.

Importing this package is cheap: GX itself is imported on the first validation.
"""

from rsoko_pipelines.quality.validate import (  # noqa: F401
    ExpectationOutcome,
    ValidationOutcome,
    validate_frame,
    validate_tables,
)
