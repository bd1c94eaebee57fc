"""`rsoko status`: what an operator checks in the morning, gathered without touching the
warehouse (a nightly load may hold its write lock): the Dagster instance (recent nights,
asset checks whose latest evaluation failed, the release step's state of every source ×
year), the quarantine reports and the published version with its data status (what is in
use, what is held back and why). Every part degrades to a note instead of failing."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path

from rsoko_pipelines.publish import versions
from rsoko_pipelines.settings import Settings

RUNS_SCANNED_FOR_CHECKS = 100   # checks are discovered from the evaluations of recent runs
NO_TEXT = "(no description: see the check's metadata in the Dagster UI)"


def _when(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).astimezone().isoformat(timespec="seconds")


def collect_status(settings: Settings, runs: int = 10) -> dict:
    return {"dagster": dagster_status(settings.dagster_home, runs),
            "quarantine": quarantined_files(settings.quarantine_dir),
            "published": published_status(settings.published_dir)}


def dagster_status(home: Path, runs: int = 10) -> dict:
    out = {"home": str(home), "available": False, "note": None,
           "runs": [], "failing_checks": [], "release": None}
    if not any((home / name).exists() for name in ("dagster.yaml", "history", "storage")):
        out["note"] = "no Dagster instance yet (nothing has run): run `rsoko nightly`"
        return out
    try:
        import dagster as dg

        os.environ["DAGSTER_HOME"] = str(home)
        with dg.DagsterInstance.get() as instance:
            records = instance.get_run_records(limit=max(runs, RUNS_SCANNED_FOR_CHECKS))
            out["runs"] = [_run(r) for r in records[:runs]]
            out["failing_checks"] = failing_checks(instance, records)
            out["release"] = release_state(instance)
            out["available"] = True
    except Exception as err:  # noqa: BLE001 - a status page reports, it does not crash
        out["note"] = "Dagster instance unreadable: " + (str(err).strip().splitlines() or ["?"])[0]
    return out


def _run(record) -> dict:
    from rsoko_pipelines.orchestration.names import COMPLETE_TAG, TRIGGER_TAG

    run = record.dagster_run
    return {"run_id": run.run_id, "job": run.job_name, "trigger": run.tags.get(TRIGGER_TAG),
            "complete": run.tags.get(COMPLETE_TAG), "status": run.status.value,
            "start": _when(record.start_time), "end": _when(record.end_time)}


def release_state(instance) -> dict | None:
    """The release step's latest report (raw/file_registry): the state of every source × year
    as the last night left it, even when that night did not publish."""
    import dagster as dg

    event = instance.get_latest_materialization_event(dg.AssetKey(["raw", "file_registry"]))
    if event is None or event.asset_materialization is None:
        return None
    metadata = event.asset_materialization.metadata
    text = lambda key: getattr(metadata.get(key), "value", None)   # noqa: E731
    return {"at": _when(event.timestamp), "release": text("release"),
            "held_back": text("held_back"), "sources": text("sources")}


def failing_checks(instance, records) -> list[dict]:
    """Asset checks whose latest completed evaluation did not pass.

    The instance has no "list all check keys" call without loading the code location, so
    the keys come from the evaluations recorded by the recent runs; each key's history
    then gives its latest result."""
    import dagster as dg

    keys = set()
    for record in records:
        events = instance.get_records_for_run(
            record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION).records
        for event in events:
            evaluation = event.event_log_entry.dagster_event.event_specific_data
            keys.add(dg.AssetCheckKey(evaluation.asset_key, evaluation.check_name))
    failing = []
    for key in sorted(keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        for rec in instance.event_log_storage.get_asset_check_execution_history(key, limit=20):
            if rec.status.value not in ("SUCCEEDED", "FAILED"):
                continue  # planned, never evaluated (run crashed or skipped)
            if rec.status.value == "FAILED":
                evaluation = rec.evaluation
                metadata = evaluation.metadata if evaluation else {}
                explanation = metadata.get("explanation") or metadata.get("findings")
                failing.append({
                    "asset": key.asset_key.to_user_string(), "check": key.name,
                    "run_id": rec.run_id, "at": _when(rec.create_timestamp),
                    "severity": evaluation.severity.value if evaluation else "ERROR",
                    "description": (evaluation.description if evaluation else None) or NO_TEXT,
                    "details": getattr(explanation, "value", None)})
            break   # the latest completed evaluation decides
    return failing


def quarantined_files(quarantine_dir: Path) -> list[dict]:
    """One entry per quarantine report `<quarantine>/<source>/<year>/<file>.report.json`,
    newest first; `present` is false once an operator removed the quarantined file."""
    from rsoko_pipelines.ingest.quarantine import QuarantineReport

    files = []
    for path in quarantine_dir.glob(f"*/*/*{QuarantineReport.SUFFIX}"):
        report = QuarantineReport.read(path)
        files.append({
            "source": report.source, "academic_year": report.academic_year,
            "file": report.file, "summary": report.summary,
            "present": Path(report.quarantined_as).exists(),
            "at": _when(path.stat().st_mtime), "report": str(path.with_suffix(".html"))})
    return sorted(files, key=lambda f: f["at"] or "", reverse=True)


def published_status(published_dir: Path) -> dict | None:
    manifest = versions.current_manifest(published_dir)
    if manifest is None:
        return None
    tables = manifest.get("tables", {})
    return {"version": manifest.get("version"), "published_at": manifest.get("published_at"),
            "git_commit": manifest.get("git_commit"),
            "data_status": manifest.get("data_status", []),
            "marts_kept_from_previous": manifest.get("marts_kept_from_previous", {}),
            "tables": {name: t.get("rows") for name, t in tables.items()},
            "source_files": len(manifest.get("source_files", [])),
            "kept_versions": [v["version"] for v in versions.list_versions(published_dir)],
            "database": str(published_dir / versions.DB_FILE)}
