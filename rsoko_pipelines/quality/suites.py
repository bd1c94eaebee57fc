"""Load the expectation suites (``expectations/<name>.json``) — data, not code.

A suite file is a document in GX 1.x's own suite format::

    {"name": "ege", "meta": {...},
     "expectations": [{"type": "expect_column_values_to_be_between",
                       "kwargs": {"column": "test_score", "min_value": 0, "max_value": 100},
                       "meta": {"id": "ege.test_score.range", "severity": "error",
                                "description": "рус / en", "hint": "рус / en"}}, ...]}

and loads with ``great_expectations.core.ExpectationSuite(**document)``. Every expectation's
``meta`` carries our conventions:

``id``          unique name of the check (``<suite>.<what>``), used in reports and tests;
``severity``    ``error`` — blocking (the file is quarantined) or ``warning`` — a finding;
``description`` short Russian / English description; ``hint`` what the operator should do.

One suite per landing table: every source of ``settings.SOURCES`` plus the companion
``vpr_tasks`` / ``rpr_tasks`` / ``niko_tasks`` tables (the task levels Б/П/В live there).
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

from rsoko_pipelines.settings import EXPECTATIONS_DIR

SEVERITIES = ("error", "warning")


class SuiteError(ValueError):
    """A suite file is missing or breaks our conventions."""


def suite_path(name: str, directory: Path | None = None) -> Path:
    return (directory or EXPECTATIONS_DIR) / f"{name}.json"


def suite_names(directory: Path | None = None) -> list[str]:
    """Names of all suites present (file stems), sorted."""
    return sorted(p.stem for p in (directory or EXPECTATIONS_DIR).glob("*.json"))


def has_suite(name: str) -> bool:
    return suite_path(name).is_file()


@lru_cache(maxsize=None)
def _load_document(path: str) -> dict:
    p = Path(path)
    if not p.is_file():
        raise SuiteError(f"no expectation suite {p.name} in {p.parent}")
    doc = json.loads(p.read_text(encoding="utf-8"))
    _check_conventions(doc, p.name)
    return doc


def load_suite_document(name: str) -> dict:
    """The suite's JSON document (a deep copy: callers may modify it)."""
    return copy.deepcopy(_load_document(str(suite_path(name))))


def _check_conventions(doc: dict, label: str) -> None:
    if not isinstance(doc.get("expectations"), list) or not doc.get("name"):
        raise SuiteError(f"{label}: a suite needs 'name' and a list of 'expectations'")
    seen: set[str] = set()
    for i, exp in enumerate(doc["expectations"]):
        meta = exp.get("meta") or {}
        ident = meta.get("id")
        if not ident:
            raise SuiteError(f"{label}: expectation #{i} ({exp.get('type')}) has no meta.id")
        if ident in seen:
            raise SuiteError(f"{label}: duplicate meta.id {ident!r}")
        seen.add(ident)
        if meta.get("severity") not in SEVERITIES:
            raise SuiteError(f"{label}: {ident}: meta.severity must be one of {SEVERITIES}")
        for key in ("description", "hint"):
            if not meta.get(key):
                raise SuiteError(f"{label}: {ident}: meta.{key} is empty")


@lru_cache(maxsize=None)
def load_suite(name: str):
    """The suite as a GX ``ExpectationSuite`` (cached per process; do not mutate it)."""
    from great_expectations.core import ExpectationSuite

    from rsoko_pipelines.quality.gx_env import configure_gx_environment

    configure_gx_environment()
    return ExpectationSuite(**load_suite_document(name))


def clear_cache() -> None:
    _load_document.cache_clear()
    load_suite.cache_clear()
